"""HTML for the browser app: pure functions, no Gradio.

Every piece of document, passage, answer or file-name text goes through
``esc`` (``html.escape``) before it becomes HTML, so a document holding
``<script>`` or ``<img onerror=...>`` is shown as text and runs nothing.
Latin runs (file names, chunk ids, numbers with units) are wrapped in
``<bdi dir="ltr">`` so they do not scramble inside right-to-left text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from . import arabic
from .report import COUNTS, LABELS, denominator_key, mark, metric_value

# A left-to-right run: space-separated tokens of printable ASCII / Latin letters, the first
# holding a letter or digit (file names, ids, urls, code, numbers with units, "<b>x</b>").
_LTR_CHAR = r"[!-~\u00c0-\u024f]"
_LATIN_RUN = re.compile(rf"{_LTR_CHAR}*[A-Za-z0-9\u00c0-\u024f]{_LTR_CHAR}*(?:[ \t]+{_LTR_CHAR}+)*")
_TRAILING = " \t.,:;!?-"  # sentence punctuation after a Latin run belongs to the Arabic sentence
_MARKER = re.compile(r"\[(\d+)\]")
_WORD = re.compile(r"[^\W_][\w\u064b-\u065f\u0670]*", re.UNICODE)

EMPTY_VIEWER = '<div class="viewer empty" dir="rtl">اختر إحالة [n] أو مصدراً لعرض المقطع داخل وثيقته.</div>'
WELCOME = ('<div class="chat-empty">اسأل عن محتوى الوثائق المفهرسة، وستظهر الإجابة مع إحالات [n] '
           'قابلة للنقر إلى الجمل المقتبسة.</div>')


def esc(text: object) -> str:
    """HTML-escape any value (quotes too: safe inside attributes)."""
    return html.escape("" if text is None else str(text), quote=True)


def ltr(text: object) -> str:
    """An always left-to-right, isolated span (file names, chunk ids, offsets)."""
    return f'<bdi dir="ltr">{esc(text)}</bdi>'


def bidi(text: str) -> str:
    """Escape ``text`` and isolate its Latin/number runs so they keep their order in RTL."""
    out: list[str] = []
    pos = 0
    for m in _LATIN_RUN.finditer(text):
        run = m.group().rstrip(_TRAILING)
        if not run:
            continue
        a = m.start()
        out.append(esc(text[pos:a]))
        out.append(ltr(run))
        pos = a + len(run)
    out.append(esc(text[pos:]))
    return "".join(out)


_REF = re.compile(r"^(.*?)\|(\d+)\|(\d+)(?:\|(\d+)\|(\d+))?$", re.S)


def cite_ref(chunk_id: str, start: int, end: int, answer: tuple[int, int] | None = None) -> str:
    """The ``data-cite`` payload of a clickable marker or source: ``chunk_id|start|end`` and, when
    the short answer lies inside the quote, ``|answer_start|answer_end``."""
    ref = f"{chunk_id}|{int(start)}|{int(end)}"
    return ref + (f"|{int(answer[0])}|{int(answer[1])}" if answer else "")


def parse_cite_ref(ref: str) -> tuple[str, int | None, int | None]:
    """(chunk_id, start, end) of a ``cite_ref``; a bare chunk id gives ``(chunk_id, None, None)``."""
    ref = (ref or "").strip()
    m = _REF.match(ref)
    return (m.group(1), int(m.group(2)), int(m.group(3))) if m else (ref, None, None)


def answer_span_of(ref: str) -> tuple[int, int] | None:
    """The short answer's span carried by a ``cite_ref``, if any."""
    m = _REF.match((ref or "").strip())
    return (int(m.group(4)), int(m.group(5))) if m and m.group(4) else None


# ------------------------------------------------------------------ highlight
def _clamp(span: tuple[int, int], length: int) -> tuple[int, int]:
    a, b = span
    a = min(max(0, int(a)), length)
    return a, min(max(a, int(b)), length)


