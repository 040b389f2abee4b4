"""The browser app without a browser: HTML rendering (pure) and the handlers, with the fake embedder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant import ui_render as ui
from assistant.app_handlers import AppHandlers, UserError, safe_upload_name

Q150 = "كم مشاركا حضر حملات التوعية حول مخاطر الهجرة غير النظامية؟"
EVIL = '<script>window.__pwned = 1</script> نص عربي <img src=x onerror="window.__pwned=2"> ${7*7} {{7*7}}'


def _unmarked(html_text: str) -> str:
    """Visible text of a fragment (tags dropped, entities decoded)."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def _marks(html_text: str, cls: str = "hl") -> list[str]:
    return [_unmarked(m) for m in re.findall(rf'<mark class="{cls}">(.*?)</mark>', html_text, re.S)]


# ------------------------------------------------------------------ ui_render
def test_escape_makes_markup_inert():
    out = ui.bidi(EVIL)
    assert "<script>" not in out and "<img" not in out
    assert _unmarked(out) == EVIL  # shown as text, character for character
    assert ui.esc(EVIL).startswith("&lt;script&gt;") and 'onerror=&quot;' in ui.esc(EVIL)


def test_latin_runs_are_bidi_isolated():
    out = ui.bidi("راجع الملف 004_86e43c809a7d70f4.txt#4 وحجمه 20 MB فقط.")
    assert '<bdi dir="ltr">004_86e43c809a7d70f4.txt#4</bdi>' in out
    assert '<bdi dir="ltr">20 MB</bdi>' in out
    assert out.endswith("فقط.")  # sentence punctuation stays outside the isolate
    assert ui.ltr("a<b") == '<bdi dir="ltr">a&lt;b</bdi>'


def test_cite_ref_round_trip():
    ref = ui.cite_ref("weird|name.txt#3", 10, 42)
    assert ui.parse_cite_ref(ref) == ("weird|name.txt#3", 10, 42)
    assert ui.parse_cite_ref(" doc.txt#2 ") == ("doc.txt#2", None, None)


def test_link_markers_only_links_known_citations():
    cites = [{"n": 1, "source": "a.txt", "chunk_id": "a.txt#0", "start": 3, "end": 9, "quote": "x"}]
    out = ui.link_markers("جملة <b> [1] وأخرى [2]", cites)
    assert out.count('class="cite"') == 1
    assert 'data-cite="a.txt#0|3|9"' in out
    assert _unmarked(out) == "جملة <b> [1] وأخرى [2]" and "<b>" not in out


def test_highlight_marks_exactly_the_span_inside_the_passage():
    text = "أول. <b>الجملة المقتبسة</b> هنا. آخر."
    a = text.index("<b>")
    b = text.index("</b>") + 4
    out = ui.highlight(text, (a, b), passage=(0, text.index(" آخر")))
    assert _marks(out) == [text[a:b]]
    assert out.count("<mark") == 1 and '<span class="passage">' in out
    assert _unmarked(out) == text
    # a span outside the passage is still marked, without the passage shading
    out = ui.highlight(text, (a, b), passage=(0, 3))
    assert _marks(out) == [text[a:b]] and "passage" not in out
    # out-of-range spans are clamped, never raise
    assert _marks(ui.highlight("abc", (-5, 99))) == ["abc"]


def test_highlight_terms_matches_normalised_stems():
    out = ui.highlight_terms("حضر الحملات 150 مشاركاً في الرباط", "الحملة في الرباط")
    assert "الرباط" in _marks(out, "term")
    assert "في" not in _marks(out, "term")  # stopwords are not highlighted


def test_render_answer_with_sources_notice_and_copy():
    answer = {"answer": "نص الإجابة [1]", "refused": False, "notice": "تعذّر الوصول إلى النموذج",
              "citations": [{"n": 1, "source": "a.txt", "chunk_id": "a.txt#0", "start": 6, "end": 10, "quote": "نص ا"}],
              "passages": [{"n": 1, "source": "a.txt", "chunk_id": "a.txt#0", "start": 0, "end": 20, "score": 0.5,
                            "text": "مقدمة نص الإجابة هنا"}]}
    out = ui.render_answer(answer)
    assert 'class="cite"' in out and 'class="sources"' in out and 'class="notice"' in out
    assert 'data-copy="نص الإجابة [1]\n\nالمصادر:\n[1] a.txt' in out and "0.500" in out
    assert _marks(out, "quote") == ["نص ا"]


