"""Small deterministic stand-ins used by the fast tests and by demos without a model."""

from __future__ import annotations

import hashlib

import numpy as np

from . import arabic
from .embeddings import ModelInfo


class HashingEmbedder:
    """Bag of normalised terms hashed into a fixed vector: similar words → similar vectors.

    Implements the same interface as ``SentenceEmbedder`` (langchain-compatible
    ``embed_documents`` / ``embed_query``), so the whole pipeline runs in milliseconds.
    """

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.info = ModelInfo("fake-hashing", "in memory", "", dim, "", "")
        self.calls = 0

    @property
    def fingerprint(self) -> str:
        return f"fake-hashing|{self.dim}"

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for t in arabic.terms(text):
            h = int(hashlib.md5(t.encode()).hexdigest(), 16)
            v[h % self.dim] += 1.0 if t.startswith("~") else 0.5
        n = np.linalg.norm(v)
        return v / n if n else v + 1.0 / np.sqrt(self.dim)

    def embed_many(self, texts, as_query: bool = False) -> np.ndarray:
        self.calls += len(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_documents(self, texts):
        return self.embed_many(list(texts)).tolist()

    def embed_query(self, text):
        return self._vector(text).tolist()


class ScriptedReader:
    """A reader that knows the answer to scripted questions: ``{question words: answer text}``.

    Same interface as ``reader.Reader.read``: for a scripted question, every occurrence of its answer in a
    passage is a span with positive evidence (the first passage scores best); anything else gets only
    a span with negative evidence (the reader would say "no answer").
    """

    def __init__(self, script: dict[str, str]):
        self.script = {arabic.normalize(q): a for q, a in script.items()}
        self.questions: list[str] = []
        self.one_line: list[bool] = []  # what each read was asked: spans kept to one line

    def read(self, question: str, passages: list[str], max_answer_tokens: int | None = None, per_sentence: bool = False,
             one_line: bool = False):
        from .reader import Span

        self.questions.append(question)
        self.one_line.append(one_line)
        norm = arabic.normalize(question)
        answer = next((a for q, a in self.script.items() if q in norm), None)
        spans = []
        for i, p in enumerate(passages):
            at = p.find(answer) if answer else -1
            if at >= 0:
                spans.append(Span(i, at, at + len(answer), 10.0 - i, 0.0))
            elif p.strip():
                spans.append(Span(i, 0, min(len(p), 5), -30.0, 0.0))  # far below any calibrated threshold
        return sorted(spans, key=lambda s: -s.evidence)