def highlight(text: str, span: tuple[int, int], passage: tuple[int, int] | None = None,
              mark_class: str = "hl", inner: tuple[int, int] | None = None) -> str:
    """``text`` as HTML with ``text[start:end]`` in one ``<mark>``, inside a shaded passage span;
    ``inner`` (the short answer) is set in ``<strong>`` inside the mark."""
    a, b = _clamp(span, len(text))
    inner_html = bidi(text[a:b])
    if inner is not None:
        x, y = _clamp(inner, len(text))
        if a <= x < y <= b:  # the short answer, strong, inside the highlighted sentence
            inner_html = (bidi(text[a:x]) + f'<strong class="answer-span">{bidi(text[x:y])}</strong>'
                          + bidi(text[y:b]))
    mark = f'<mark class="{mark_class}">{inner_html}</mark>'
    if passage is not None:
        c, d = _clamp(passage, len(text))
        if c <= a and b <= d and (c, d) != (a, b):
            return (bidi(text[:c]) + '<span class="passage">' + bidi(text[c:a]) + mark
                    + bidi(text[b:d]) + "</span>" + bidi(text[d:]))
    return bidi(text[:a]) + mark + bidi(text[b:])


def _stems(text: str) -> set[str]:
    return {arabic.light_stem(w) for w in arabic.content_words(text) if len(w) > 1}


def highlight_terms(text: str, query: str) -> str:
    """Escape ``text``, marking the words that match a query word (normalised, light-stemmed)."""
    wanted = _stems(query)
    if not wanted:
        return bidi(text)
    out, pos = [], 0
    for m in _WORD.finditer(text):
        norm = arabic.words(m.group())
        if norm and arabic.light_stem(norm[0]) in wanted:
            out.append(bidi(text[pos:m.start()]))
            out.append(f'<mark class="term">{bidi(m.group())}</mark>')
            pos = m.end()
    out.append(bidi(text[pos:]))
    return "".join(out)


# ---------------------------------------------------------------------- chat
def _short_span(c: Mapping, short: Mapping | None) -> tuple[int, int] | None:
    if short and short.get("text") and short.get("n") == c["n"] and c["start"] <= short["start"] < short["end"] <= c["end"]:
        return int(short["start"]), int(short["end"])
    return None


def link_markers(text: str, citations: Sequence[Mapping], short: Mapping | None = None) -> str:
    """Escape answer text and turn each ``[n]`` with a citation into a clickable marker."""
    by_n = {int(c["n"]): c for c in citations}
    out, pos = [], 0
    for m in _MARKER.finditer(text):
        c = by_n.get(int(m.group(1)))
        if c is None:
            continue
        out.append(bidi(text[pos:m.start()]))
        ref = cite_ref(c["chunk_id"], c["start"], c["end"], _short_span(c, short))
        out.append(f'<a class="cite" href="#" role="button" data-cite="{esc(ref)}" '
                   f'title="{esc(c["source"])}">{ltr(m.group())}</a>')
        pos = m.end()
    out.append(bidi(text[pos:]))
    return "".join(out)


def _source_item(c: Mapping, passage: Mapping | None, short: Mapping | None = None) -> str:
    inner = _short_span(c, short)
    ref = esc(cite_ref(c["chunk_id"], c["start"], c["end"], inner))
    if passage is not None:
        p0 = passage["start"]
        body = highlight(passage["text"], (c["start"] - p0, c["end"] - p0), mark_class="quote",
                         inner=(inner[0] - p0, inner[1] - p0) if inner else None)
        score = f'{float(passage["score"]):.3f}'
    else:
        body, score = f'<mark class="quote">{bidi(c["quote"])}</mark>', "—"
    return (f'<li class="source" data-cite="{ref}" tabindex="0" role="button">'
            f'<div class="source-head"><span class="marker">{ltr("[" + str(c["n"]) + "]")}</span> '
            f'<span class="doc-name">{ltr(c["source"])}</span> '
            f'<span class="score">الدرجة: {ltr(score)}</span></div>'
            f'<div class="source-text">{body}</div></li>')


def render_sources(answer: Mapping) -> str:
    """Under an answer: for each citation its document, passage (quote highlighted) and score."""
    if answer.get("refused") or not answer.get("citations"):
        return ""
    passages = {p["chunk_id"]: p for p in answer.get("passages", [])}
    short = answer.get("short_answer")
    items = "".join(_source_item(c, passages.get(c["chunk_id"]), short) for c in answer["citations"])
    return f'<details class="sources" open><summary>المصادر</summary><ol>{items}</ol></details>'