def test_refusal_is_plain_without_sources():
    out = ui.render_answer({"answer": "لا تتضمن الوثائق إجابة [1]", "refused": True, "citations": [], "passages": []})
    assert "sources" not in out and 'class="cite"' not in out and "refused" in out


def test_render_chat_mirrors_bubbles_and_is_rtl():
    out = ui.render_chat([{"question": "سؤال؟", "partial": "بداية"}])
    assert 'dir="rtl"' in out and 'class="msg user"' in out and 'class="msg bot"' in out
    assert "cursor" in out  # still streaming
    assert ui.WELCOME in ui.render_chat([])


def test_long_titles_are_cut_between_words_and_the_viewer_names_the_passage_once():
    title = "نظمت اللجنة الوطنية لتنسيق إجراءات مكافحة الاتجار بالبشر والوقاية منه، أمس الخميس، يومًا تواصليًا " * 3
    short = ui.short_title(title[:200])
    assert short.endswith("…") and len(short) <= 121 and short[:-1] == title[:len(short) - 1]
    assert title[len(short) - 1] == " " or title[len(short) - 1:len(short) + 1] == "، "  # whole words only
    assert ui.short_title("عنوان قصير") == "عنوان قصير"
    out = ui.render_viewer(title, "003_x.txt", "نص الوثيقة كله.", (0, 3), chunk_id="003_x.txt#4")
    meta = _unmarked(out.split('class="viewer-meta"')[1])
    assert meta.count("003_x.txt") == 1 and "المقطع 4" in meta and "الأحرف 0–3" in meta
    assert 'data-id="003_x.txt#4"' in out


def test_copied_answer_lists_what_each_marker_cites():
    answer = {"answer": "240 [1]\nالحملة شملت 240 مشاركاً [1]", "refused": False,
              "citations": [{"n": 1, "source": "004_x.txt", "chunk_id": "004_x.txt#2", "start": 10, "end": 40,
                             "quote": "الحملة شملت 240 مشاركاً"}]}
    text = ui.copy_text(answer)
    assert text.startswith(answer["answer"]) and "المصادر:" in text
    assert "[1] 004_x.txt (10–40): «الحملة شملت 240 مشاركاً»" in text
    assert ui.copy_text({"answer": "لا تتضمن الوثائق المتاحة إجابة.", "refused": True, "citations": []}) == \
        "لا تتضمن الوثائق المتاحة إجابة."
    assert 'data-copy="240 [1]' in ui.render_answer(answer)


def test_viewer_escapes_document_text():
    out = ui.render_viewer("<i>t</i>", "x.txt", EVIL, (0, 10), chunk_id="x.txt#0")
    assert "<script>" not in out and "<img" not in out and "<i>" not in out
    assert _marks(out) == [EVIL[:10]]


def test_summary_names_metrics_in_arabic_with_their_counts_and_escapes():
    summary = {"counts": {"rows": 3, "refused": 1}, "metrics": {"accuracy": 0.5, "refusal_accuracy": None,
               "latency_p50_ms": 257.0}, "denominators": {"judged": 2, "latency": 3}, "meta": {"git": "<x>"}}
    out = _unmarked(ui.render_summary(summary))
    assert "الصواب الإجمالي" in out and "50.0%" in out and "257 ms" in out and "الأسئلة" in out
    assert "metrics.accuracy" not in out and "counts.rows" not in out  # no raw keys
    assert "لا يُقاس في هذا الملف" in out  # why refusal_accuracy shows «—»
    assert "<x>" not in ui.render_summary(summary)


