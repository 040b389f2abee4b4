"""BM25 over normalised Arabic terms, backed by bm25s (sparse matrices: a query
touches only the postings of its own terms, so 100k+ passages stay fast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import arabic


class LexicalIndex:
    def __init__(self, model=None, size: int = 0):
        self._model = model
        self.size = size

    @classmethod
    def build(cls, texts: list[str]) -> LexicalIndex:
        import bm25s

        if not texts:
            return cls(None, 0)
        model = bm25s.BM25(k1=1.2, b=0.75)
        model.index([arabic.terms(t) for t in texts], show_progress=False)
        return cls(model, len(texts))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._model is not None:
            self._model.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        import bm25s

        if size == 0 or not (folder / "params.index.json").exists():
            return cls(None, 0)
        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0), size)

    def has_term(self, term: str) -> bool:
        return self._model is not None and term in self._model.vocab_dict

    def doc_freq(self, term: str) -> int:
        """In how many passages the term occurs (0 when unknown)."""
        if self._model is None or term not in self._model.vocab_dict:
            return 0
        j = self._model.vocab_dict[term]
        indptr = self._model.scores["indptr"]
        return int(indptr[j + 1] - indptr[j]) if j + 1 < len(indptr) else 0

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(row, score) pairs, best first, only rows that share a term with the query."""
        if self._model is None:
            return []
        tokens = [t for t in arabic.terms(query) if t in self._model.vocab_dict]
        if not tokens:
            return []
        scores = self._model.get_scores(tokens)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
