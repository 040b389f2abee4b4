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


class ReaderAnswerer:
    """Reads passages with the trained reader; list questions may take a longer span."""

    def __init__(self, reader, list_answer_tokens: int = 80):
        self.reader = reader
        self.list_answer_tokens = list_answer_tokens

    def read(self, analysis: Analysis, hits: list[Hit], texts: dict[str, str]) -> Reading | None:
        if not hits:
            return None
        limit = self.list_answer_tokens if analysis.is_list else None
        spans = self.reader.read(analysis.reader_question, [h.chunk.text for h in hits], limit)
        for span in spans:
            hit = hits[span.passage]
            doc = texts[hit.chunk.source]
            a, b = _trim(doc, hit.chunk.start + span.start, hit.chunk.start + span.end)
            if b <= a:
                continue
            qa, qb = supporting_quote(doc, a, b)
            other = max((s.evidence for s in spans if s.passage != span.passage), default=span.evidence - 10.0)
            return Reading(hit, a, b, span.evidence, qa, qb, len(spans), span.score, span.null,
                           span.evidence - other, span.passage)
        return None


def compose(reading: Reading, texts: dict[str, str]) -> tuple[str, tuple[Citation, ...], ShortAnswer]:
    """«short answer [1]» then «supporting sentence [1]» (one line when they are the same text)."""
    c = reading.hit.chunk
    doc = texts[c.source]
    short = doc[reading.start : reading.end]
    quote = doc[reading.quote_start : reading.quote_end]
    citation = Citation(1, c.source, c.chunk_id, reading.quote_start, reading.quote_end, quote)
    text = f"{quote} [1]" if short == quote else f"{short} [1]\n{quote} [1]"
    return text, (citation,), ShortAnswer(short, 1, c.source, reading.start, reading.end, round(reading.evidence, 4))