def test_results_table_puts_the_verdict_first_and_escapes():
    rows = [{"id": "d1", "question": "<b>س</b>", "answer": "240 [1]\nالحملة [1]", "short_answer": {"text": "240"},
             "eval": {"correct": True, "refused": False, "f1": 1.0, "rank": 1}, "latency_ms": 301.4,
             "passages": [{}], "citations": [1, 2]},
            {"id": "d2", "question": "س2", "error": "RuntimeError: boom", "eval": {"correct": False, "error": True}}]
    out = ui.render_results(rows)
    heads = re.findall(r"<th>(.*?)</th>", out)
    assert heads[:3] == ["المعرّف", "صحيح", "السؤال"]
    assert "<b>" not in out and "&lt;b&gt;" in out
    text = _unmarked(out)
    assert "✓" in text and "✗" in text and "240" in text and "RuntimeError: boom" in text and "301" in text
    assert "eval.correct" not in text and "passages" not in text


# ------------------------------------------------------------------ handlers
@pytest.fixture
def handlers(fake_assistant) -> AppHandlers:
    return AppHandlers(fake_assistant)


def _final(stream):
    steps = list(stream)
    return steps, steps[-1]


def test_chat_streams_user_bubble_first_then_answer_with_sources(handlers):
    steps, (html_out, turns, box, status) = _final(handlers.chat(Q150, []))
    first_html, first_turns, first_box, _ = steps[0]
    assert "msg user" in first_html and "cursor" in first_html and first_turns == [] and first_box == ""
    assert len(steps) >= 3  # user bubble, >=1 text piece, final
    assert len(turns) == 1 and turns[0]["answer"]["answer"]
    answer = turns[0]["answer"]
    assert not answer["refused"] and "150" in answer["answer"]
    assert 'class="cite"' in html_out and 'class="sources"' in html_out and status == ""


def test_follow_up_passes_history_and_cited_sources(handlers, monkeypatch):
    _, (_, turns, _, _) = _final(handlers.chat(Q150, []))
    seen = {}
    real = handlers.assistant.ask_stream

    def spy(question, history=(), top_k=None, mode=None, prefer_sources=()):
        seen.update(history=list(history), prefer=list(prefer_sources), top_k=top_k, mode=mode)
        yield from real(question, history, top_k, mode, prefer_sources)

    monkeypatch.setattr(handlers.assistant, "ask_stream", spy)
    _, (_, turns2, _, _) = _final(handlers.chat("وأين عقدت؟", turns, 3, "extractive"))
    assert seen["history"] == [(Q150, turns[0]["answer"]["answer"])]
    assert seen["prefer"] == [c["source"] for c in turns[0]["answer"]["citations"]]
    assert seen["top_k"] == 3 and seen["mode"] == "extractive"
    assert len(turns2) == 2


@pytest.mark.parametrize("question", ["", "   ", "س" * 5000])
def test_bad_question_shows_message_and_keeps_state(handlers, question):
    steps = list(handlers.chat(question, [{"question": "q", "answer": None, "error": "x"}]))
    assert len(steps) == 1
    html_out, turns, _, status = steps[0]
    assert 'class="status error"' in status and len(turns) == 1


def test_pipeline_failure_becomes_a_message(handlers, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("index busy")
        yield

    monkeypatch.setattr(handlers.assistant, "ask_stream", boom)
    _, (html_out, turns, _, _) = _final(handlers.chat(Q150, []))
    assert "index busy" in html_out and turns[0]["error"]


def test_open_cite_highlights_the_quote_in_the_whole_document(handlers):
    _, (_, turns, _, _) = _final(handlers.chat(Q150, []))
    c = turns[0]["answer"]["citations"][0]
    viewer = handlers.open_cite(ui.cite_ref(c["chunk_id"], c["start"], c["end"]))
    assert _marks(viewer) == [c["quote"]]
    doc = handlers.assistant.index.document_text(c["source"])
    assert _unmarked(viewer).endswith(doc)  # the whole document, unaltered
    assert "لا يوجد مقطع" in handlers.open_cite("missing.txt#9|1|2")
    # a bad span falls back to the chunk's own span
    chunk = handlers.assistant.index.by_id[c["chunk_id"]]
    assert _marks(handlers.open_cite(f"{c['chunk_id']}|5|1"))[0] == chunk.text


def test_lookup_by_chunk_id_and_by_text(handlers):
    chunk = handlers.assistant.index.chunks[3]
    results, viewer = handlers.lookup_search(chunk.chunk_id)
    assert "مطابقة المعرّف" in results and _marks(viewer) == [chunk.text]
    results, viewer = handlers.lookup_search("حملات التوعية")
    assert results.count('class="hit"') >= 1 and 'class="term"' in results and viewer == ui.EMPTY_VIEWER
    results, _ = handlers.lookup_search("  ")
    assert "status" in results


def test_lookup_of_an_id_that_is_not_there_says_so_instead_of_searching(handlers):
    source = handlers.assistant.index.chunks[0].source
    count = sum(c.source == source for c in handlers.assistant.index.chunks)
    results, viewer = handlers.lookup_search(f"{source}#{count + 50}")
    assert "status error" in results and 'class="hit"' not in results and viewer == ui.EMPTY_VIEWER
    assert f"من 0 إلى {count - 1}" in _unmarked(results)
    results, _ = handlers.lookup_search("xyz_not_there.txt#99")
    assert "status error" in results and "لا وثيقة باسم" in _unmarked(results)


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "..\\evil.md", ".hidden.txt", "run.exe",
                                  "noext", "", "a\x00b.txt", "x" * 200 + ".txt"])