def copy_text(answer: Mapping) -> str:
    """What «نسخ الإجابة» puts on the clipboard: the answer, then what each marker [n] cites (document, characters,
    quote), so a pasted answer still says where it comes from."""
    text = answer.get("answer", "")
    cited = {c["n"]: c for c in answer.get("citations", []) if not answer.get("refused")}
    if not cited:
        return text
    lines = [f"[{n}] {c['source']} ({c['start']}–{c['end']}): «{c['quote']}»" for n, c in sorted(cited.items())]
    return text + "\n\nالمصادر:\n" + "\n".join(lines)


def render_answer(answer: Mapping) -> str:
    """A finished answer: text with linked markers, note, sources, copy button."""
    refused = bool(answer.get("refused"))
    text = answer.get("answer", "")
    short = answer.get("short_answer") or {}
    citations = answer.get("citations", [])
    # the short answer is the first line, or the first lines up to its marker (a list: one item per line)
    lines = text.split("\n")
    k = next((i for i, line in enumerate(lines) if line.rstrip().endswith("]")), 0)
    first, rest = "\n".join(lines[: k + 1]), "\n".join(lines[k + 1 :])

    def linked(part: str) -> str:  # line breaks kept: a list's items stay one per line
        return "<br>".join(link_markers(line, citations, short) for line in part.split("\n"))

    if refused:
        body = bidi(text)
    elif short.get("text") and first.startswith(short["text"]):  # the short answer first, bold
        body = (f'<div class="short-answer"><strong>{linked(first)}</strong></div>'
                + (f'<div class="support">{linked(rest)}</div>' if rest else ""))
    else:
        body = linked(text)
    notice = f'<div class="notice">{bidi(answer["notice"])}</div>' if answer.get("notice") else ""
    copy = f'<button type="button" class="copy-btn" data-copy="{esc(copy_text(answer))}">نسخ الإجابة</button>'
    cls = "answer refused" if refused else "answer"
    return f'<div class="{cls}"><div class="answer-text">{body}</div>{notice}{render_sources(answer)}{copy}</div>'


def render_turn(turn: Mapping) -> str:
    # dir="auto": the user's own words take their own direction (an English question stays LTR, «?» at its end)
    user = f'<div class="msg user"><div class="bubble" dir="auto"><bdi>{esc(turn["question"])}</bdi></div></div>'
    if turn.get("answer") is not None:
        inner = render_answer(turn["answer"])
    elif turn.get("error"):
        inner = f'<div class="error">{bidi(turn["error"])}</div>'
    else:
        partial = turn.get("partial", "")
        inner = (f'<div class="answer streaming"><div class="answer-text">{bidi(partial)}'
                 f'<span class="cursor" aria-hidden="true">▍</span></div></div>')
    return user + f'<div class="msg bot"><div class="bubble">{inner}</div></div>'


def render_chat(turns: Iterable[Mapping]) -> str:
    body = "".join(render_turn(t) for t in turns)
    return f'<div class="chat" dir="rtl">{body or WELCOME}</div>'


# -------------------------------------------------------------------- viewer
def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def short_title(title: str, limit: int = 120) -> str:
    """A document title for display: whole when short, else cut at the last word boundary before ``limit`` with
    «…» (the first line of a news article may run for a paragraph; loaders keep its first 200 characters)."""
    title = _one_line(title)
    if len(title) <= limit:
        return title
    cut = title[:limit].rsplit(" ", 1)[0].rstrip("،,؛;:.-–— ")
    return f"{cut or title[:limit]}…"


