"""The browser app: a right-to-left Gradio Blocks UI over ``Assistant``.

Only wiring lives here: behaviour is in ``app_handlers`` (plain Python, tested
without a server) and HTML in ``ui_render``. Gradio is imported lazily so that
importing this module (e.g. by the CLI) stays cheap and analytics stay off.
"""

# No ``from __future__ import annotations`` here: Gradio finds gr.Request / gr.EventData
# parameters by their (evaluated) annotations, and gradio itself is imported lazily.
from pathlib import Path
from typing import TYPE_CHECKING

from . import ui_render as ui
from .settings import Settings, set_offline_switches

if TYPE_CHECKING:
    import gradio as gr

STATIC = Path(__file__).parent / "static"
FONTS = ["Noto Naskh Arabic", "Noto Sans Arabic", "DejaVu Sans", "sans-serif"]
MONO_FONTS = ["DejaVu Sans Mono", "monospace"]
TITLE = "مساعد الأسئلة على الوثائق العربية"
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".pdf", ".docx"]


def _static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def launch_options() -> dict:
    """theme/css/head for ``launch()`` (Gradio 6 takes them there): local fonts, RTL page."""
    import gradio as gr

    theme = gr.themes.Default(font=FONTS, font_mono=MONO_FONTS)
    return {"theme": theme, "css_paths": [STATIC / "app.css"], "head": f"<script>{_static('head.js')}</script>"}


class ThrottledAuth:
    """Gradio auth callable: constant-time comparison; after ``max_failures`` wrong passwords within
    ``window`` seconds every attempt is refused until the window has passed (slows password guessing)."""

    def __init__(self, user: str, password: str, max_failures: int = 5, window: float = 60.0, clock=None):
        import threading
        import time

        self.user, self.password = user, password
        self.max_failures, self.window = max_failures, window
        self.clock = clock or time.monotonic
        self.failures: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, user: str, password: str) -> bool:
        import hmac

        with self.lock:
            now = self.clock()
            self.failures = [t for t in self.failures if now - t < self.window]
            if len(self.failures) >= self.max_failures:
                return False
            ok = hmac.compare_digest(str(user).encode(), self.user.encode()) & hmac.compare_digest(
                str(password).encode(), self.password.encode())
            if not ok:
                self.failures.append(now)
            return bool(ok)


def launch(demo, settings: Settings, **overrides):
    """Launch on settings.host:port, with optional auth, never with a public share link."""
    kwargs = {
        "server_name": settings.host,
        "server_port": settings.port,
        "auth": ThrottledAuth(settings.auth_user, settings.auth_password) if settings.auth_user else None,
        # Gradio's own (English) check only stops absurd uploads; ours, in Arabic, is at the upload limit
        "max_file_size": f"{max(1, settings.upload_limit_mb) * 10:g}mb",
        "footer_links": ["api"],
        **launch_options(),
        **overrides,
    }
    kwargs["share"] = False
    return demo.launch(**kwargs)


def serve(settings: Settings | None = None) -> None:
    """``assistant serve``: bring the index up to date (terminal progress), then run the app."""
    set_offline_switches()
    import time

    from .pipeline import Assistant

    started = time.perf_counter()
    settings = settings or Settings.from_env()
    assistant = Assistant(settings)
    print(f"Checking the index in {settings.index_dir} (documents: {settings.docs_dir}) ...", flush=True)
    report = assistant.ensure_index(progress=True, on_problem=lambda m: print(m, flush=True))
    print(f"Index updated: {report.summary()}" if report else "Index is up to date.", flush=True)
    for error in report.errors if report else []:
        print(f"error: {error}", flush=True)
    if not assistant.index.is_empty:  # load the model and warm the answer path now, not on the first question
        first = assistant.ask("ما موضوع الوثائق؟")
        if first.mode == "reader":
            print(f"Answer engine: trained reader ({assistant.reader.reader.name}).", flush=True)
            latin = assistant.latin_reader  # loaded now too: the first English question does not wait for it
            if latin is not assistant.reader:
                print(f"English / Latin-script questions: {latin.reader.name}.", flush=True)
            elif assistant.latin_reader_error:
                print(f"Latin reader unavailable ({assistant.latin_reader_error}): the main reader reads English "
                      "questions.", flush=True)
        else:  # the sentence engine scores document sentences: embed them now
            if assistant.reader_error:
                print(f"Reader unavailable: {assistant.reader_error}", flush=True)
            print(f"Pre-embedded {assistant.warm()} sentences for answer scoring.", flush=True)
    print(f"Index and model ready in {time.perf_counter() - started:.1f} s; starting the web app ...", flush=True)
    demo = build_app(assistant)
    launch(demo, settings)