def test_unsafe_upload_names_are_rejected(name):
    with pytest.raises(UserError):
        safe_upload_name(name)


def test_upload_names_keep_only_the_basename():
    assert safe_upload_name("/tmp/gradio/abc/تقرير.txt") == "تقرير.txt"
    assert safe_upload_name("C:\\Users\\me\\notes.MD") == "notes.MD"


def test_upload_copies_into_docs_dir_and_is_searchable(handlers, tmp_path):
    src = tmp_path / "up" / "new_doc.txt"
    src.parent.mkdir()
    src.write_text("تقرير جديد\nأعلنت بلدية الزرقاء افتتاح مكتبة الفسيفساء الكبرى في حزيران.", encoding="utf-8")
    progress = []
    msg = handlers.upload([str(src)], on_progress=lambda d, t: progress.append((d, t)))
    assert "status ok" in msg and "new_doc.txt" in msg
    assert (Path(handlers.settings.docs_dir) / "new_doc.txt").exists() and progress[-1][0] == progress[-1][1]
    assert "new_doc.txt" in handlers.sources() and "new_doc.txt" in handlers.documents_html()
    results, _ = handlers.lookup_search("مكتبة الفسيفساء")
    assert "new_doc.txt#0" in results


def test_upload_rejections_are_clear_and_copy_nothing(handlers, tmp_path):
    before = sorted(p.name for p in Path(handlers.settings.docs_dir).iterdir())
    (tmp_path / "run.exe").write_bytes(b"MZ")
    (tmp_path / ".secret.txt").write_text("سر", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("   ", encoding="utf-8")
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (handlers.settings.max_upload_mb * 1024 * 1024 + 1))
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 8)  # a binary file renamed .txt
    msg = handlers.upload([str(tmp_path / n) for n in ("run.exe", ".secret.txt", "empty.txt", "big.txt", "binary.txt")])
    assert "status error" in msg
    for expected in ("غير مدعوم", "المخفية", "لا يحتوي على نص", "أكبر من الحد", "binary.txt"):
        assert expected in msg
    assert "no text" not in msg and "does not look like text" not in msg  # the app says why in Arabic
    assert sorted(p.name for p in Path(handlers.settings.docs_dir).iterdir()) == before
    assert "لم تُختر" in handlers.upload([])


def test_uploaded_script_document_renders_inert(handlers, tmp_path):
    src = tmp_path / "evil.txt"
    src.write_text(f"وثيقة خبيثة\n{EVIL}\nنهاية الوثيقة.", encoding="utf-8")
    assert "status ok" in handlers.upload([str(src)])
    chunk = handlers.assistant.index.chunks_of("evil.txt")[0]
    results, viewer = handlers.lookup_search(chunk.chunk_id)
    for out in (results, viewer, handlers.documents_html()):
        assert "<script" not in out and "<img" not in out
    assert EVIL in _unmarked(viewer)