def render_viewer(title: str, source: str, text: str, span: tuple[int, int],
                  passage: tuple[int, int] | None = None, chunk_id: str = "",
                  answer: tuple[int, int] | None = None) -> str:
    """The whole document with ``text[span]`` in ``<mark class="hl">`` (scrolled into view by JS)."""
    a, b = _clamp(span, len(text))
    number = chunk_id.rpartition("#")[2] if chunk_id.startswith(f"{source}#") else ""
    where = f' · <span class="chunk-id" data-id="{esc(chunk_id)}">المقطع {ltr(number)}</span>' if number else ""
    head = (f'<div class="viewer-head"><div class="viewer-title" title="{esc(title or source)}">'
            f'{bidi(short_title(title or source))}</div>'
            f'<div class="viewer-meta"><span class="doc-name">{ltr(source)}</span>{where} · '
            f'الأحرف {ltr(f"{a}–{b}")}</div></div>')
    return (f'<div class="viewer" dir="rtl" data-span="{a}-{b}">{head}'
            f'<div class="viewer-body">{highlight(text, (a, b), passage, inner=answer)}</div></div>')


def counted(n: int, singular: str, dual: str, plural: str, accusative: str) -> str:
    """An Arabic count with its noun in the form the number takes: «سؤال واحد», «سؤالان», «3 أسئلة», «11 سؤالاً»,
    «100 سؤال» (numbers are masculine here: every counted noun of the app is)."""
    if n == 1:
        return f"{singular} واحد"
    if n == 2:
        return dual
    rest = n % 100
    if 3 <= rest <= 10:
        return f"{n} {plural}"
    if 11 <= rest <= 99:
        return f"{n} {accusative}"
    return f"{n} {singular}"


def render_message(text: str, kind: str = "info") -> str:
    """A one-line status message (kind: info, ok, error)."""
    return f'<div class="status {esc(kind)}" dir="rtl">{bidi(text)}</div>' if text else ""


# -------------------------------------------------------------------- lookup
def render_hits(hits: Sequence[tuple[Mapping, float | None]], query: str) -> str:
    """Search results: passages with the query words highlighted and an 'open' link each."""
    if not hits:
        return render_message("لا توجد مقاطع مطابقة.", "info")
    items = []
    for chunk, score in hits:
        ref = esc(cite_ref(chunk["chunk_id"], chunk["start"], chunk["end"]))
        items.append(
            f'<li class="hit"><div class="source-head"><span class="chunk-id">{ltr(chunk["chunk_id"])}</span> '
            f'<span class="score">{"مطابقة المعرّف" if score is None else "الدرجة: " + ltr(f"{score:.3f}")}</span> '
            f'<a class="open-doc" href="#" role="button" data-cite="{ref}">افتح في الوثيقة</a></div>'
            f'<div class="source-text">{highlight_terms(chunk["text"], query)}</div></li>')
    return f'<ol class="hits" dir="rtl">{"".join(items)}</ol>'


# ----------------------------------------------------------------- documents
def render_documents(docs: Sequence) -> str:
    if not docs:
        return render_message("لا توجد وثائق مفهرسة بعد.", "info")
    rows = "".join(
        f'<tr><td class="nowrap">{ltr(d.source)}</td><td title="{esc(d.title)}">{bidi(short_title(d.title))}</td><td class="nowrap">{ltr(d.chunks)}</td>'
        f'<td class="nowrap">{ltr(d.chars)}</td><td class="nowrap">{ltr(d.indexed_at.replace("T", " "))}</td></tr>'
        for d in docs)
    return ('<table class="docs" dir="rtl"><thead><tr><th>الملف</th><th>العنوان</th><th>المقاطع</th>'
            f'<th>الأحرف</th><th>تاريخ الفهرسة</th></tr></thead><tbody>{rows}</tbody></table>')


