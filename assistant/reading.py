"""Stages 3 and 4 with the reader: read the retrieved passages, then compose a cited answer.

``ReaderAnswerer.candidates`` runs the reader over the top passages in one batch and keeps each passage's
best span (evidence: span score minus its window's no-answer score; optionally also the best span of a few
of its other sentences). When the question names a country and that span's sentence is about another country
or a region while an item of a list in the passage names the asked one («• … في عُمان.»), that item's best
span is the passage's instead (``off_place``). The pipeline chooses one
(``Assistant.choose``). ``compose`` turns it into the answer text — the short answer, then its supporting
sentence verbatim — each carrying marker [1].
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import arabic, gazetteer
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


_MARKS = "()[]{}«»“”‘’\""
_PLAIN_EDGE = "".join(ch for ch in _EDGE if ch not in _MARKS)


def _trim(text: str, a: int, b: int, edge: str = _EDGE) -> tuple[int, int]:
    while a < b and text[a] in edge:
        a += 1
    while b > a and text[b - 1] in edge:
        b -= 1
    return a, b


_OPENS = {"(": ")", "[": "]", "{": "}", "«": "»", "“": "”", "‘": "’"}
_CLOSES = {v: k for k, v in _OPENS.items()}
BRACKET_REACH = 60  # how far past a span's edge its bracket or quote may be closed (characters, same line)


def _bracket_faults(text: str, a: int, b: int) -> tuple[list[int], list[int]]:
    """Positions in ``text[a:b]`` of closing marks whose opening is not in the span, and of opening marks whose
    closing is not. A straight quote opens when the line holds an even number of them before it."""
    line = text.rfind("\n", 0, a) + 1
    quotes = text.count('"', line, a)
    stack: list[tuple[str, int]] = []
    closers = []
    for i in range(a, b):
        ch = text[i]
        if ch == '"':
            ch, quotes = ('"open' if quotes % 2 == 0 else '"close'), quotes + 1
        if ch in _OPENS or ch == '"open':
            stack.append((ch, i))
        elif ch in _CLOSES or ch == '"close':
            opener = _CLOSES.get(ch, '"open')
            if stack and stack[-1][0] == opener:
                stack.pop()
            else:
                closers.append(i)
    return closers, [i for _, i in stack]


def balanced(text: str, a: int, b: int, reach: int = BRACKET_REACH) -> tuple[int, int]:
    """The span with its brackets and quotes paired, keeping all it holds where it can: a closing mark whose
    opening one is within ``reach`` before the span (same line) reaches back to it, an opening mark forward to its
    closing one («17 يناير 1942 – 3 يونيو 2016) ملاكم» → «(17 يناير 1942 – 3 يونيو 2016) ملاكم»); a mark whose
    partner is further is cut off with the shorter side of the span («مقترح “تطوير مبادرات تكوينية» → «تطوير
    مبادرات تكوينية»). A span that is one bracketed or quoted run then loses the pair («“واكاوويل”» → «واكاوويل»).
    Unchanged when nothing would be left."""
    a0, b0 = a, b
    for _ in range(6):
        closers, openers = _bracket_faults(text, a, b)
        if not closers and not openers:
            break
        line_start = text.rfind("\n", 0, a) + 1
        line_end = text.find("\n", b)
        line_end = len(text) if line_end < 0 else line_end
        if closers:
            c = closers[0]
            back = text.rfind(_CLOSES.get(text[c], '"'), max(line_start, a - reach), a)
            if back >= 0:
                a = back
            elif c - a < b - c:
                a = c + 1
            else:
                b = c
        else:
            o = openers[-1]
            ahead = text.find(_OPENS.get(text[o], '"'), b, min(line_end, b + reach))
            if ahead >= 0:
                b = ahead + 1
            elif b - o < o - a:
                b = o
            else:
                a = o + 1
        a, b = _trim(text, a, b, _PLAIN_EDGE)  # paired marks stay
        if b <= a:
            return a0, b0
    while b - a > 2 and _OPENS.get(text[a], '"' if text[a] == '"' else None) == text[b - 1] \
            and _bracket_faults(text, a + 1, b - 1) == ([], []):  # «(رقم 28 لعام 2012)» → «رقم 28 لعام 2012»
        a, b = _trim(text, a + 1, b - 1, _PLAIN_EDGE)
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
        # a passage that lists one fact per country: its best span may be another country's («… في السعودية» for
        # «… في عمان؟»); then the best span starting in the list item naming the asked one answers (``off_place``;
        # with one candidate per passage — with more, the selector weighs each sentence's)
        places = asked_places(analysis) if self.sentences == 1 else ()
        spans = self.reader.read(analysis.reader_question, read, limit, per_sentence=self.sentences > 1 or bool(places),
                                 one_line=not analysis.is_list)  # a list's items may answer together
        best: dict[int, list[tuple]] = {}
        focus: dict[int, tuple] = {}  # each passage's best span whose sentence names an asked place
        asked = set(arabic.words(analysis.reader_question))  # not the query: a follow-up's holds the last answer
        last = set(arabic.words(analysis.previous_answer))  # a follow-up asks something new: not the last answer again
        for span in spans:  # best evidence first
            kept = best.setdefault(span.passage, [])
            if len(kept) >= self.sentences and (not places or span.passage in focus):
                continue
            p = passages[span.passage]
            doc = texts[p.source]
            a, b = balanced(doc, *_trim(doc, p.start + span.start, p.start + span.end))
            words = set(arabic.words(doc[a:b]))
            if b <= a or words <= asked or (last and last <= words <= asked | last) or \
                    _names_the_asker(words - asked, analysis.named):
                continue  # nothing; only words of the question («عُمان» for «… in Oman? (عمان)») or other names of
                # what it names («IOM»); or the last answer again
            if places and span.passage not in focus:
                sa, sb = _sentence_at(doc, a)
                if arabic.is_list_item(doc[sa:sb]) and names_place(doc[sa:sb], places):  # kept to that item
                    fa, fb = _trim(doc, a, min(b, sb))
                    if fb > fa:
                        focus[span.passage] = (span, fa, fb, *supporting_quote(doc, fa, fb))
            qa, qb = supporting_quote(doc, a, b)
            if len(kept) >= self.sentences or any(qa < kb and ka < qb for *_, ka, kb in kept):
                continue  # one candidate per sentence
            kept.append((span, a, b, qa, qb))
        for k, kept in best.items():
            if kept and k in focus and focus[k] is not kept[0] and off_place(texts[passages[k].source], kept[0], places):
                kept[0] = focus[k]
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


def _sentence_at(text: str, offset: int) -> tuple[int, int]:
    """The sentence of ``text`` (``arabic.document_sentences``) that holds ``offset``."""
    return next(((a, b) for a, b in arabic.document_sentences(text) if a <= offset < b), (offset, len(text)))


def asked_places(analysis: Analysis) -> tuple[str, ...]:
    """The places of ``PLACES`` the question names (normalised): «في سلطنة عمان» → («عمان»,)."""
    return tuple(p for p in analysis.named if p in gazetteer.places())


def names_place(text: str, places: tuple[str, ...]) -> bool:
    """Does ``text`` mention any of ``places`` (``gazetteer.missing``: not all of them absent)?"""
    return bool(places) and gazetteer.missing(places, text) < 1.0


def off_place(doc: str, kept: tuple, places: tuple[str, ...]) -> bool:
    """Is a candidate's sentence about another country — the question names a country, and the sentence names
    none of the asked places but another country, a continent or a region? («• تطوير آلية الإحالة الوطنية في
    السعودية…» or «… سيواصل دعم دول الخليج…» for «… في سلطنة عمان؟»). Cities do not count: a city may lie in the
    asked country («عاصمتها الرباط» for «ما عاصمة المغرب؟»)."""
    if not gazetteer.COUNTRIES.intersection(places):
        return False
    *_, qa, qb = kept
    if names_place(doc[qa:qb], places):
        return False
    others = tuple((gazetteer.COUNTRIES | gazetteer.REGIONS).difference(places))
    return names_place(doc[qa:qb], others)


def _names_the_asker(new_words: set[str], named: tuple[str, ...]) -> bool:
    """Are a span's words that the question lacks only other names of things the question names? («IOM» for
    «ومع من؟» after «متى أنشأت المنظمة الدولية للهجرة فريق العمل…»: the answer is its partner, not itself.)"""
    if not new_words or not named:
        return False
    known = set(named)
    return all((found := gazetteer.named(w)) and set(found) <= known for w in new_words)


MAX_LIST_ITEMS = 12
MAX_LIST_CHARS = 1500  # a longer list is not an answer to read at a glance: the reader's own span stays


def list_items(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The list ``text[start:end]`` belongs to: (start of its first item, end of its last), or None. A span belongs
    to a list when it touches one of its items («• …», «2. …»), or the sentence that opens it and ends with «:»
    («… لضمان ما يلي:» followed by «1. …», «2. …»). Items are consecutive lines (at most ``MAX_LIST_ITEMS``)."""
    lines, at = [], 0
    for line in text.split("\n"):
        lines.append((at, at + len(line)))
        at += len(line) + 1
    items = {i for i, (a, b) in enumerate(lines) if arabic.is_list_item(text[a:b])}
    if not items:
        return None
    for i, (a, b) in enumerate(lines):
        if not (a < end and b > start):
            continue
        first = i if i in items else i + 1 if text[a:b].rstrip().endswith(":") and i + 1 in items else None
        if first is None:
            continue
        while first - 1 in items:
            first -= 1
        last = first
        while last + 1 in items and last + 1 - first < MAX_LIST_ITEMS:
            last += 1
        return _trim(text, lines[first][0], lines[last][1])
    return None


