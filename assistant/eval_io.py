"""Readers for evaluation question sets: JSONL, CSV and SQuAD v1.1 JSON.

Every reader returns the rows it could read plus one message per malformed row
("line N: reason", or "article X paragraph Y question Z: reason" for SQuAD, with
0-based indices as in the sources ``<title>#<paragraph index>``); malformed rows
are skipped, the rest are processed. Rows without an id get ``q1``, ``q2`` ...
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

from . import arabic
from .types import Document

FORMATS = ("jsonl", "csv", "squad")
_TRUE = {"true", "1", "yes", "y", "نعم"}
_FALSE = {"false", "0", "no", "n", "لا"}


@dataclass(frozen=True)
class EvalRow:
    id: str
    question: str
    history: tuple[tuple[str, str], ...] = ()
    gold_docs: tuple[str, ...] = ()
    must: tuple[tuple[str, ...], ...] = ()  # groups of alternatives; every group must match
    expected_answers: tuple[str, ...] = ()
    answerable: bool = True
    tags: tuple[str, ...] = ()


class RowError(ValueError):
    pass


def guess_format(path: str | Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix in {".csv", ".tsv"}:
        return "csv"
    if suffix == ".json":
        return "squad"
    raise ValueError(f"{Path(path).name}: cannot tell the format from the extension; pass --format jsonl|csv|squad")


def load_questions(path: str | Path, fmt: str | None = None) -> tuple[list[EvalRow], list[str]]:
    """(rows, errors) from a question file; the format comes from ``fmt`` or the extension."""
    kind = guess_format(path, fmt)
    if kind == "squad":
        _, rows, errors = load_squad(path)
        return rows, errors
    return (_load_jsonl if kind == "jsonl" else _load_csv)(Path(path))


# ----------------------------------------------------------------- fields
def _bool(value, default: bool = True) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError(f"answerable must be true/false/1/0/yes/no, not {value!r}")


def _strings(value, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RowError(f"{name} must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def _must(value) -> tuple[tuple[str, ...], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RowError("must must be a list of groups (lists of alternative strings)")
    groups = []
    for group in value:
        if not isinstance(group, list):
            raise RowError("must must be a list of groups: [[alternative, ...], ...]")
        alternatives = _strings(group, "each must group")
        if not alternatives:
            raise RowError("a must group has no alternative")
        groups.append(alternatives)
    return tuple(groups)


def _history(value) -> tuple[tuple[str, str], ...]:
    if value is None or value == "":
        return ()
    if not isinstance(value, list) or not all(
        isinstance(t, list | tuple) and len(t) == 2 and all(isinstance(x, str) for x in t) for t in value
    ):
        raise RowError("history must be a list of [user, assistant] string pairs")
    return tuple((u, a) for u, a in value)


def _row(data: dict, fallback_id: str) -> EvalRow:
    question = data.get("question")
    if not isinstance(question, str):
        raise RowError("no question" if question is None else "question must be a string")
    expected = data.get("expected_answers", data.get("expected_answer"))
    row_id = data.get("id")
    row_id = str(row_id).strip() if row_id not in (None, "") else fallback_id
    return EvalRow(
        id=row_id, question=question, history=_history(data.get("history")),
        gold_docs=_strings(data.get("gold_docs"), "gold_docs"), must=_must(data.get("must")),
        expected_answers=_strings(expected, "expected_answers"), answerable=_bool(data.get("answerable")),
        tags=_strings(data.get("tags"), "tags"),
    )


class _Collector:
    """Keeps ids unique and generates the missing ones (q1, q2 ... by row position)."""

    def __init__(self):
        self.rows: list[EvalRow] = []
        self.errors: list[str] = []
        self.ids: set[str] = set()

    def add(self, where: str, make) -> None:
        try:
            row = make(f"\0q{len(self.rows) + 1}")
        except RowError as exc:
            self.errors.append(f"{where}: {exc}")
            return
        if row.id in self.ids:
            self.errors.append(f"{where}: duplicate id {row.id!r}")
            return
        self.ids.add(row.id)
        self.rows.append(row)

    def finish(self) -> tuple[list[EvalRow], list[str]]:
        out = []
        n = 0
        for row in self.rows:  # generated ids are placeholders until now, to avoid clashes
            if row.id.startswith("\0"):
                n += 1
                while f"q{n}" in self.ids:
                    n += 1
                self.ids.add(f"q{n}")
                row = EvalRow(f"q{n}", *[getattr(row, f) for f in list(EvalRow.__dataclass_fields__)[1:]])
            out.append(row)
        return out, self.errors


# ----------------------------------------------------------------- readers
def _load_jsonl(path: Path) -> tuple[list[EvalRow], list[str]]:
    out = _Collector()
    for n, line in enumerate(_decoded(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            out.errors.append(f"line {n}: invalid JSON ({exc.msg})")
            continue
        if not isinstance(data, dict):
            out.errors.append(f"line {n}: not a JSON object")
            continue
        out.add(f"line {n}", lambda fid, d=data: _row(d, fid))
    return out.finish()


def _decoded(path: Path) -> str:
    """A question file's text in whatever common encoding it was saved (as documents are read)."""
    from .loaders import LoadError, decode_bytes

    try:
        return decode_bytes(path.read_bytes(), path.name)[0]
    except LoadError as exc:
        raise ValueError(str(exc)) from exc


