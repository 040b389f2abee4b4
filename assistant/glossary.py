"""An English question's words in the documents' own Arabic, found by the e5 encoder itself.

The reader was trained on Arabic questions over Arabic passages and English ones over English passages; an
English question over Arabic text leaves it nothing to match («officials», «trained», «diploma»). No dictionary
or translation model exists offline, but the multilingual encoder places a word and its translation close
together: each content word of the question is embedded alone, and so is each word of the passages retrieved
for it; a question word whose nearest passage word is closer than ``min_similarity`` is glossed by that word,
as the passage writes it («trained» → «تدريب», «participants» → «المشاركون», «diploma» → «دبلوم»). Words with no
close match («referral», «mechanism») are left alone rather than guessed. Word vectors are cached between
questions.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from . import arabic, gazetteer

if TYPE_CHECKING:
    from .analysis import Analysis

# English words that are not content, besides those ``arabic.STOPWORDS`` already holds (the, what, many, …)
ENGLISH_STOPWORDS = arabic.STOPWORDS | frozenset(
    """onto over under after before during since until but nor not no so than then that this these those there here
    has have had having can could will would shall should may might must its it it's he she they them his her their
    our your my me we you us i one ones also any all some each other such more most very just only same own according
    per via among between within without including named called name tell give list am being done into about as""".split()
)
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_ARABIC_WORD = re.compile(r"[\u0621-\u064A\u0660-\u0669\u066E-\u06D3\u06FA-\u06FF]+")


def english_words(question: str) -> list[str]:
    """The question's content words in Latin script, lower-cased, in order, once each."""
    words = (w.lower().strip("'-") for w in _LATIN_WORD.findall(question))
    return list(dict.fromkeys(w for w in words if len(w) >= 3 and w not in ENGLISH_STOPWORDS))


def passage_words(texts: Iterable[str]) -> list[str]:
    """Arabic words of the passages as written (diacritics and tatweel dropped), not stopwords, once each."""
    out: dict[str, None] = {}
    for text in texts:
        for w in _ARABIC_WORD.findall(arabic.unmarked(text)[0]):
            if len(w) >= 3 and arabic.normalize(w) not in arabic.STOPWORDS:
                out.setdefault(w, None)
    return list(out)


class Glossary:
    """``gloss(question, texts)`` → Arabic words of ``texts`` that translate the question's English words."""

    def __init__(self, embedder, min_similarity: float = 0.9, cache_size: int = 20_000):
        self.embedder = embedder
        self.min_similarity = min_similarity
        self.cache_size = cache_size  # 20,000 words of 384 floats: 30 MB
        self._vectors: dict[str, object] = {}
        self._lock = threading.Lock()  # the app asks from several threads

    def vectors(self, words: Sequence[str]):
        import numpy as np

        with self._lock:
            known = {w: self._vectors[w] for w in words if w in self._vectors}
        missing = list(dict.fromkeys(w for w in words if w not in known))
        if missing:
            for w, v in zip(missing, self.embedder.embed_many(missing, as_query=True), strict=True):
                v = np.asarray(v, dtype=np.float32)
                known[w] = v / (np.linalg.norm(v) or 1.0)
            with self._lock:
                if len(self._vectors) + len(missing) > self.cache_size:
                    self._vectors.clear()
                self._vectors.update((w, known[w]) for w in missing)
        return np.stack([known[w] for w in words])

    def gloss(self, question: str, texts: Iterable[str]) -> tuple[str, ...]:
        english = english_words(question)
        candidates = passage_words(texts)
        if not english or not candidates:
            return ()
        scores = self.vectors(english) @ self.vectors(candidates).T
        found = []
        for row in scores:
            j = int(row.argmax())
            if row[j] >= self.min_similarity:
                found.append(candidates[j])
        return tuple(dict.fromkeys(found))

    def read(self, analysis: Analysis, texts: Iterable[str]) -> Analysis:
        """A Latin-script question as the reader reads it: its words glossed in the Arabic of ``texts`` (the
        retrieved passages). The English names of places and organisations are left out first: the reader question
        carries their Arabic names already («Saudi Arabia» is «(السعودية)», not «السعودية العربية» word by word).
        Training keeps its own rule (``reader_train.as_read``, names glossed too: measured better there)."""
        question = gazetteer.without_english_names(analysis.reader_question)
        return analysis.with_gloss(self.gloss(question, texts))


__all__ = ["ENGLISH_STOPWORDS", "Glossary", "english_words", "passage_words"]
