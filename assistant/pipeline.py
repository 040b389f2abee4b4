"""``Assistant``: the one pipeline behind the CLI, the browser app and evaluation."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .extractive import ExtractiveAnswerer, compose
from .prompts import render
from .retrieval import HybridRetriever, search_query
from .settings import Settings, set_offline_switches
from .types import Answer, Chunk, Hit, Turn


class QuestionError(ValueError):
    """The question cannot be asked as given (empty, too long ...)."""


@dataclass(frozen=True)
class Lookup:
    chunk: Chunk
    document: str  # the whole original document text
    title: str

    def context(self, chars: int = 300) -> tuple[str, str, str]:
        """(before, passage, after) around the chunk."""
        a, b = self.chunk.start, self.chunk.end
        return self.document[max(0, a - chars) : a], self.document[a:b], self.document[b : b + chars]


class Assistant:
    def __init__(self, settings: Settings | None = None, embedder=None, llm=None):
        set_offline_switches()
        self.settings = settings or Settings.from_env()
        self._embedder = embedder
        self._index = None
        self._llm = llm
        self._extractive = None

    # ----------------------------------------------------------- components
    @property
    def embedder(self):
        if self._embedder is None:
            from .embeddings import SentenceEmbedder

            self._embedder = SentenceEmbedder(self.settings)
        return self._embedder

    @property
    def index(self):
        if self._index is None:
            from .index import Index

            self._index = Index(self.settings, self.embedder)
        return self._index

    @property
    def llm(self):
        if self._llm is None:  # also when mode="llm" is asked per question
            from .generative import LLMAnswerer

            self._llm = LLMAnswerer(self.settings)
        return self._llm

    @property
    def extractive(self) -> ExtractiveAnswerer:
        """The answer engine, kept between questions (its sentence vectors survive re-indexing)."""
        lexical = self.index.lexical
        if self._extractive is None or self._extractive.lexical is not lexical:
            vectors = self._extractive.vectors if self._extractive else None
            self._extractive = ExtractiveAnswerer(self.embedder, lexical, vectors=vectors)
        return self._extractive

    def text(self, name: str, **values) -> str:
        return render(self.settings.prompts_dir, name, **values)

    # ------------------------------------------------------------ documents
    def ingest(self, paths: Sequence[Path] | None = None, progress: bool = True, on_progress=None):
        return self.index.ingest(list(paths) if paths else None, progress=progress, on_progress=on_progress)

    def ensure_index(self, progress: bool = True):
        """Build or update the index over docs_dir when it is missing or stale."""
        if self.index.is_empty or self.index.stale():
            return self.ingest(progress=progress)
        return None

    def warm(self, max_sentences: int = 5000) -> int:
        """Embed the documents' sentences ahead of the first question (small corpora)."""
        from . import arabic

        texts = [t[a:b] for t in self.index.texts.values() for a, b in arabic.document_sentences(t)][:max_sentences]
        if not texts:
            return 0
        self.extractive.sentence_vectors(texts)
        return len(texts)

    def documents(self):
        return self.index.documents()

    def remove(self, source: str) -> bool:
        return self.index.remove(source)

    def lookup(self, chunk_id: str) -> Lookup:
        chunk = self.index.by_id.get(chunk_id.strip())
        if chunk is None:
            raise KeyError(f"no passage with id {chunk_id!r}")
        return Lookup(chunk, self.index.document_text(chunk.source), self.index.docs[chunk.source].title)

    def search(self, text: str, k: int = 10) -> list[Hit]:
        """Passages for free text (the lookup tab's search)."""
        if not text.strip() or self.index.is_empty:
            return []
        return HybridRetriever(self.index, k, self.settings.candidates, self.settings.rrf_k).retrieve(text, k)

    # --------------------------------------------------------------- asking
    def check_question(self, question: str) -> str:
        question = (question or "").strip()
        if not question:
            raise QuestionError("السؤال فارغ: اكتب سؤالاً. (The question is empty.)")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise QuestionError(
                f"السؤال طويل جداً ({len(question)} حرفاً، والحد {limit}). اختصره. (Question too long: {len(question)} > {limit} characters.)"
            )
        return question

    def retrieve(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None,
                 prefer_sources: Sequence[str] = ()) -> tuple[str, list[Hit]]:
        query = search_query(question, history)
        retriever = HybridRetriever(self.index, top_k or self.settings.top_k, self.settings.candidates, self.settings.rrf_k)
        return query, retriever.retrieve(query, prefer_sources=prefer_sources)

    def ask(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None,
            mode: str | None = None, prefer_sources: Sequence[str] = ()) -> Answer:
        answer = None
        for item in self.ask_stream(question, history, top_k, mode, prefer_sources):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def ask_stream(self, question: str, history: Sequence[Turn] = (), top_k: int | None = None,
                   mode: str | None = None, prefer_sources: Sequence[str] = ()) -> Iterator[str | Answer]:
        """Yield pieces of answer text as they are ready, then the final ``Answer``."""
        started = time.perf_counter()
        question = self.check_question(question)
        history = [tuple(t) for t in (history or [])]
        if self.index.is_empty:
            text = self.text("no_documents")
            yield text
            yield Answer(question, text, True, latency_ms=(time.perf_counter() - started) * 1000)
            return
        query, hits = self.retrieve(question, history, top_k, prefer_sources)
        mode = mode or self.settings.answer_mode
        notice = ""
        if mode == "llm":
            from .generative import LLMUnavailable

            try:
                final = None
                for item in self.llm.stream(question, history, hits, self.index.texts, self.text("refusal")):
                    if isinstance(item, str):
                        yield item
                    else:
                        final = item
                if final is not None:
                    text, citations, refused = final
                    yield Answer(question, text, refused, citations, tuple(hits),
                                 (time.perf_counter() - started) * 1000, "llm")
                    return
                notice = self.text("llm_unavailable", reason="no verifiable citation in the model's answer")
            except LLMUnavailable as exc:
                notice = self.text("llm_unavailable", reason=str(exc))
            yield "\n"
        _, chosen, confidence = self.extractive.answer(question, query, hits, self.index.texts)
        if not chosen or confidence < self.settings.refusal_threshold:
            text, citations, refused = self.text("refusal"), (), True
        else:
            text, citations = compose(chosen)
            refused = False
        yield from _pieces(text)
        yield Answer(question, text, refused, citations, tuple(hits), (time.perf_counter() - started) * 1000,
                     "extractive", notice, {"confidence": round(confidence, 4), "query": query})


def _pieces(text: str, size: int = 12) -> Iterator[str]:
    words = text.split(" ")
    for i in range(0, len(words), size):
        yield (" " if i else "") + " ".join(words[i : i + size])