def test_remove_moves_the_file_out_and_reindex_keeps_it_removed(handlers):
    source = handlers.sources()[0]
    msg = handlers.remove(source)
    assert "status ok" in msg and source not in handlers.sources()
    assert str(handlers.settings.index_dir) not in msg and str(handlers.settings.docs_dir) not in msg  # no server path
    assert "ارفعها من جديد" in msg  # says how to get it back
    assert not (Path(handlers.settings.docs_dir) / source).exists()
    assert list((Path(handlers.settings.index_dir) / "removed").rglob(source))
    assert "status ok" in handlers.reindex() and source not in handlers.sources()
    assert "status error" in handlers.remove("nope.txt") and "status error" in handlers.remove("")
    # what the message promises: uploading it again brings it back
    assert "status ok" in handlers.upload([str(next((Path(handlers.settings.index_dir) / "removed").rglob(source)))])
    assert source in handlers.sources()


def test_api_contracts(handlers):
    out = handlers.api_ask(Q150, [])
    assert set(out) >= {"question", "answer", "refused", "citations", "passages", "latency_ms", "mode", "notice"}
    json.dumps(out, ensure_ascii=False)
    c = out["citations"][0]
    found = handlers.api_lookup(c["chunk_id"])
    assert set(found) == {"chunk_id", "source", "start", "end", "text", "title", "document"}
    assert found["document"][found["start"]:found["end"]] == found["text"]
    assert found["document"][c["start"]:c["end"]] == c["quote"]
    with pytest.raises(UserError):
        handlers.api_lookup("missing#1")
    with pytest.raises(UserError):
        handlers.api_ask("")
    with pytest.raises(UserError):
        handlers.api_ask(Q150, [["only one"]])


