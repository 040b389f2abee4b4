"""The real app (real embedder, real Chroma over a tmp copy of seeds/) in-process on a free port:
gradio_client against the named API, and end-to-end runs in headless Chromium (Debian's).

Run: .venv/bin/python -m pytest tests/test_browser.py -q -m browser
Screenshots go to artifacts/screenshots/ (gitignored).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from assistant.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = PROJECT_ROOT / "artifacts" / "screenshots"
Q150 = "كم مشاركا حضر حملات التوعية حول مخاطر الهجرة غير النظامية؟"
FOLLOW_UP = "وكم ممثلا حضر الدورات التكوينية؟"
EVIL = '<script>window.__pwned = 1</script> نص عربي <img src=x onerror="window.__pwned=2"> ${7*7}'
TIMEOUT = 60_000  # ms


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """(url, assistant) of the launched app; closed after the module."""
    from assistant.app import build_app, launch
    from assistant.embeddings import ModelNotFoundError
    from assistant.pipeline import Assistant

    tmp = tmp_path_factory.mktemp("app")
    shutil.copytree(PROJECT_ROOT / "seeds", tmp / "docs")
    settings = Settings.from_env(env={}, docs_dir=tmp / "docs", index_dir=tmp / "index", port=free_port())
    assistant = Assistant(settings)
    try:
        assistant.ensure_index(progress=False)
    except ModelNotFoundError as exc:
        pytest.skip(f"the real embedding model is not available here: {exc}")
    demo = build_app(assistant)
    _, url, _ = launch(demo, settings, prevent_thread_lock=True, quiet=True)
    try:
        yield url.rstrip("/") + "/", assistant
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="ar")
    page.on("console", lambda m: print("console:", m.type, m.text[:300]) if m.type in ("error", "warning") else None)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    yield page
    page.close()
    assert not outside, f"the page fetched from outside the machine: {outside[:5]}"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def open_app(page, url: str, query: str = "") -> None:
    page.goto(url + query, wait_until="load")  # never "networkidle": Gradio keeps a stream open
    # a deep link switches to the lookup tab (maybe before the chat tab ever shows): wait for either
    page.wait_for_function("""() => ['#question textarea', '#lookup-query textarea', '#lookup-query input']
        .some(s => { const e = document.querySelector(s); return e && e.offsetParent !== null; })""", timeout=TIMEOUT)


def uploaded(page, block: str, name: str) -> None:
    """Wait until a gr.File lists ``name`` (its cell carries the whole name in aria-label)."""
    page.wait_for_function("([b, n]) => [...document.querySelectorAll(b + ' td.filename')].some(td => td.getAttribute('aria-label') === n)",
                           arg=[block, name], timeout=TIMEOUT)


def assert_rtl(page) -> None:
    assert page.evaluate("document.documentElement.getAttribute('dir')") == "rtl"
    for selector in ("body", ".gradio-container", "#chat .chat", "#chat-viewer .viewer", "#question textarea"):
        direction = page.evaluate("s => getComputedStyle(document.querySelector(s)).direction", selector)
        assert direction == "rtl", selector
    # the top-k slider's track runs left to right with its 1 … 20 ends, so Gradio's fill meets the handle
    page.click("#settings .label-wrap")  # open the settings
    page.wait_for_selector("#top-k input[type=range]", state="visible", timeout=TIMEOUT)
    assert page.evaluate("""() => { const i = document.querySelector('#top-k input[type=range]');
        return i && getComputedStyle(i).direction === 'ltr' && getComputedStyle(i.parentElement).direction === 'ltr'; }""")
    page.click("#settings .label-wrap")  # and close them again


def ask(page, question: str, n: int) -> None:
    """Type a question, send it, wait for the n-th answer to stream in and finish."""
    page.fill("#question textarea", question)
    page.click("#send")
    bot = page.locator("#chat .msg.bot").nth(n - 1)
    bot.locator(".answer-text").wait_for(timeout=TIMEOUT)
    page.wait_for_function("n => document.querySelectorAll('#chat .msg.bot .copy-btn').length >= n", arg=n,
                           timeout=TIMEOUT)  # the copy button comes with the final answer


def click_citation_and_check_viewer(page, assistant, marker) -> str:
    """Click a marker/source; the viewer must show its whole document with exactly that span marked."""
    from assistant import ui_render as ui

    chunk_id, start, end = ui.parse_cite_ref(marker.get_attribute("data-cite"))
    source = assistant.index.by_id[chunk_id].source
    expected = assistant.index.document_text(source)[int(start):int(end)]
    marker.click()
    page.wait_for_function(
        "s => { const v = document.querySelector('#chat-viewer .viewer'); return v && v.dataset.span === s; }",
        arg=f"{start}-{end}", timeout=TIMEOUT)
    mark = page.locator("#chat-viewer mark.hl")
    assert mark.count() == 1 and squash(mark.inner_text()) == squash(expected)
    assert source in page.locator("#chat-viewer .viewer-meta").inner_text()
    page.wait_for_timeout(300)  # the scroll runs on the next animation frame
    visible = page.evaluate("""() => {
        const m = document.querySelector('#chat-viewer mark.hl').getBoundingClientRect();
        const b = document.querySelector('#chat-viewer .viewer-body').getBoundingClientRect();
        return m.top < b.bottom && m.bottom > b.top && m.top >= 0 && m.top < window.innerHeight; }""")
    assert visible, "the highlighted span was not scrolled into view"
    return expected


# ------------------------------------------------------------------ API
def test_gradio_client_named_endpoints(live):
    from gradio_client import Client

    url, assistant = live
    client = Client(url, verbose=False)
    answer = client.predict(Q150, [], api_name="/ask")
    assert not answer["refused"] and "150" in answer["answer"] and answer["citations"]
    for c in answer["citations"]:
        assert assistant.index.document_text(c["source"])[c["start"]:c["end"]] == c["quote"]
    found = client.predict(answer["citations"][0]["chunk_id"], api_name="/lookup")
    assert found["document"][found["start"]:found["end"]] == found["text"]
    assert set(found) == {"chunk_id", "source", "start", "end", "text", "title", "document"}
    follow = client.predict(FOLLOW_UP, [[Q150, answer["answer"]]], api_name="/ask")
    assert follow["answer"]


# -------------------------------------------------------------- browser
def test_chat_streams_and_citations_open_in_the_viewer(page, live):
    url, assistant = live
    open_app(page, url)
    assert_rtl(page)
    ask(page, Q150, 1)
    answer = page.locator("#chat .msg.bot").nth(0)
    assert "150" in answer.locator(".answer-text").inner_text()
    assert answer.locator(".sources li.source").count() >= 1
    # Latin runs (file names) are isolated left-to-right inside the RTL page
    assert page.evaluate("getComputedStyle(document.querySelector('#chat .doc-name bdi')).direction") == "ltr"
    shot(page, "chat_citations")
    click_citation_and_check_viewer(page, assistant, answer.locator("a.cite").first)
    shot(page, "viewer_highlight")

    # follow-up: uses the conversation; its citation opens too (this time through the source card)
    ask(page, FOLLOW_UP, 2)
    second = page.locator("#chat .msg.bot").nth(1)
    assert second.locator(".answer-text").inner_text().strip()
    assert second.locator("a.cite").count() >= 1, "the follow-up should be answered with a citation"
    click_citation_and_check_viewer(page, assistant, second.locator("li.source").first)
    shot(page, "follow_up")

    # copy answer: the button puts the answer text on the clipboard
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    second.locator(".copy-btn").click()
    page.wait_for_function("() => [...document.querySelectorAll('#chat .copy-btn')].some(b => b.innerText.includes('✓'))",
                           timeout=TIMEOUT)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert squash(copied) == squash(second.locator(".copy-btn").get_attribute("data-copy")) and "[1]" in copied
    assert "المصادر:" in copied and ".txt" in copied  # a pasted answer still says which document [1] is

    page.click("#new-chat")
    page.wait_for_selector("#chat .chat-empty", timeout=TIMEOUT)


def test_an_english_question_keeps_its_direction_in_its_bubble(page, live):
    open_app(page, live[0])
    question = "Who is the Resident and Humanitarian Coordinator in Iraq?"
    ask(page, question, 1)
    bubble = page.locator("#chat .msg.user .bubble bdi").nth(0)
    assert bubble.inner_text().strip() == question
    assert page.evaluate("getComputedStyle(document.querySelector('#chat .msg.user .bubble bdi')).direction") == "ltr"
    shot(page, "english_question")


def test_app_follows_a_cli_ingest_and_its_remove_keeps_it(live, tmp_path):
    """The lost-update reproduction against the real app: CLI ingest in another process, then a remove in the app."""
    import os
    import subprocess
    import sys

    from gradio_client import Client

    url, assistant = live
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "cli_doc.txt").write_text("افتتحت مكتبة الفسيفساء في مدينة شفشاون وبلغ عدد زوارها سبعة آلاف زائر. " * 5,
                                       encoding="utf-8")
    env = {**os.environ, "ASSISTANT_DOCS_DIR": str(assistant.settings.docs_dir),
           "ASSISTANT_INDEX_DIR": str(assistant.settings.index_dir)}
    done = subprocess.run([str(Path(sys.executable).parent / "assistant"), "ingest", "--quiet", str(extra)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    client = Client(url, verbose=False)
    assert "cli_doc.txt" in {d["source"] for d in client.predict(api_name="/documents")}
    answer = client.predict("كم عدد زوار مكتبة الفسيفساء في شفشاون؟", [], api_name="/ask")
    assert any(p["source"] == "cli_doc.txt" for p in answer["passages"])
    uploaded_doc = client.predict("api_doc.txt", "وثيقة قصيرة عن مشروع ري في واحة تافيلالت بكلفة مليون درهم. " * 5,
                                  api_name="/add_document")
    assert uploaded_doc["ok"] and "api_doc.txt" in uploaded_doc["documents"]
    removed = client.predict("api_doc.txt", api_name="/remove_document")
    assert removed["ok"] and "cli_doc.txt" in removed["documents"] and "api_doc.txt" not in removed["documents"]
    listed = subprocess.run([str(Path(sys.executable).parent / "assistant"), "documents"], env=env,
                            capture_output=True, text=True, timeout=600)
    assert "cli_doc.txt" in listed.stdout and "api_doc.txt" not in listed.stdout
    client.predict("cli_doc.txt", api_name="/remove_document")


def test_empty_question_shows_a_message(page, live):
    open_app(page, live[0])
    page.click("#send")
    page.wait_for_selector("#chat-status .status.error", timeout=TIMEOUT)
    assert "فارغ" in page.inner_text("#chat-status")


def test_lookup_deep_link_opens_the_citation(page, live):
    url, assistant = live
    chunk = assistant.index.by_id[[c for c in assistant.index.by_id if c.startswith("004_")][-1]]  # the last: far down
    open_app(page, url, f"?cite={quote(chunk.chunk_id)}")
    page.wait_for_selector("#lookup-viewer mark.hl", timeout=TIMEOUT)
    # the link scrolls its passage into view, though the tab was hidden while the viewer filled
    page.wait_for_function("""() => {
        const mark = document.querySelector('#lookup-viewer mark.hl');
        const box = mark && mark.closest('.viewer-body');
        if (!mark || !box) return false;
        const m = mark.getBoundingClientRect(), b = box.getBoundingClientRect();
        return box.scrollTop > 0 && m.top >= b.top - 1 && m.top < Math.min(b.bottom, window.innerHeight);
    }""", timeout=TIMEOUT)
    assert squash(page.inner_text("#lookup-viewer mark.hl")) == squash(chunk.text)
    assert page.input_value("#lookup-query textarea, #lookup-query input") == chunk.chunk_id
    assert page.evaluate("getComputedStyle(document.querySelector('#lookup-viewer .viewer')).direction") == "rtl"
    page.wait_for_timeout(300)
    shot(page, "lookup_deep_link")

    # free-text search, then open a hit in its document
    page.fill("#lookup-query textarea, #lookup-query input", "حملات التوعية")
    page.click("#lookup-search")
    page.wait_for_selector("#lookup-results li.hit mark.term", timeout=TIMEOUT)
    link = page.locator("#lookup-results a.open-doc").first
    chunk_id = link.get_attribute("data-cite").rsplit("|", 2)[0]
    link.click()
    page.wait_for_function(
        "id => (document.querySelector('#lookup-viewer .chunk-id') || {dataset: {}}).dataset.id === id", arg=chunk_id,
        timeout=TIMEOUT)
    assert squash(page.inner_text("#lookup-viewer mark.hl")) == squash(assistant.index.by_id[chunk_id].text)
    shot(page, "lookup_search")


def test_uploaded_script_document_renders_inert(page, live, tmp_path):
    url, assistant = live
    evil = tmp_path / "evil_doc.txt"
    evil.write_text(f"وثيقة فيها وسوم\n{EVIL}\nنهاية الوثيقة.", encoding="utf-8")
    open_app(page, url)
    page.get_by_role("tab", name="الوثائق").click()
    page.set_input_files("#upload input[type=file]", str(evil))
    uploaded(page, "#upload", "evil_doc.txt")
    page.click("#upload-button")
    page.wait_for_selector("#documents-status .status", timeout=TIMEOUT)
    assert "ok" in page.get_attribute("#documents-status .status", "class"), page.inner_text("#documents-status")
    assert "evil_doc.txt" in page.inner_text("#documents-table")
    shot(page, "documents_upload")

    open_app(page, url, f"?cite={quote('evil_doc.txt#0')}")
    page.wait_for_selector("#lookup-viewer mark.hl", timeout=TIMEOUT)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#lookup-viewer img, #lookup-viewer script, #lookup-results img").count() == 0
    assert "<script>" in page.inner_text("#lookup-viewer") and "${7*7}" in page.inner_text("#lookup-viewer")
    shot(page, "inert_script_document")


def test_evaluate_tab_runs_a_question_file(page, live, tmp_path):
    evaluation = pytest.importorskip("assistant.evaluation")
    if not all(hasattr(evaluation, n) for n in ("load_questions", "run_eval")):
        pytest.skip("assistant/evaluation.py does not provide load_questions/run_eval yet")
    qfile = tmp_path / "questions.jsonl"
    rows = [{"id": "q1", "question": Q150, "must": [["150"]], "gold_docs": ["004_86e43c809a7d70f4.txt"]},
            {"id": "q2", "question": "ما عاصمة كوكب المريخ؟", "answerable": False}]
    qfile.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    open_app(page, live[0])
    page.get_by_role("tab", name="التقييم").click()
    page.set_input_files("#eval-file input[type=file]", str(qfile))
    uploaded(page, "#eval-file", "questions.jsonl")
    page.click("#eval-run")
    page.wait_for_selector("#eval-summary table.summary", timeout=TIMEOUT)
    assert "ok" in page.get_attribute("#eval-status .status", "class")
    assert page.locator("#eval-table table.results tbody tr").count() == 2
    downloads = re.sub(r"\s+", "", page.inner_text("#eval-downloads"))
    assert "results.jsonl" in downloads and "summary.json" in downloads, downloads
    shot(page, "evaluate")
