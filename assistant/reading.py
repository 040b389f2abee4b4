"""Stages 3 and 4 with the reader: read the retrieved passages, then compose a cited answer.

``ReaderAnswerer.candidates`` runs the reader over the top passages in one batch and keeps each passage's
best span (evidence: span score minus its window's no-answer score; optionally also the best span of a few
of its other sentences); the pipeline chooses one
(``Assistant.choose``). ``compose`` turns it into the answer text — the short answer, then its supporting
sentence verbatim — each carrying marker [1].
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
    sentence_gap: float = 0.0  # evidence minus its passage's best span's (0: the passage's best; < 0: another sentence's)


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
    """Hits as passages, best first: chunks of one document that overlap (or touch) are read as one passage,
    so an answer at a chunk boundary is read whole and no text is read twice."""
    by_source: dict[str, list[tuple[int, Hit]]] = {}
    for rank, hit in enumerate(hits):
        by_source.setdefault(hit.chunk.source, []).append((rank, hit))
    out = []
    for source, ranked in by_source.items():
        group: list[tuple[int, Hit]] = []
        for rank, hit in sorted(ranked, key=lambda rh: rh[1].chunk.start) + [(-1, None)]:
            if group and (hit is None or hit.chunk.start > max(h.chunk.end for _, h in group)):
                group.sort(key=lambda rh: rh[0])
                start, end = min(h.chunk.start for _, h in group), max(h.chunk.end for _, h in group)
                out.append(Passage(source, start, end, tuple(h for _, h in group), group[0][0]))
                group = []
            if hit is not None:
                group.append((rank, hit))
    return sorted(out, key=lambda p: p.rank)


def _citing_hit(passage: Passage, start: int, end: int) -> Hit:
    """The passage's chunk that holds most of ``[start, end)`` (the one a citation opens; the best-ranked on ties)."""
    _, best = max(enumerate(passage.hits), key=lambda ih: (min(end, ih[1].chunk.end) - max(start, ih[1].chunk.start), -ih[0]))
    return best


class ReaderAnswerer:
    """Reads passages with the trained reader; list questions may take a longer span.

    Each passage offers its best span and, with ``sentences`` > 1, the best span of up to ``sentences − 1``
    of its other sentences: a passage that lists one fact per country («… في السعودية.», «… في الإمارات.»)
    offers each, and the selector (which sees whether a candidate's sentence names the asked place) chooses."""

    def __init__(self, reader, list_answer_tokens: int = 80, sentences: int = 1):
        self.reader = reader
        self.list_answer_tokens = list_answer_tokens
        self.sentences = max(1, sentences)

    def candidates(self, analysis: Analysis, hits: list[Hit], texts: dict[str, str]) -> list[Reading]:
        """Each passage's best span(s) (one batched pass over all of them), in passage order, best first."""
        if not hits:
            return []
        passages = passages_of(hits)
        limit = self.list_answer_tokens if analysis.is_list else None
        read = [texts[p.source][p.start : p.end] for p in passages]
        spans = self.reader.read(analysis.reader_question, read, limit, per_sentence=self.sentences > 1)
        best: dict[int, list[tuple]] = {}
        asked = set(arabic.words(analysis.reader_question))  # not the query: a follow-up's holds the last answer
        for span in spans:  # best evidence first
            kept = best.setdefault(span.passage, [])
            if len(kept) >= self.sentences:
                continue
            p = passages[span.passage]
            doc = texts[p.source]
            a, b = _trim(doc, p.start + span.start, p.start + span.end)
            if b <= a or set(arabic.words(doc[a:b])) <= asked:
                continue  # nothing, or only words of the question («عُمان» for «… in Oman? (عمان)»)
            qa, qb = supporting_quote(doc, a, b)
            if any(qa < kb and ka < qb for *_, ka, kb in kept):
                continue  # one candidate per sentence
            kept.append((span, a, b, qa, qb))
        best = {k: kept for k, kept in best.items() if kept}
        out = []
        for k in sorted(best):
            p = passages[k]
            top = best[k][0][0].evidence
            other = max((c[0][0].evidence for j, c in best.items() if j != k), default=top - 10.0)
            for span, a, b, qa, qb in best[k]:
                out.append(Reading(_citing_hit(p, qa, qb), a, b, span.evidence, qa, qb, len(spans), span.score,
                                   span.null, span.evidence - other, p.rank, p, span.evidence - top))
        return out


def compose(reading: Reading, texts: dict[str, str]) -> tuple[str, tuple[Citation, ...], ShortAnswer]:
    """«short answer [1]» then «supporting sentence [1]» (one line when they are the same text)."""
    c = reading.hit.chunk
    doc = texts[c.source]
    short = doc[reading.start : reading.end]
    quote = doc[reading.quote_start : reading.quote_end]
    citation = Citation(1, c.source, c.chunk_id, reading.quote_start, reading.quote_end, quote)
    text = f"{quote} [1]" if short == quote else f"{short} [1]\n{quote} [1]"
    return text, (citation,), ShortAnswer(short, 1, c.source, reading.start, reading.end, round(reading.evidence, 4))