def test_evaluate_tab(handlers, tmp_path):
    evaluation = pytest.importorskip("assistant.evaluation")
    if not all(hasattr(evaluation, n) for n in ("load_questions", "run_eval")):
        pytest.skip("assistant/evaluation.py does not provide load_questions/run_eval yet")
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(json.dumps({"id": "a", "question": Q150, "must": [["150"]], "answerable": True},
                                ensure_ascii=False) + "\n{broken\n", encoding="utf-8")
    progress = []
    summary, table, files, status = handlers.evaluate(str(qfile), on_progress=lambda d, t: progress.append((d, t)))
    assert "status ok" in status and progress[-1] == (1, 1)
    assert "<table" in summary and "<table" in table
    assert {Path(f).name for f in files} >= {"results.jsonl", "summary.json"}
    assert "سؤال واحد" in status and "تُخطّي سطر واحد" in status
    assert "status error" in handlers.evaluate(None)[3]
    bad = tmp_path / "q.exe"
    bad.write_text("x")
    assert "غير مدعوم" in handlers.evaluate(str(bad))[3]
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{broken\n", encoding="utf-8")
    *kept, status = handlers.evaluate(str(broken))
    assert kept == [None, None, None]  # the app leaves the last run's results on screen
    assert "status error" in status and "لم يُقرأ أي سؤال" in status and "question" in status


@pytest.mark.parametrize(("n", "expected"), [(1, "سؤال واحد"), (2, "سؤالان"), (3, "3 أسئلة"), (10, "10 أسئلة"),
                                             (11, "11 سؤالاً"), (99, "99 سؤالاً"), (100, "100 سؤال"),
                                             (103, "103 أسئلة"), (702, "702 سؤال")])
def test_counts_take_the_arabic_form_of_their_number(n, expected):
    assert ui.counted(n, "سؤال", "سؤالان", "أسئلة", "سؤالاً") == expected


def test_evaluate_tab_runs_a_squad_file_in_its_own_index(handlers, tmp_path):
    squad = {"version": "1.1", "data": [{"title": "المغرب", "paragraphs": [
        {"context": "الرباط هي عاصمة المغرب. تقع على ساحل المحيط الأطلسي.",
         "qas": [{"id": "s1", "question": "ما عاصمة المغرب؟", "answers": [{"text": "الرباط", "answer_start": 0}]}]}]}]}
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    before = [d.source for d in handlers.assistant.documents()]
    summary, table, files, status = handlers.evaluate(str(path))
    assert "status ok" in status and "<table" in table
    results = [json.loads(line) for line in Path(next(f for f in files if f.endswith("results.jsonl"))).read_text(encoding="utf-8").splitlines()]
    assert results[0]["gold"]["gold_docs"] == ["المغرب#0"] and results[0]["passages"][0]["source"] == "المغرب#0"
    assert [d.source for d in handlers.assistant.documents()] == before  # the seeds index is untouched


# ---------------------------------------------------------------- the app
def test_build_app_has_named_api_endpoints(fake_assistant):
    from assistant.app import build_app

    demo = build_app(fake_assistant)
    names = {d.api_name for d in demo.fns.values()}
    assert {"ask", "lookup"} <= names


def test_the_llm_mode_is_offered_only_once_a_server_is_set(fake_assistant):
    import gradio as gr

    from assistant.app import build_app

    def modes(assistant) -> list[str]:
        radios = [b for b in build_app(assistant).blocks.values() if isinstance(b, gr.Radio)]
        return [value for _, value in radios[0].choices]

    assert fake_assistant.settings.llm_base_url == ""
    assert modes(fake_assistant) == ["reader", "extractive"]
    fake_assistant.settings = fake_assistant.settings.with_(llm_base_url="http://127.0.0.1:9/v1")
    assert modes(fake_assistant) == ["reader", "extractive", "llm"]


def test_serve_builds_the_index_and_launches_locally(monkeypatch, settings, fake_embedder):
    """serve(): ensure_index first, then launch on host:port with auth only when set, never share."""
    import assistant.app as app
    import assistant.pipeline as pipeline

    calls = {}
    real_init = pipeline.Assistant.__init__

    def init(self, s=None, embedder=None, llm=None):
        real_init(self, s, embedder=fake_embedder, llm=llm)

    monkeypatch.setattr(pipeline.Assistant, "__init__", init)
    def build(a):
        calls["docs"] = len(a.documents())
        return _Demo(calls)

    monkeypatch.setattr(app, "build_app", build)
    app.serve(settings.with_(auth_user="u", auth_password="p", port=7999))
    assert calls["docs"] == len(list(Path(settings.docs_dir).iterdir()))
    kw = calls["launch"]
    assert kw["server_name"] == "127.0.0.1" and kw["server_port"] == 7999 and kw["share"] is False
    auth = kw["auth"]
    assert auth("u", "p") and not auth("u", "wrong") and not auth("x", "p")
    calls.clear()
    app.serve(settings.with_(port=7999))
    assert calls["launch"]["auth"] is None


class _Demo:
    def __init__(self, calls):
        self.calls = calls

    def launch(self, **kwargs):
        self.calls["launch"] = kwargs



def test_importing_the_app_module_does_not_import_gradio():
    import subprocess
    import sys

    code = "import sys, assistant.app, assistant.cli; assert 'gradio' not in sys.modules, 'gradio imported eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)


def test_login_is_throttled_after_repeated_failures():
    from assistant.app import ThrottledAuth

    now = [0.0]
    auth = ThrottledAuth("admin", "secret", max_failures=3, window=60, clock=lambda: now[0])
    assert auth("admin", "secret")
    for _ in range(3):
        assert not auth("admin", "guess")
    assert not auth("admin", "secret")  # locked: even the right password waits out the window
    now[0] = 61.0
    assert auth("admin", "secret")


def test_a_list_answer_keeps_one_item_per_line_bold_and_once():
    items = "• دعم التشريعات في الإمارات.\n• تدريب مئات المسؤولين في الكويت"
    answer = {"answer": f"{items} [1]", "refused": False, "passages": [],
              "citations": [{"n": 1, "source": "d.txt", "chunk_id": "d.txt#0", "start": 10, "end": 10 + len(items),
                             "quote": items}],
              "short_answer": {"text": items, "n": 1, "source": "d.txt", "start": 10, "end": 10 + len(items)}}
    out = ui.render_answer(answer)
    strong = out.split('<div class="short-answer"><strong>', 1)[1].split("</strong></div>", 1)[0]
    assert strong.count("<br>") == 1 and "الإمارات" in strong and "الكويت" in strong and 'class="cite"' in strong
    assert '<div class="support">' not in out  # the list is its own quote: shown once
    two = ui.render_answer({**answer, "answer": "عشرين عامًا [1]\nامتدت على مدى عشرين عامًا [1]",
                            "short_answer": {**answer["short_answer"], "text": "عشرين عامًا"}})
    assert '<div class="support">' in two and "<br>" not in two.split('<div class="support">')[0]
