"""``Assistant``: the one pipeline behind the CLI, the browser app and evaluation."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from . import gazetteer, reading
from .analysis import Analysis, analyse, has_content
from .extractive import ExtractiveAnswerer, compose
from .prompts import render
from .retrieval import HybridRetriever
from .settings import Settings, set_offline_switches
from .types import Answer, Chunk, Hit, ShortAnswer, Turn

# English / Latin-script questions read by a reader whose card gives no threshold (the main reader's value)
DEFAULT_LATIN_THRESHOLD = -14.172


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
    def __init__(self, settings: Settings | None = None, embedder=None, llm=None, reader=None, latin_reader=None):
        set_offline_switches()
        self.settings = settings or Settings.from_env()
        self._embedder = embedder
        self._index = None
        self._llm = llm
        self._extractive = None
        self._reader = reading.ReaderAnswerer(reader) if reader is not None else None
        self.reader_error = ""  # why the reader is not used (shown once as a notice)
        # English / Latin-script questions: their own reader when one is given or shipped, else the main one
        # (a given main reader with no Latin one reads everything: tests' scripted readers)
        self._latin_reader = reading.ReaderAnswerer(latin_reader) if latin_reader is not None else (
            False if reader is not None else None)
        self.latin_reader_error = ""
        self._answerability = None  # AnswerabilityModel, False when absent or unreadable
        self._selector = None  # passage selector (AnswerabilityModel), False when absent or unreadable
        self._latin_selector = None  # the same for questions in Latin script
        self._glossary = None  # English words in the documents' Arabic (``glossary.Glossary``)
        self.answerability_error = ""

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

    def _load_reader(self, weights_dir: Path) -> reading.ReaderAnswerer:
        """A trained reader on the embedder's own e5 (its embeddings, frozen layers and tokenizer are shared)."""
        from .embeddings import resolve_model
        from .reader import Reader, check_weights, shared_encoder

        check_weights(weights_dir)
        base = getattr(getattr(self.embedder, "info", None), "path", "") or resolve_model(self.settings).path
        shared = shared_encoder(self.embedder)
        tokenizer = getattr(self.embedder, "tokenizer", None) if shared is not None else None
        return reading.ReaderAnswerer(
            Reader(base, weights_dir, shared=shared, tokenizer=tokenizer, consensus=self.settings.reader_consensus,
                   dtype=self.settings.reader_dtype),
            sentences=self.settings.reader_sentences)

    @property
    def reader(self) -> reading.ReaderAnswerer | None:
        """The trained span reader, or None (with ``reader_error`` set) when its weights cannot be used."""
        if self._reader is None and not self.reader_error:
            from .reader import ReaderUnavailable

            try:
                self._reader = self._load_reader(self.settings.reader_dir)
            except (ReaderUnavailable, OSError, ValueError) as exc:
                self.reader_error = str(exc)
        return self._reader

    @property
    def latin_reader(self) -> reading.ReaderAnswerer | None:
        """The reader of English / Latin-script questions: the reader in ``latin_reader_dir`` (the main one trained
        further on English questions) when its folder holds one and it loads, else the main reader
        (``latin_reader_error`` says why when the folder holds a card or weights that do not load)."""
        if self._latin_reader is None:
            from .reader import CARD_FILE, WEIGHTS_FILE, ReaderUnavailable

            directory = Path(self.settings.latin_reader_dir)
            self._latin_reader = False
            # a folder with a card or weights is a reader (its card may name other weights files: ``members``);
            # one that does not load says why
            present = any((directory / name).is_file() for name in (CARD_FILE, WEIGHTS_FILE))
            if present and self.reader is not None:
                try:
                    self._latin_reader = self._load_reader(directory)
                except (ReaderUnavailable, OSError, ValueError) as exc:
                    self.latin_reader_error = str(exc)
        return self._latin_reader or self.reader

    def latin_threshold(self) -> float:
        """The evidence threshold of English / Latin-script questions: the setting when given, else the card of the
        reader that reads them (the Latin reader's, or the main reader's when the Latin one is absent or broken)."""
        if self.settings.reader_latin_threshold is not None:
            return self.settings.reader_latin_threshold
        card = getattr(getattr(self.latin_reader, "reader", None), "card", None) or {}
        value = (card.get("latin_threshold") or {}).get("value")
        return float(value) if isinstance(value, int | float) else DEFAULT_LATIN_THRESHOLD

    def reader_for(self, analysis: Analysis) -> reading.ReaderAnswerer | None:
        """The reader of this question: the Latin one for English / Latin-script questions, else the main one."""
        return self.latin_reader if analysis.language != "ar" else self.reader

    def _load_model(self, file_name: str, directory: Path | None = None):
        from .answerability import AnswerabilityModel

        path = Path(directory or self.settings.reader_dir) / file_name
        try:
            return AnswerabilityModel.load(path) if path.is_file() else False
        except ValueError as exc:
            self.answerability_error = str(exc)
            return False

    @property
    def answerability(self):
        """The learned refusal model shipped beside the reader's weights, or None (evidence threshold alone)."""
        if self._answerability is None:
            from .answerability import MODEL_FILE

            self._answerability = self._load_model(MODEL_FILE)
        return self._answerability or None

    @property
    def selector(self):
        """The learned passage selector shipped beside the reader's weights, or None (highest evidence wins)."""
        if self._selector is None:
            from .answerability import SELECTOR_FILE

            self._selector = self._load_model(SELECTOR_FILE)
        return self._selector or None

    @property
    def latin_selector(self):
        """The passage selector for English / Latin-script questions (language-independent features), or None:
        the one beside the Latin reader's weights when that reader is used (it is fitted on its scores)."""
        if self._latin_selector is None:
            from .answerability import LATIN_SELECTOR_FILE

            own = self.latin_reader is not self.reader  # (when there is no reader at all, both are None)
            self._latin_selector = self._load_model(
                LATIN_SELECTOR_FILE, self.settings.latin_reader_dir if own else None)
        return self._latin_selector or None

    def candidate_features(self, analysis: Analysis, candidates: Sequence[reading.Reading], view=None) -> list[dict]:
        """The answerability features of every candidate (``answerability.candidate_features``), with the e5
        similarity of the query to each candidate's quote (sentence vectors are cached between questions)."""
        from . import answerability

        view = view or self.index.view()
        lexical = view.lexical
        return answerability.candidate_features(analysis, candidates, view.texts, lexical.doc_freq,
                                                max(lexical.size, 1), self._similarities(analysis, candidates, view.texts))

    def _similarities(self, analysis: Analysis, candidates: Sequence[reading.Reading], texts: dict[str, str]) -> list[float]:
        if not candidates:
            return []
        import numpy as np

        quotes = [texts[c.hit.chunk.source][c.quote_start : c.quote_end] for c in candidates]
        query = np.asarray(self.embedder.embed_query(analysis.asked))
        return [float(x) for x in self.extractive.sentence_vectors(quotes) @ query]

    def choose(self, analysis: Analysis, candidates: Sequence[reading.Reading], view=None
               ) -> tuple[reading.Reading | None, dict | None]:
        """Which passage's span answers, and its features: the learned selector (Arabic questions) or the Latin
        one (other scripts), else the highest evidence. Features are computed once here and reused by ``judge``."""
        if not candidates:
            return None, None
        latin = analysis.language != "ar"
        selector = self.latin_selector if latin else self.selector
        if selector is None and (latin or self.answerability is None):  # nothing learned needs the features
            return max(candidates, key=lambda r: r.evidence), None
        feats = self.candidate_features(analysis, candidates, view)
        score = (lambda i: selector.logit(feats[i])) if selector is not None else (lambda i: candidates[i].evidence)
        k = max(range(len(candidates)), key=score)
        return candidates[k], feats[k]

    def judge(self, analysis: Analysis, found: reading.Reading, feats: dict | None = None,
              texts: dict[str, str] | None = None) -> tuple[bool, dict]:
        """Answer or refuse a reading: the learned model for Arabic questions, the evidence threshold otherwise."""
        debug: dict = {"evidence": round(found.evidence, 4)}
        model = self.answerability
        if analysis.language != "ar":
            # across scripts word coverage means nothing: the reader's evidence (its own threshold: an English
            # question over Arabic text scores lower), and a place or number the question names must be in the document
            missing = gazetteer.missing(analysis.named, texts[found.hit.chunk.source]) if texts else 0.0
            debug["named_missing_document"] = round(missing, 4)
            return found.evidence >= self.latin_threshold() and missing < 1.0, debug
        if model is None or feats is None:
            return found.evidence >= self.settings.reader_threshold, debug
        p = model.probability(feats)
        debug.update(answerable=round(p, 4), features={k: round(v, 4) for k, v in feats.items()})
        return p >= self.settings.reader_min_confidence, debug

    def text(self, name: str, **values) -> str:
        return render(self.settings.prompts_dir, name, **values)

    # ------------------------------------------------------------ documents
    def ingest(self, paths: Sequence[Path] | None = None, progress: bool = True, on_progress=None):
        return self.index.ingest(list(paths) if paths else None, progress=progress, on_progress=on_progress)

    def ensure_index(self, progress: bool = True, on_problem=None):
        """Check the index's health, mend it from docs_dir when something is wrong (saying so in one line
        through ``on_problem``), and build or update it when it is missing or stale."""
        health = self.index.health()
        if not health.ok:
            if on_problem:
                on_problem(health.line() + " — rebuilding from " + str(self.settings.docs_dir))
            return self.index.rebuild(progress=progress)
        if self.index.is_empty or self.index.stale():
            return self.ingest(progress=progress)
        return None

    def warm(self, max_sentences: int = 5000, max_words: int = 5000) -> int:
        """Embed the documents' sentences (answer scoring) and, when the gloss is on, their words (English
        questions) ahead of the first question (small corpora)."""
        from . import arabic

        texts = [t[a:b] for t in self.index.texts.values() for a, b in arabic.document_sentences(t)][:max_sentences]
        if not texts:
            return 0
        self.extractive.sentence_vectors(texts)
        if self.settings.gloss_similarity > 0:
            from .glossary import passage_words

            words = passage_words(self.index.texts.values())
            if len(words) <= max_words:
                self.glossary.vectors(words)
        return len(texts)

    def documents(self):
        self.index.refresh()
        return self.index.documents()

    def remove(self, source: str) -> bool:
        return self.index.remove(source)

    def lookup(self, chunk_id: str) -> Lookup:
        self.index.refresh()
        view = self.index.view()
        chunk = view.by_id.get(chunk_id.strip())
        if chunk is None:
            raise KeyError(f"no passage with id {chunk_id!r}")
        return Lookup(chunk, view.document_text(chunk.source), view.docs[chunk.source].title)

    def search(self, text: str, k: int = 10) -> list[Hit]:
        """Passages for free text (the lookup tab's search)."""
        self.index.refresh()
        view = self.index.view()
        if not text.strip() or view.is_empty:
            return []
        return HybridRetriever(view, k, self.settings.candidates, self.settings.rrf_k).retrieve(text, k)

    # --------------------------------------------------------------- asking
    def check_question(self, question: str) -> str:
        question = (question or "").strip()
        if not question:
            raise QuestionError("السؤال فارغ: اكتب سؤالاً. (The question is empty.)")
        if not has_content(question):
            raise QuestionError("السؤال لا يحتوي على كلمات: اكتب سؤالاً بالحروف أو الأرقام. (The question has no words.)")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise QuestionError(
                f"السؤال طويل جداً ({len(question)} حرفاً، والحد {limit}). اختصره. (Question too long: {len(question)} > {limit} characters.)"
            )
        return question

    def check_history(self, history: Sequence[Turn] | None) -> list[Turn]:
        """The conversation, capped: the last ``max_history_turns`` turns, each side cut to
        ``max_question_chars`` (so a huge history cannot bypass the question limit)."""
        history = [tuple(str(x) for x in t) for t in (history or [])]
        if any(len(t) != 2 for t in history):
            raise QuestionError("السجل يجب أن يكون أزواجاً (سؤال، جواب). (History must be (user, assistant) pairs.)")
        limit = self.settings.max_question_chars
        return [(u[:limit], a[:limit]) for u, a in history[-self.settings.max_history_turns :]]

    def retrieve(self, analysis: Analysis, top_k: int | None = None, prefer_sources: Sequence[str] = (),
                 view=None) -> list[Hit]:
        """Hybrid search over ``view`` (one generation, fixed for the question) or the one served now."""
        retriever = HybridRetriever(view or self.index.view(), top_k or self.settings.top_k, self.settings.candidates, self.settings.rrf_k)
        return retriever.retrieve(analysis.query, prefer_sources=prefer_sources, also=analysis.also_search)

    @property
    def glossary(self):
        if self._glossary is None:
            from .glossary import Glossary

            self._glossary = Glossary(self.embedder, self.settings.gloss_similarity)
        return self._glossary

    def find(self, analysis: Analysis, top_k: int | None = None, prefer_sources: Sequence[str] = (),
             view=None) -> tuple[Analysis, list[Hit]]:
        """Retrieve; a question in another script is then glossed with the Arabic words of what was found
        (``glossary``: «trained» → «تدريب») for the reader to read with it."""
        view = view or self.index.view()
        hits = self.retrieve(analysis, top_k, prefer_sources, view)
        if analysis.language == "ar" or self.settings.gloss_similarity <= 0 or not hits:
            return analysis, hits
        return self.glossary.read(analysis, [h.chunk.text for h in hits]), hits

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
        history = self.check_history(history)
        self.index.refresh()  # follow documents added or removed by any other writer
        view = self.index.view()  # this question reads one generation from start to end
        if view.is_empty:
            text = self.text("no_documents")
            yield text
            yield Answer(question, text, True, latency_ms=(time.perf_counter() - started) * 1000)
            return
        mode = mode or self.settings.answer_mode
        analysis = analyse(question, history)
        if mode == "extractive":
            analysis = analysis.without_hint()
            hits = self.retrieve(analysis, top_k, prefer_sources, view)
        else:
            analysis, hits = self.find(analysis, top_k, prefer_sources, view)
        notice = ""
        if mode == "llm":
            from .generative import LLMUnavailable

            try:
                final = None
                for item in self.llm.stream(question, history, hits, view.texts, self.text("refusal")):
                    if isinstance(item, str):
                        yield item
                    else:
                        final = item
                if final is not None:
                    text, citations, refused = final
                    yield Answer(question, text, refused, citations, tuple(hits),
                                 (time.perf_counter() - started) * 1000, "llm")
                    return
                notice = self.text("llm_unverified")
            except LLMUnavailable as exc:
                notice = self.text("llm_unavailable", reason=exc.arabic)
            yield "\n"
        local = mode if mode in ("reader", "extractive") else self.settings.answer_mode
        answer = self.answer_locally(analysis, hits, local if local != "llm" else "reader", view)
        yield from _pieces(answer.answer)
        yield replace(answer, latency_ms=(time.perf_counter() - started) * 1000,
                      notice=" ".join(x for x in (notice, answer.notice) if x))

    def answer_locally(self, analysis: Analysis, hits: list[Hit], engine: str = "reader", view=None) -> Answer:
        """Read (trained reader) or pick sentences (sentence engine), then compose or refuse."""
        question = analysis.question
        view = view or self.index.view()
        texts = view.texts
        reader = self.reader_for(analysis) if engine == "reader" else None
        if reader is not None:
            found, feats = self.choose(analysis, reader.candidates(analysis, hits, texts), view)
            ok, debug = self.judge(analysis, found, feats, texts) if found else (False, {"evidence": None})
            debug["query"] = analysis.query
            if analysis.gloss:
                debug["gloss"] = analysis.gloss  # what an English question was read with (``glossary``)
            if not ok:
                return Answer(question, self.text("refusal"), True, (), tuple(hits), mode="reader", debug=debug)
            if analysis.is_list:
                found = reading.as_list(found, texts)
            text, citations, short = reading.compose(found, texts)
            return Answer(question, text, False, citations, tuple(hits), mode="reader", short_answer=short, debug=debug)
        notice = self.text("reader_unavailable", reason=self.reader_error) if engine == "reader" else ""
        _, chosen, confidence = self.extractive.answer(question, analysis.without_hint().query, hits, texts)
        debug = {"confidence": round(confidence, 4), "query": analysis.query}
        if not chosen or confidence < self.settings.refusal_threshold:
            return Answer(question, self.text("refusal"), True, (), tuple(hits), mode="extractive", notice=notice, debug=debug)
        text, citations = compose(chosen)
        return Answer(question, text, False, citations, tuple(hits), mode="extractive", notice=notice,
                      short_answer=ShortAnswer(), debug=debug)


def _pieces(text: str, size: int = 12) -> Iterator[str]:
    words = text.split(" ")
    for i in range(0, len(words), size):
        yield (" " if i else "") + " ".join(words[i : i + size])
