"""What the browser app does, without Gradio: each method takes plain values and
returns HTML strings / plain data, so the handlers are tested without a server.

``app.py`` wires these to components; errors meant for the user are raised as
``UserError`` (Arabic message) and turned into ``gr.Error`` there.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from . import ui_render as ui
from .loaders import SUPPORTED, LoadError, load_document
from .pipeline import Assistant, QuestionError
from .types import Answer

Progress = Callable[[int, int], None] | None
EVAL_TYPES = (".jsonl", ".ndjson", ".csv", ".tsv", ".json")  # .json: SQuAD v1.1

EXAMPLES = (
    "كم مشاركا حضر حملات التوعية حول مخاطر الهجرة غير النظامية؟",
    "كم عدد ضحايا الاتجار بالبشر حول العالم؟",
    "أين عقد المؤتمر العالمي السادس للقضاء على عمل الأطفال؟",
    "ما شعار اليوم التواصلي الذي نظمته اللجنة الوطنية في الرباط؟",
)


# a passage id as citations write it: «<file name with its extension>#<number>»
_CHUNK_ID = re.compile(r"^\S.*\.\w{1,6}#\d+$")


class UserError(ValueError):
    """A problem the user can fix; the message is shown as is (Arabic)."""


def safe_upload_name(name: str) -> str:
    """The file name an upload may take inside docs_dir, or ``UserError`` saying why not."""
    raw = str(name or "").strip()
    if ".." in raw.replace("\\", "/").split("/"):
        raise UserError(f"اسم الملف «{raw}» غير مقبول: لا يجوز أن يحتوي على «..».")
    base = raw.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not base or base in {".", ".."}:
        raise UserError("اسم الملف فارغ أو غير صالح.")
    if base.startswith("."):
        raise UserError(f"الملفات المخفية غير مقبولة: «{base}».")
    if any(ord(ch) < 32 or ch in '<>:"|?*' for ch in base) or len(base) > 150:
        raise UserError(f"اسم الملف «{base}» يحتوي على رموز غير مسموح بها أو أنه طويل جداً.")
    suffix = Path(base).suffix.lower()
    if suffix not in SUPPORTED:
        kinds = "، ".join(sorted(SUPPORTED))
        raise UserError(f"نوع الملف «{suffix or 'بلا امتداد'}» غير مدعوم في «{base}». الأنواع المدعومة: {kinds}.")
    return base


def _free_name(target: Path) -> Path:
    """``name (2).ext``, ``name (3).ext`` … : the first name not taken in the folder."""
    for n in range(2, 10_000):
        candidate = target.with_name(f"{target.stem} ({n}){target.suffix}")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
    raise UserError(f"too many copies of «{target.name}»")


def _report_message(report) -> tuple[str, str]:
    parts = [f"أُضيف: {len(report.added)}", f"حُدّث: {len(report.updated)}", f"حُذف: {len(report.removed)}",
             f"دون تغيير: {len(report.unchanged)}", f"مقاطع مُضمّنة: {report.embedded_chunks}",
             f"مجموع المقاطع: {report.total_chunks}"]
    text = "اكتملت الفهرسة. " + "، ".join(parts) + "."
    if report.errors:
        text += " أخطاء: " + " | ".join(report.errors)
    return text, "error" if report.errors else "ok"


class AppHandlers:
    def __init__(self, assistant: Assistant):
        self.assistant = assistant
        self.settings = assistant.settings
        self.write_lock = threading.RLock()  # ingest / remove: one at a time

    # ------------------------------------------------------------------ chat
    @staticmethod
    def _history(turns: Sequence[dict]) -> tuple[list[tuple[str, str]], list[str]]:
        """(user, answer) pairs and the cited sources, most recent first, of earlier answers."""
        history, sources = [], []
        for t in turns:
            if t.get("answer") is not None:
                history.append((t["question"], t["answer"]["answer"]))
        for t in reversed(turns):
            for c in (t.get("answer") or {}).get("citations", []):
                if c["source"] not in sources:
                    sources.append(c["source"])
        return history, sources

    def chat(self, question: str, turns: list[dict] | None, top_k=None, mode: str | None = None
             ) -> Iterator[tuple[str, list[dict], str, str]]:
        """Stream (chat html, turns, question box, status html): user bubble first, then text, then sources."""
        turns = list(turns or [])
        try:
            question = self.assistant.check_question(question)
        except QuestionError as exc:
            yield ui.render_chat(turns), turns, question or "", ui.render_message(str(exc), "error")
            return
        history, prefer = self._history(turns)
        turn: dict = {"question": question, "partial": ""}
        yield ui.render_chat([*turns, turn]), turns, "", ""
        try:
            for item in self.assistant.ask_stream(question, history, top_k=int(top_k) if top_k else None,
                                                  mode=mode or None, prefer_sources=prefer):
                if isinstance(item, Answer):
                    turn = {"question": question, "answer": item.to_dict()}
                else:
                    turn["partial"] += item
                yield ui.render_chat([*turns, turn]), turns, "", ""
        except QuestionError as exc:
            turn = {"question": question, "error": str(exc)}
        except ImportError:
            turn = {"question": question, "error": "وضع النموذج اللغوي غير متاح في هذا التثبيت؛ استخدم الوضع الاستخراجي."}
        except Exception as exc:  # the UI must not die with the request
            turn = {"question": question, "error": f"تعذّر إكمال الإجابة ({exc.__class__.__name__}: {exc})."}
        if turn.get("answer") is None and not turn.get("error"):
            turn = {"question": question, "error": "لم تكتمل الإجابة."}
        turns = [*turns, turn]
        yield ui.render_chat(turns), turns, "", ""

    def open_cite(self, ref: str) -> str:
        """Viewer html for ``chunk_id|start|end`` (or a bare chunk id): the span marked in its document."""
        chunk_id, start, end = ui.parse_cite_ref(ref)
        try:
            found = self.assistant.lookup(chunk_id)
        except KeyError:
            return ui.render_message(f"لا يوجد مقطع بالمعرّف «{chunk_id}» في الفهرس الحالي.", "error")
        c = found.chunk
        if start is None or end is None or not 0 <= start < end <= len(found.document):
            start, end = c.start, c.end
        return ui.render_viewer(found.title, c.source, found.document, (start, end), (c.start, c.end), c.chunk_id,
                                ui.answer_span_of(ref))

    # ---------------------------------------------------------------- lookup
    def lookup_search(self, query: str) -> tuple[str, str]:
        """(results html, viewer html): an exact chunk id opens directly; other text is searched."""
        query = (query or "").strip()
        if not query:
            return ui.render_message("اكتب معرّف مقطع (مثل file.txt#3) أو نصاً للبحث.", "info"), ui.EMPTY_VIEWER
        chunk_id, _, _ = ui.parse_cite_ref(query)
        c = self.assistant.index.by_id.get(chunk_id)
        if c is not None:
            chunk = {"chunk_id": c.chunk_id, "start": c.start, "end": c.end, "text": c.text}
            return ui.render_hits([(chunk, None)], ""), self.open_cite(query)
        if _CHUNK_ID.match(chunk_id):  # asked for a passage by its id: say it is not there rather than search
            return ui.render_message(self._missing_chunk(chunk_id), "error"), ui.EMPTY_VIEWER
        hits = self.assistant.search(query, 10)
        rows = [({"chunk_id": h.chunk.chunk_id, "start": h.chunk.start, "end": h.chunk.end, "text": h.chunk.text},
                 h.score) for h in hits]
        return ui.render_hits(rows, query), ui.EMPTY_VIEWER

    def _missing_chunk(self, chunk_id: str) -> str:
        source, _, number = chunk_id.rpartition("#")
        doc = next((d for d in self.assistant.documents() if d.source == source), None)
        if doc is None:
            return f"لا يوجد مقطع بالمعرّف «{chunk_id}»: لا وثيقة باسم «{source}» في الفهرس الحالي."
        return (f"لا يوجد مقطع بالمعرّف «{chunk_id}»: مقاطع «{source}» مرقّمة من 0 إلى {doc.chunks - 1}.")

    # ------------------------------------------------------------- documents
    def documents_html(self) -> str:
        return ui.render_documents(self.assistant.documents())

    def sources(self) -> list[str]:
        return [d.source for d in self.assistant.documents()]

    def upload(self, paths: Sequence[str | Path] | None, on_progress: Progress = None) -> str:
        """Validate, copy into docs_dir and ingest uploaded files; returns a status message (html)."""
        return ui.render_message(*self._upload(paths, on_progress))

    def _upload(self, paths: Sequence[str | Path] | None, on_progress: Progress = None) -> tuple[str, str]:
        """(message, kind) — kind is ok, info or error."""
        paths = [p for p in (paths or []) if p]
        if not paths:
            return "لم تُختر أي ملفات.", "error"
        limit = self.settings.upload_limit_mb
        docs_dir = Path(self.settings.docs_dir).resolve()
        accepted, problems, notes = [], [], []
        with tempfile.TemporaryDirectory(prefix="upload-") as staging:
            for p in paths:
                p = Path(p)
                try:
                    name = safe_upload_name(p.name)
                    if p.stat().st_size > limit * 1024 * 1024:
                        raise UserError(f"الملف «{name}» أكبر من الحد المسموح ({limit:g} ميغابايت).")
                    staged = Path(staging) / name
                    shutil.copyfile(p, staged)
                    load_document(staged)  # readable, has text
                except LoadError as exc:
                    problems.append(exc.arabic)
                    continue
                except UserError as exc:
                    problems.append(str(exc))
                    continue
                except OSError as exc:
                    problems.append(f"تعذّرت قراءة الملف «{p.name}»: {exc.strerror or exc}")
                    continue
                target = (docs_dir / name).resolve()
                if target.parent != docs_dir:  # defence in depth: never outside the folder
                    problems.append(f"اسم الملف «{name}» غير مقبول.")
                    continue
                if target.exists() or target.is_symlink():  # never overwrite silently: keep both
                    if target.is_file() and not target.is_symlink() and target.read_bytes() == staged.read_bytes():
                        notes.append(f"«{name}» موجود بالمحتوى نفسه؛ لم يتغير شيء.")
                        continue
                    target = _free_name(target)
                    notes.append(f"يوجد مستند باسم «{name}»؛ احتُفظ بالاثنين وسُمّي الجديد «{target.name}».")
                docs_dir.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(staged, target)
                accepted.append(target.name)
        if not accepted:
            return " ".join(["لم يُقبل أي ملف.", *notes, *problems]), "error" if problems else "info"
        with self.write_lock:
            report = self.assistant.ingest([docs_dir], progress=False, on_progress=on_progress)
        text, kind = _report_message(report)
        text = f"رُفع: {'، '.join(accepted)}. " + text + "".join(" " + p for p in notes + problems)
        return text, "error" if problems else kind

    def remove(self, source: str) -> str:
        """Remove a document from the index; its file leaves docs_dir (moved to index_dir/removed)."""
        return ui.render_message(*self._remove(source))

    def _remove(self, source: str) -> tuple[str, str]:
        if not source:
            return "اختر وثيقة لحذفها.", "error"
        # the index lock covers the file move too: no other writer can re-read the file in between
        with self.write_lock, self.assistant.index.write_lock():
            info = self.assistant.index.docs.get(source)
            if info is None or not self.assistant.remove(source):
                return f"لا توجد وثيقة مفهرسة باسم «{source}».", "error"
            moved = self._move_out(Path(info.path)) if info.path else None
        # no server path in the message (the app may serve people who do not run it)
        note = (" نُقل الملف إلى مجلد المحذوفات داخل الفهرس كي لا يُعاد فهرسته؛ لاسترجاع الوثيقة ارفعها من جديد"
                " في هذا التبويب.") if moved else ""
        return f"حُذفت الوثيقة «{source}» من الفهرس.{note}", "ok"

    def _move_out(self, path: Path) -> Path | None:
        docs_dir = Path(self.settings.docs_dir).resolve()
        if not path.is_file() or not path.resolve().is_relative_to(docs_dir):
            return None
        target = Path(self.settings.index_dir) / "removed" / time.strftime("%Y%m%d-%H%M%S") / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), target)
        return target

    def reindex(self, on_progress: Progress = None) -> str:
        with self.write_lock:
            report = self.assistant.ingest(progress=False, on_progress=on_progress)
        return ui.render_message(*_report_message(report))

    # ------------------------------------------------------------ evaluation
    def evaluate(self, path: str | Path | None, on_progress: Progress = None
                 ) -> tuple[str | None, str | None, list[str] | None, str]:
        """(summary html, table html, downloadable files, status html) for a questions file. When the file cannot
        be run, the first three are None: the last run's results stay on screen and only the status says why."""
        def failed(message: str) -> tuple[None, None, None, str]:
            return None, None, None, ui.render_message(message, "error")

        if not path:
            return failed("اختر ملف أسئلة أولاً.")
        from .evaluation import load_questions, run_eval

        if Path(path).suffix.lower() not in EVAL_TYPES:
            return failed(f"نوع ملف الأسئلة غير مدعوم. الأنواع المدعومة: {'، '.join(EVAL_TYPES)}.")
        out_dir = Path(tempfile.mkdtemp(prefix="assistant-eval-"))
        assistant = self.assistant
        try:
            if Path(path).suffix.lower() == ".json":  # SQuAD: its paragraphs get their own index
                from .evaluation import squad_assistant

                assistant, rows, errors = squad_assistant(self.assistant.settings, Path(path), out_dir / "run",
                                                          embedder=self.assistant.embedder, progress=False)
            else:
                rows, errors = load_questions(Path(path))
        except (ValueError, OSError) as exc:
            return failed(f"تعذّرت قراءة ملف الأسئلة: {exc}")
        if not rows:
            detail = " | ".join(str(e) for e in errors[:5])
            return failed("لم يُقرأ أي سؤال من الملف: كل سطر في JSONL كائن JSON فيه الحقل question، ولملف CSV عمود "
                          f"question. ما وُجد: {detail}")
        summary = run_eval(assistant, rows, out_dir, progress=False, on_progress=on_progress)
        results = _read_jsonl(out_dir / "results.jsonl")
        files = [str(out_dir / n) for n in ("results.jsonl", "summary.json", "report.html") if (out_dir / n).exists()]
        note = f"اكتمل التقييم: {ui.counted(len(rows), 'سؤال', 'سؤالان', 'أسئلة', 'سؤالاً')}."
        if errors:
            note += f" تُخطّي {ui.counted(len(errors), 'سطر', 'سطران', 'أسطر', 'سطراً')} غير صالح."
        return ui.render_summary(summary or {}), ui.render_results(results), files, ui.render_message(note, "ok")

    # ------------------------------------------------------------------- API
    def api_ask(self, question: str, history: list | None = None) -> dict:
        pairs = []
        for t in history or []:
            if not isinstance(t, list | tuple) or len(t) != 2:
                raise UserError("history: قائمة أزواج [سؤال، إجابة].")
            pairs.append((str(t[0]), str(t[1])))
        try:
            return self.assistant.ask(question, pairs).to_dict()
        except QuestionError as exc:
            raise UserError(str(exc)) from exc

    def api_documents(self) -> list[dict]:
        return [{"source": d.source, "title": d.title, "chunks": d.chunks, "chars": d.chars, "encoding": d.encoding,
                 "indexed_at": d.indexed_at} for d in self.assistant.documents()]

    def api_upload_text(self, name: str, text: str) -> dict:
        """Add a document from text (same checks and path as a browser upload)."""
        with tempfile.TemporaryDirectory(prefix="upload-api-") as folder:
            path = Path(folder) / (str(name or "").replace("\\", "/").rsplit("/", 1)[-1] or "document.txt")
            try:
                path.write_text(str(text or ""), encoding="utf-8")
            except OSError as exc:
                raise UserError(f"اسم الملف «{name}» غير مقبول ({exc.strerror}).") from exc
            message, kind = self._upload([path])
        return {"ok": kind != "error", "message": message, "documents": [d["source"] for d in self.api_documents()]}

    def api_remove(self, source: str) -> dict:
        message, kind = self._remove(str(source or ""))
        return {"ok": kind == "ok", "message": message, "documents": [d["source"] for d in self.api_documents()]}

    def api_lookup(self, chunk_id: str) -> dict:
        try:
            found = self.assistant.lookup(ui.parse_cite_ref(chunk_id)[0])
        except KeyError as exc:
            raise UserError(f"لا يوجد مقطع بالمعرّف «{chunk_id}».") from exc
        c = found.chunk
        return {"chunk_id": c.chunk_id, "source": c.source, "start": c.start, "end": c.end, "text": c.text,
                "title": found.title, "document": found.document}


def _read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows
