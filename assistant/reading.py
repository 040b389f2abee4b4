"""Stages 3 and 4 with the reader: read the retrieved passages, then compose a cited answer.

``read`` runs the reader over the top passages in one batch and keeps the best span over all of
them (its evidence: span score minus its window's no-answer score). ``compose`` turns it into the
answer text — the short answer, then its supporting sentence verbatim — each carrying marker [1].
"""

from __future__ import annotations

from dataclasses import dataclass

from . import arabic
from .analysis import Analysis
from .types import Citation, Hit, ShortAnswer

_EDGE = " \t\n\r.,،؛;:!?؟\"'«»()[]{}-–—/\\…"
MAX_QUOTE_CHARS = 320


@dataclass(frozen=True)
class Passage:
    """What the reader reads: retrieved chunks of one document, merged where they overlap or touch."""

    source: str
    start: int
    end: int
    hits: tuple[Hit, ...]  # rank order
    rank: int  # of its best hit among all hits, from 0


@dataclass(frozen=True)
class Reading:
    """The best span, in document offsets, with its passage and supporting sentence(s)."""

    hit: Hit
    start: int
    end: int
    evidence: float
    quote_start: int
    quote_end: int
    alternatives: int = 0  # spans considered
    span_score: float = 0.0  # start + end logit of the span
    null_score: float = 0.0  # its window's no-answer score
    margin: float = 10.0  # evidence over the best span of any other passage
    passage_rank: int = 0  # of its passage among the hits, from 0
    passage: Passage | None = None  # what was read (None: the hit's chunk alone)


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a] in _EDGE:
        a += 1
    while b > a and text[b - 1] in _EDGE:
        b -= 1
    return a, b


def supporting_quote(text: str, start: int, end: int, limit: int = MAX_QUOTE_CHARS) -> tuple[int, int]:
    """The sentence(s) around ``text[start:end]``; a very long sentence is cut at words around the span."""
    inside = [(a, b) for a, b in arabic.document_sentences(text) if a < end and b > start]
    a, b = (inside[0][0], inside[-1][1]) if inside else (start, end)
    a, b = min(a, start), max(b, end)
    if b - a > limit and end - start < limit:
        room = (limit - (end - start)) // 2
        lo, hi = max(a, start - room), min(b, end + room)
        if lo > a:
            space = text.find(" ", lo, start)
            lo = space + 1 if space >= 0 else start
        if hi < b:
            space = text.rfind(" ", end, hi)
            hi = space if space >= 0 else end
        a, b = lo, hi
    return a, b


def passages_of(hits: list[Hit]) -> list[Passage]:
    """Hits as passages, best first: a chunk overlapping (or touching) an earlier one of its document joins it,
    so an answer at a chunk boundary is read whole and no text is read twice."""
    groups: list[list] = []  # [source, start, end, hits, rank]
    for rank, hit in enumerate(hits):
        c = hit.chunk
        for g in groups:
            if g[0] == c.source and c.start <= g[2] and c.end >= g[1]:
                g[1], g[2] = min(g[1], c.start), max(g[2], c.end)
                g[3].append(hit)
                break
        else:
            groups.append([c.source, c.start, c.end, [hit], rank])
    merged = True
    while merged:  # a later chunk may bridge two earlier groups of one document
        merged = False
        for i, g in enumerate(groups):
            for h in groups[i + 1 :]:
                if g[0] == h[0] and h[1] <= g[2] and h[2] >= g[1]:
                    g[1], g[2], g[3] = min(g[1], h[1]), max(g[2], h[2]), g[3] + h[3]
                    groups.remove(h)
                    merged = True
                    break
            if merged:
                break
    return [Passage(src, a, b, tuple(hs), rank) for src, a, b, hs, rank in groups]


def _citing_hit(passage: Passage, start: int, end: int) -> Hit:
    """The passage's chunk that holds most of ``[start, end)`` (the one a citation opens)."""
    return max(passage.hits, key=lambda h: (min(end, h.chunk.end) - max(start, h.chunk.start), -passage.hits.index(h)))


class ReaderAnswerer:
    """Reads passages with the trained reader; list questions may take a longer span."""

    def __init__(self, reader, list_answer_tokens: int = 80):
        self.reader = reader
        self.list_answer_tokens = list_answer_tokens

    def candidates(self, analysis: Analysis, hits: list[Hit], texts: dict[str, str]) -> list[Reading]:
        """The best span of each passage (one batched pass over all of them), in passage order."""
        if not hits:
            return []
        passages = passages_of(hits)
        limit = self.list_answer_tokens if analysis.is_list else None
        spans = self.reader.read(analysis.reader_question, [texts[p.source][p.start : p.end] for p in passages], limit)
        best: dict[int, tuple] = {}
        for span in spans:  # best evidence first
            if span.passage in best:
                continue
            p = passages[span.passage]
            doc = texts[p.source]
            a, b = _trim(doc, p.start + span.start, p.start + span.end)
            if b > a:
                best[span.passage] = (span, a, b)
        out = []
        for k in sorted(best):
            span, a, b = best[k]
            p = passages[k]
            qa, qb = supporting_quote(texts[p.source], a, b)
            other = max((s.evidence for j, (s, _, _) in best.items() if j != k), default=span.evidence - 10.0)
            out.append(Reading(_citing_hit(p, qa, qb), a, b, span.evidence, qa, qb, len(spans), span.score, span.null,
                               span.evidence - other, p.rank, p))
        return out

    def read(self, analysis: Analysis, hits: list[Hit], texts: dict[str, str]) -> Reading | None:
        """The candidate with the highest evidence (the pipeline may choose with a learned selector instead)."""
        found = self.candidates(analysis, hits, texts)
        return max(found, key=lambda r: r.evidence) if found else None


def compose(reading: Reading, texts: dict[str, str]) -> tuple[str, tuple[Citation, ...], ShortAnswer]:
    """«short answer [1]» then «supporting sentence [1]» (one line when they are the same text)."""
    c = reading.hit.chunk
    doc = texts[c.source]
    short = doc[reading.start : reading.end]
    quote = doc[reading.quote_start : reading.quote_end]
    citation = Citation(1, c.source, c.chunk_id, reading.quote_start, reading.quote_end, quote)
    text = f"{quote} [1]" if short == quote else f"{short} [1]\n{quote} [1]"
    return text, (citation,), ShortAnswer(short, 1, c.source, reading.start, reading.end, round(reading.evidence, 4))