# Arabic column names (normalised) → the English ones
CSV_HEADERS = {arabic.normalize(k): v for k, v in {
    "السؤال": "question", "سؤال": "question", "المعرف": "id", "المعرّف": "id", "الرقم": "id", "معرف": "id",
    "السجل": "history", "المحادثة": "history", "الوثائق": "gold_docs", "المستندات": "gold_docs", "المصادر": "gold_docs",
    "يجب": "must", "الشروط": "must", "الإجابة": "expected_answer", "الاجابة": "expected_answer",
    "الإجابة المتوقعة": "expected_answer", "قابل للإجابة": "answerable", "يمكن الإجابة": "answerable",
    "الوسوم": "tags", "التصنيف": "tags",
}.items()}


def _split(text: str | None, sep: str) -> list[str]:
    return [p.strip() for p in (text or "").split(sep) if p.strip()]


def _csv_row(rec: dict, fid: str) -> EvalRow:
    if None in rec:
        raise RowError("more cells than columns")
    history = rec.get("history") or ""
    if history.strip():
        try:
            history = json.loads(history)
        except json.JSONDecodeError as exc:
            raise RowError(f"history is not valid JSON ({exc.msg})") from exc
    data = {
        "id": rec.get("id"), "question": rec.get("question"), "history": history or None,
        "gold_docs": _split(rec.get("gold_docs"), ";"),
        "must": [_split(group, "|") for group in _split(rec.get("must"), ";")],
        "expected_answer": rec.get("expected_answer") or None, "answerable": rec.get("answerable"),
        "tags": _split(rec.get("tags"), ";"),
    }
    return _row(data, fid)


def _load_csv(path: Path) -> tuple[list[EvalRow], list[str]]:
    out = _Collector()
    with io.StringIO(_decoded(path), newline="") as f:
        reader = csv.DictReader(f, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        headers = [CSV_HEADERS.get(arabic.normalize(h.strip()), h.strip()) for h in reader.fieldnames or []]
        if "question" not in headers:
            return [], ["line 1: the header has no 'question' (السؤال) column"]
        reader.fieldnames = headers
        line = reader.line_num
        for rec in reader:
            start, line = line + 1, reader.line_num
            if not any((v or "").strip() for k, v in rec.items() if k is not None):
                continue
            out.add(f"line {start}", lambda fid, r=rec: _csv_row(r, fid))
    return out.finish()


def load_squad(path: str | Path) -> tuple[list[Document], list[EvalRow], list[str]]:
    """SQuAD v1.1 or 2.0 (``is_impossible`` questions are expected refusals): every paragraph is a Document with source ``<title>#<paragraph index>``.

    When an article title repeats with different paragraphs (ARCD has 9 such), the later
    article's sources become ``<title> (2)#<i>``, ``<title> (3)#<i>`` ... so sources stay unique.
    """
    try:
        data = json.loads(_decoded(Path(path)))
    except json.JSONDecodeError as exc:
        return [], [], [f"line {exc.lineno}: invalid JSON ({exc.msg})"]
    articles = data.get("data") if isinstance(data, dict) else None
    if not isinstance(articles, list):
        return [], [], ["the file has no 'data' list (not SQuAD JSON)"]
    docs: dict[str, Document] = {}
    out = _Collector()
    seen_titles: dict[str, int] = {}
    for a, article in enumerate(articles):
        paragraphs = article.get("paragraphs") if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            out.errors.append(f"article {a}: no 'paragraphs' list")
            continue
        title = str(article.get("title") or f"article {a}").strip()
        seen_titles[title] = seen_titles.get(title, 0) + 1
        if seen_titles[title] > 1:
            title = f"{title} ({seen_titles[title]})"
        for p, para in enumerate(paragraphs):
            context = para.get("context") if isinstance(para, dict) else None
            if not isinstance(context, str) or not context.strip():
                out.errors.append(f"article {a} paragraph {p}: no context text")
                continue
            source = f"{title}#{p}"
            docs[source] = Document(source=source, text=context, title=title)
            qas = para.get("qas") or []
            for q, qa in enumerate(qas if isinstance(qas, list) else []):
                out.add(f"article {a} paragraph {p} question {q}", lambda fid, qa=qa, s=source: _squad_row(qa, s, fid))
    rows, errors = out.finish()
    return list(docs.values()), rows, errors


def _squad_row(qa, source: str, fid: str) -> EvalRow:
    if not isinstance(qa, dict):
        raise RowError("not an object")
    question = qa.get("question")
    if qa.get("is_impossible") is True:  # SQuAD 2.0: the right behaviour is to say the documents don't say
        if not isinstance(question, str) or not question.strip():
            raise RowError("no question")
        return _row({"id": qa.get("id"), "question": question.strip(), "answerable": False}, fid)
    answers = qa.get("answers")
    if not isinstance(answers, list) or not answers:
        raise RowError("no answers")
    texts = [a.get("text") for a in answers if isinstance(a, dict)]
    if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise RowError("an answer has no text")
    question = qa.get("question")
    if not isinstance(question, str) or not question.strip():
        raise RowError("no question")
    return _row({"id": qa.get("id"), "question": question.strip(), "gold_docs": [source],
                 "expected_answers": list(dict.fromkeys(t.strip() for t in texts)), "answerable": True}, fid)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