# ---------------------------------------------------------------------- build
def build_app(assistant) -> "gr.Blocks":
    """The Blocks app for ``assistant`` (launch it with ``launch(demo, settings)``)."""
    set_offline_switches()
    import gradio as gr

    from .app_handlers import AppHandlers

    h = AppHandlers(assistant)
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.HTML(f'<div class="app-header" dir="rtl"><h1>{ui.esc(TITLE)}</h1>'
                '<p>إجابات من وثائقك فقط، مع إحالات قابلة للتحقق إلى الجمل المقتبسة.</p></div>')
        with gr.Tabs() as tabs:
            with gr.Tab("المحادثة", id="chat"):
                _chat_tab(gr, h, assistant.settings)
            with gr.Tab("البحث عن إحالة", id="lookup"):
                lookup = _lookup_tab(gr, h)
            with gr.Tab("الوثائق", id="documents"):
                docs = _documents_tab(gr, h)
            with gr.Tab("التقييم", id="evaluate"):
                _evaluate_tab(gr, h)
        _api(gr, h)

        def on_load(request: gr.Request):
            cite = (request.query_params.get("cite") or "").strip() if request else ""
            doc_updates = (h.documents_html(), gr.Dropdown(choices=h.sources(), value=None))
            if not cite:
                return gr.skip(), gr.skip(), gr.skip(), gr.skip(), *doc_updates
            results, viewer = h.lookup_search(cite)
            return gr.Tabs(selected="lookup"), cite, results, viewer, *doc_updates

        demo.load(on_load, outputs=[tabs, *lookup, *docs], api_visibility="undocumented")
    demo.queue(default_concurrency_limit=4)
    return demo


def _cite_ref(evt) -> str:
    data = getattr(evt, "_data", None) or {}
    return str(data.get("ref", "")) if isinstance(data, dict) else ""


def _chat_tab(gr, h, settings: Settings) -> None:
    from .app_handlers import EXAMPLES

    turns = gr.State([])
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chat = gr.HTML(ui.render_chat([]), js_on_load=_static("cite.js"), elem_id="chat", padding=False)
            status = gr.HTML("", elem_id="chat-status")
            with gr.Row(equal_height=True):
                question = gr.Textbox(placeholder="اكتب سؤالك هنا ثم اضغط «إرسال»…", show_label=False, rtl=True,
                                      lines=1, max_lines=4, scale=6, elem_id="question", autofocus=True)
                send = gr.Button("إرسال", variant="primary", scale=1, min_width=90, elem_id="send")
                new_chat = gr.Button("محادثة جديدة", scale=1, min_width=110, elem_id="new-chat")
            with gr.Row(elem_id="examples"):
                examples = [gr.Button(q, size="sm", elem_classes=["example"]) for q in EXAMPLES]
            with gr.Accordion("الإعدادات", open=False, elem_id="settings"):
                top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="عدد المقاطع المسترجعة (top-k)", elem_id="top-k")
                modes = [("القارئ المدرَّب", "reader"), ("الجمل", "extractive")]
                if settings.llm_base_url or settings.answer_mode == "llm":  # offered once a server is set
                    modes.append(("نموذج لغوي", "llm"))
                mode = gr.Radio(modes, value=settings.answer_mode, label="وضع الإجابة", rtl=True)
        with gr.Column(scale=2):
            viewer = gr.HTML(ui.EMPTY_VIEWER, js_on_load=_static("viewer.js"), elem_id="chat-viewer")

    outputs = [chat, turns, question, status]
    common = {"outputs": outputs, "show_progress": "hidden", "api_visibility": "undocumented"}
    send.click(h.chat, inputs=[question, turns, top_k, mode], **common)
    question.submit(h.chat, inputs=[question, turns, top_k, mode], **common)
    for button, text in zip(examples, EXAMPLES, strict=True):
        button.click(_ask_example(h, text), inputs=[turns, top_k, mode], **common)

    def clear():
        return ui.render_chat([]), [], "", "", ui.EMPTY_VIEWER

    new_chat.click(clear, outputs=[*outputs, viewer], api_visibility="undocumented")

    def on_cite(evt: gr.EventData):
        return h.open_cite(_cite_ref(evt))

    chat.cite(on_cite, outputs=viewer, show_progress="hidden", api_visibility="undocumented")


def _ask_example(h, text: str):
    def ask_example(turns, top_k, mode):
        yield from h.chat(text, turns, top_k, mode)

    return ask_example


def _lookup_tab(gr, h) -> list:
    with gr.Row(equal_height=True):
        query = gr.Textbox(label="معرّف المقطع أو نص للبحث", placeholder="مثال: 004_86e43c809a7d70f4.txt#4 أو «حملات التوعية»",
                           rtl=True, scale=6, elem_id="lookup-query")
        search = gr.Button("بحث", variant="primary", scale=1, min_width=90, elem_id="lookup-search")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1):
            results = gr.HTML("", js_on_load=_static("cite.js"), elem_id="lookup-results")
        with gr.Column(scale=1):
            viewer = gr.HTML(ui.EMPTY_VIEWER, js_on_load=_static("viewer.js"), elem_id="lookup-viewer")
    common = {"outputs": [results, viewer], "api_visibility": "undocumented"}
    search.click(h.lookup_search, inputs=query, **common)
    query.submit(h.lookup_search, inputs=query, **common)

    def on_cite(evt: gr.EventData):
        return h.open_cite(_cite_ref(evt))

    results.cite(on_cite, outputs=viewer, show_progress="hidden", api_visibility="undocumented")
    return [query, results, viewer]