# ---------------------------------------------------------------- evaluation
def _cell(value: object, limit: int = 160) -> str:
    if isinstance(value, float):
        return ltr(f"{value:.3f}")
    if isinstance(value, bool | int) or value is None:
        return ltr(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return bidi(text if len(text) <= limit else text[:limit] + "…")


def _flat(data: Mapping, skip: Iterable[str] = ()) -> dict:
    """Scalars of ``data`` with one level of nested dicts as ``parent.key``; lists as their length."""
    out: dict = {}
    for k, v in data.items():
        if k in skip:
            continue
        if isinstance(v, Mapping):
            out.update({f"{k}.{k2}": v2 for k2, v2 in v.items() if not isinstance(v2, Mapping | list)})
        elif isinstance(v, list):
            out[f"{k} (n)"] = len(v)
        else:
            out[k] = v
    return out


def render_summary(summary: Mapping) -> str:
    """Counts and metrics under their Arabic names (``report.LABELS``), each with the number of questions it is
    measured on; a metric the file cannot measure shows «—» with the reason below. Tags and run metadata fold away."""

    counts = summary.get("counts") or {}
    metrics = summary.get("metrics") or {}
    denominators = summary.get("denominators") or {}
    count_rows = "".join(f"<tr><th>{esc(COUNTS.get(k, k))}</th><td>{_cell(v)}</td><td></td></tr>"
                         for k, v in counts.items())
    metric_rows = "".join(
        f"<tr><th>{LABELS.get(k) or bidi(k)}</th><td>{metric_value(k, v)}</td>"
        f"<td>{_cell(denominators.get(denominator_key(k)))}</td></tr>"
        for k, v in metrics.items())
    others = {k: v for k, v in summary.items() if k not in ("counts", "metrics", "denominators", "by_tag", "meta")}
    other_rows = "".join(f"<tr><th>{bidi(str(k))}</th><td>{_cell(v, 400)}</td><td></td></tr>"
                         for k, v in _flat(others).items())
    note = ('<p class="na" dir="rtl">«—»: لا يُقاس في هذا الملف (لا أسئلة من نوعه، مثل أسئلة بلا إجابة '
            'أو إجابات متوقعة).</p>') if any(v is None for v in metrics.values()) else ""
    extra = {k: summary[k] for k in ("by_tag", "meta") if k in summary}
    more = (f'<details><summary>تفاصيل التشغيل</summary><pre dir="ltr">{esc(json.dumps(extra, ensure_ascii=False, indent=1))}'
            "</pre></details>") if extra else ""
    return (f'<div class="summary-wrap" dir="rtl"><table class="summary"><thead><tr><th>المقياس</th><th>القيمة</th>'
            f'<th>عدد الأسئلة</th></tr></thead><tbody>{count_rows}{metric_rows}{other_rows}</tbody></table>{note}{more}</div>')


# the per-question table: (heading, how a result row shows in it); every field is in results.jsonl
RESULT_COLUMNS: tuple[tuple[str, Callable[[Mapping], str]], ...] = (
    ("المعرّف", lambda r: _cell(r.get("id", ""))),
    ("صحيح", lambda r: mark((r.get("eval") or {}).get("correct"))),
    ("السؤال", lambda r: _cell(r.get("question", ""), 200)),
    ("الإجابة القصيرة", lambda r: _cell(((r.get("short_answer") or {}).get("text") or ""), 120)),
    ("الإجابة", lambda r: _cell(r.get("error") or _one_line(r.get("answer") or ""), 240)),
    ("رُفض", lambda r: mark((r.get("eval") or {}).get("refused", r.get("refused")))),
    ("رتبة المقطع الصحيح", lambda r: _cell((r.get("eval") or {}).get("rank"))),
    ("<bdi>F1</bdi>", lambda r: _cell((r.get("eval") or {}).get("f1"))),
    ("تطابق تام", lambda r: _cell((r.get("eval") or {}).get("exact_match"))),
    ("استشهاد سليم", lambda r: mark((r.get("eval") or {}).get("citation_valid"))),
    ("الزمن (<bdi>ms</bdi>)", lambda r: _cell(round(r["latency_ms"]) if isinstance(r.get("latency_ms"), int | float) else None)),
)


def render_results(rows: Sequence[Mapping], limit: int = 500) -> str:
    """The per-question table: whether each answer is right first, then the question, the short answer, the answer
    and its scores (every other field is in the downloadable results.jsonl)."""
    if not rows:
        return ""
    head = "".join(f"<th>{title}</th>" for title, _ in RESULT_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{show(r)}</td>" for _, show in RESULT_COLUMNS) + "</tr>" for r in rows[:limit])
    first = counted(limit, "سؤال", "سؤالين", "أسئلة", "سؤالاً")
    more = (f'<p class="na" dir="rtl">أول {first} فقط؛ البقية في results.jsonl.</p>' if len(rows) > limit else "")
    return (f'<div class="table-wrap"><table class="results" dir="rtl"><thead><tr>{head}</tr></thead><tbody>{body}'
            f'</tbody></table></div>{more}')