def as_list(reading: Reading, texts: dict[str, str]) -> Reading:
    """For a list question («ما أبرز أمثلة التعاون…؟»): a span in a list, or in the sentence that opens one,
    answers with the whole list — short answer and quote alike, so the answer shows it once."""
    found = list_items(texts[reading.hit.chunk.source], reading.start, reading.end)
    if found is None or found[1] - found[0] > MAX_LIST_CHARS:
        return reading
    a, b = found
    hit = _citing_hit(reading.passage, a, b) if reading.passage is not None else reading.hit
    return replace(reading, hit=hit, start=a, end=b, quote_start=a, quote_end=b)


def elided(text: str, start: int, end: int) -> str:
    """``text[start:end]`` as shown: «…» where it cuts a sentence (``supporting_quote`` cuts a very long one at words
    around the span), so the reader sees that it goes on; the quote itself stays verbatim."""
    sentences = arabic.document_sentences(text)  # cached; no copy of the text around the quote (documents may be MBs)
    if not sentences:
        return text[start:end]
    starts, ends = {a for a, _ in sentences}, {b for _, b in sentences}
    before = "" if start in starts or start <= sentences[0][0] else "…"
    after = "" if end in ends or end >= sentences[-1][1] else "…"
    return f"{before}{text[start:end]}{after}"


def compose(reading: Reading, texts: dict[str, str]) -> tuple[str, tuple[Citation, ...], ShortAnswer]:
    """«short answer [1]» then «supporting sentence [1]» (one line when they are the same text)."""
    c = reading.hit.chunk
    doc = texts[c.source]
    short = doc[reading.start : reading.end]
    quote = doc[reading.quote_start : reading.quote_end]
    citation = Citation(1, c.source, c.chunk_id, reading.quote_start, reading.quote_end, quote)
    text = f"{quote} [1]" if short == quote else f"{short} [1]\n{elided(doc, reading.quote_start, reading.quote_end)} [1]"
    return text, (citation,), ShortAnswer(short, 1, c.source, reading.start, reading.end, round(reading.evidence, 4))
