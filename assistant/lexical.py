"""BM25 over normalised Arabic terms, kept in immutable segments so that a change costs what it changes.

A ``Segment`` holds the term frequencies of some passages (a sparse column-per-term matrix: a query touches
only the postings of its own terms) keyed by their vector ids (``chunk_id@content hash``). An index is a
list of segments plus the live passages, in the order of the generation's chunk list; passages that were
removed or replaced are simply not live. Scores are computed at query time from the live passages' own
statistics (N, document frequencies, average length), so an index grown segment by segment scores exactly
like one built in one go. Adding a document writes one small segment; segments are merged into one when
there are too many or too many dead rows. Scoring is BM25 as Lucene does it (bm25s' default):
idf = ln(1 + (N − df + 0.5) / (df + 0.5)), tf part = tf / (tf + k1·(1 − b + b·dl/avgdl)).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import arabic

K1, B = 1.2, 0.75
MAX_SEGMENTS = 12  # more, and the next write merges them into one
MAX_DEAD = 0.25  # share of dead rows that triggers a merge


class Segment:
    """Term frequencies of a fixed set of passages (immutable once built)."""

    def __init__(self, name: str, keys: list[str], vocab: dict[str, int], indptr, indices, data, lengths):
        self.name, self.keys, self.vocab = name, keys, vocab
        self.indptr, self.indices, self.data, self.lengths = indptr, indices, data, lengths

    @classmethod
    def build(cls, keys: Sequence[str], texts: Sequence[str]) -> Segment:
        vocab: dict[str, int] = {}
        postings: list[list[tuple[int, int]]] = []
        lengths = np.zeros(len(keys), dtype=np.int32)
        for row, text in enumerate(texts):
            counts: dict[str, int] = {}
            for term in arabic.terms(text):
                counts[term] = counts.get(term, 0) + 1
            lengths[row] = sum(counts.values())
            for term, tf in counts.items():
                col = vocab.setdefault(term, len(vocab))
                if col == len(postings):
                    postings.append([])
                postings[col].append((row, tf))
        indptr = np.zeros(len(postings) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in postings], out=indptr[1:])
        indices = np.fromiter((r for p in postings for r, _ in p), dtype=np.int32, count=int(indptr[-1]))
        data = np.fromiter((tf for p in postings for _, tf in p), dtype=np.float32, count=int(indptr[-1]))
        name = hashlib.sha1("\n".join(keys).encode()).hexdigest()[:12] + "-" + uuid.uuid4().hex[:8]  # never reused
        return cls(name, list(keys), vocab, indptr, indices, data, lengths)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        col = self.vocab.get(term)
        if col is None:
            return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.float32)
        a, b = self.indptr[col], self.indptr[col + 1]
        return self.indices[a:b], self.data[a:b]

    def save(self, folder: Path) -> None:
        """Written once under ``folder/<name>`` (a temp folder renamed into place)."""
        target = folder / self.name
        if (target / "postings.npz").exists():
            return
        tmp = folder / f".{self.name}.tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        np.savez(tmp / "postings.npz", indptr=self.indptr, indices=self.indices, data=self.data, lengths=self.lengths)
        (tmp / "terms.json").write_text(json.dumps({"keys": self.keys, "terms": list(self.vocab)}, ensure_ascii=False),
                                        encoding="utf-8")
        try:
            tmp.rename(target)
        except OSError:  # written meanwhile by another writer: same content
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path, name: str) -> Segment:
        meta = json.loads((folder / name / "terms.json").read_text(encoding="utf-8"))
        with np.load(folder / name / "postings.npz") as z:
            arrays = z["indptr"], z["indices"], z["data"], z["lengths"]
        return cls(name, meta["keys"], {t: i for i, t in enumerate(meta["terms"])}, *arrays)


class LexicalIndex:
    """The live passages' BM25 over a list of segments; rows are positions in the generation's chunk list."""

    def __init__(self, segments: Sequence[Segment] = (), live_keys: Sequence[str] = ()):
        self.segments = list(segments)
        position = {key: i for i, key in enumerate(live_keys)}
        self.row_of = [np.array([position.get(k, -1) for k in s.keys], dtype=np.int64) for s in self.segments]
        self.size = len(live_keys)
        live_lengths = sum(int(s.lengths[r >= 0].sum()) for s, r in zip(self.segments, self.row_of, strict=True))
        covered = sum(int((r >= 0).sum()) for r in self.row_of)
        if covered != self.size:
            raise ValueError(f"the word index covers {covered} of {self.size} passages")
        self.avgdl = live_lengths / self.size if self.size else 0.0
        self.dead = sum(len(s.keys) for s in self.segments) - self.size

    # ------------------------------------------------------------ building
    @classmethod
    def build(cls, texts: Sequence[str], keys: Sequence[str] | None = None) -> LexicalIndex:
        keys = list(keys) if keys is not None else [str(i) for i in range(len(texts))]
        return cls([Segment.build(keys, texts)] if keys else [], keys)

    def update(self, keys: Sequence[str], texts: dict[str, str]) -> tuple[LexicalIndex, list[Segment]]:
        """The index for the live ``keys`` (in order): passages not in any segment yet go into one new segment
        (``texts[key]``); everything is merged into one segment when there would be too many or too many dead
        rows. Returns the index and the segments to write."""
        known = {k for s in self.segments for k in s.keys}
        new = [k for k in keys if k not in known]
        fresh = Segment.build(new, [texts[k] for k in new]) if new else None
        live = set(keys)
        segments = [s for s in self.segments if any(k in live for k in s.keys)] + ([fresh] if fresh else [])
        total = sum(len(s.keys) for s in segments)
        if len(segments) > MAX_SEGMENTS or (total and (total - len(keys)) / total > MAX_DEAD):
            merged = Segment.build(list(keys), [texts[k] for k in keys]) if keys else None
            return LexicalIndex([merged] if merged else [], keys), [merged] if merged else []
        return LexicalIndex(segments, keys), [fresh] if fresh else []

    def save(self, folder: Path) -> list[str]:
        """Write every segment not yet under ``folder``; the names, for the generation to list."""
        for s in self.segments:
            s.save(folder)
        return [s.name for s in self.segments]

    @classmethod
    def load(cls, folder: Path, names: Sequence[str], live_keys: Sequence[str]) -> LexicalIndex:
        return cls([Segment.load(folder, n) for n in names], live_keys)

    # ------------------------------------------------------------- reading
    def has_term(self, term: str) -> bool:
        return self.doc_freq(term) > 0

    def doc_freq(self, term: str) -> int:
        """In how many live passages the term occurs (0 when unknown)."""
        df = 0
        for s, rows in zip(self.segments, self.row_of, strict=True):
            idx, _ = s.postings(term)
            df += int((rows[idx] >= 0).sum()) if len(idx) else 0
        return df

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(row, score) pairs, best first, only rows that share a term with the query."""
        if not self.size:
            return []
        scores = np.zeros(self.size, dtype=np.float64)
        touched = False
        for term in arabic.terms(query):
            hits = []
            for s, rows in zip(self.segments, self.row_of, strict=True):
                idx, tf = s.postings(term)
                if len(idx):
                    pos = rows[idx]
                    live = pos >= 0
                    hits.append((pos[live], tf[live], s.lengths[idx[live]]))
            df = sum(len(p) for p, _, _ in hits)
            if not df:
                continue
            idf = np.log(1.0 + (self.size - df + 0.5) / (df + 0.5))
            for pos, tf, dl in hits:
                scores[pos] += idf * tf / (tf + K1 * (1 - B + B * dl / self.avgdl))
            touched = True
        if not touched:
            return []
        k = min(k, self.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