def _documents_tab(gr, h) -> list:
    table = gr.HTML(h.documents_html(), elem_id="documents-table")
    gr.HTML(f'<div class="field-label" dir="rtl">ارفع وثائق ({ui.ltr(" ".join(UPLOAD_TYPES))}) — '
            f"الحد {h.settings.upload_limit_mb:g} ميغابايت للملف</div>")
    files = gr.File(label="ارفع وثائق", show_label=False, file_count="multiple", file_types=UPLOAD_TYPES,
                    type="filepath", elem_id="upload")
    upload = gr.Button("رفع وفهرسة", variant="primary", elem_id="upload-button")
    status = gr.HTML("", elem_id="documents-status")
    with gr.Row(equal_height=True):
        source = gr.Dropdown(choices=h.sources(), value=None, label="وثيقة", scale=3, elem_id="remove-source")
        remove = gr.Button("حذف من الفهرس", variant="stop", scale=1, elem_id="remove-button")
        reindex = gr.Button("إعادة الفهرسة", scale=1, elem_id="reindex-button")

    def refreshed(message):
        return message, h.documents_html(), gr.Dropdown(choices=h.sources(), value=None)

    def do_upload(paths, progress=gr.Progress()):  # noqa: B008 (the Gradio idiom)
        progress(0, desc="قراءة الملفات")
        message = h.upload(paths, on_progress=lambda d, t: progress((d, t), desc="تضمين المقاطع", unit="مقطع"))
        return (*refreshed(message), None)

    def do_reindex(progress=gr.Progress()):  # noqa: B008 (the Gradio idiom)
        progress(0, desc="فحص مجلد الوثائق")
        return refreshed(h.reindex(on_progress=lambda d, t: progress((d, t), desc="تضمين المقاطع", unit="مقطع")))

    outs = [status, table, source]
    upload.click(do_upload, inputs=files, outputs=[*outs, files], api_visibility="undocumented")
    remove.click(lambda s: refreshed(h.remove(s)), inputs=source, outputs=outs, api_visibility="undocumented")
    reindex.click(do_reindex, outputs=outs, api_visibility="undocumented")
    return [table, source]


def _evaluate_tab(gr, h) -> None:
    from .app_handlers import EVAL_TYPES

    gr.Markdown("ارفع ملف أسئلة (JSONL أو CSV: سؤال في كل سطر، مع الحقول `question` و`must` و`gold_docs` "
                "و`answerable`) ثم شغّل التقييم.", rtl=True)
    gr.HTML(f'<div class="field-label" dir="rtl">ملف الأسئلة ({ui.ltr(" ".join(EVAL_TYPES))})</div>')
    qfile = gr.File(label="ملف الأسئلة", show_label=False, file_types=list(EVAL_TYPES), type="filepath",
                    elem_id="eval-file")
    run = gr.Button("تشغيل التقييم", variant="primary", elem_id="eval-run")
    status = gr.HTML("", elem_id="eval-status")
    summary = gr.HTML("", elem_id="eval-summary")
    gr.HTML('<div class="field-label" dir="rtl">النتائج للتنزيل</div>')
    downloads = gr.File(label="النتائج للتنزيل", show_label=False, file_count="multiple", interactive=False,
                        elem_id="eval-downloads")
    table = gr.HTML("", elem_id="eval-table")

    def do_eval(path, progress=gr.Progress()):  # noqa: B008 (the Gradio idiom)
        progress(0, desc="قراءة الأسئلة")
        s, t, files, message = h.evaluate(path, on_progress=lambda d, n: progress((d, n), desc="الأسئلة", unit="سؤال"))
        if s is None:  # the file could not be run: the last results stay
            return message, gr.skip(), gr.skip(), gr.skip()
        return message, s, t, files or None

    run.click(do_eval, inputs=qfile, outputs=[status, summary, table, downloads], api_visibility="undocumented")


def _api(gr, h) -> None:
    """Named endpoints for gradio_client: /ask and /lookup."""
    from .app_handlers import UserError

    def ask(question: str, history: list | None = None) -> dict:
        """Answer a question from the documents; returns the JSON contract (Answer.to_dict())."""
        try:
            return h.api_ask(question, history)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc

    def lookup(chunk_id: str) -> dict:
        """A passage by chunk id: {chunk_id, source, start, end, text, title, document}."""
        try:
            return h.api_lookup(chunk_id)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc

    def documents() -> list[dict]:
        """The indexed documents: [{source, title, chunks, chars, encoding, indexed_at}]."""
        return h.api_documents()

    def add_document(name: str, text: str) -> dict:
        """Add a text document (as an upload: a name clash keeps both); returns {ok, message, documents}."""
        try:
            return h.api_upload_text(name, text)
        except UserError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc

    def remove_document(source: str) -> dict:
        """Remove a document by its name; returns {ok, message, documents}."""
        return h.api_remove(source)

    gr.api(ask, api_name="ask")
    gr.api(lookup, api_name="lookup")
    gr.api(documents, api_name="documents")
    gr.api(add_document, api_name="add_document")
    gr.api(remove_document, api_name="remove_document")
