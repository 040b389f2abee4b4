"""report.html: escaped, right-to-left, self-contained; rendered in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.eval_io import EvalRow
from assistant.evaluation import run_eval
from assistant.pipeline import Assistant
from assistant.settings import PROJECT_ROOT

EVIL = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">"
ROWS = [
    EvalRow("r1", "كم سنة امتدت الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد؟",
            gold_docs=("000_7dfb691abdf7e042.txt",), must=(("عشرين", "20"),), tags=("أرقام",)),
    EvalRow("r2", "متى انطلقت الحملة الوطنية للتوعية الخاصة بالأطفال غير المصحوبين في المغرب؟",
            gold_docs=("004_86e43c809a7d70f4.txt",), must=(("2024",),), tags=("dates",)),
    EvalRow("r3", "ما سعر صرف الدولار مقابل الدرهم المغربي اليوم؟", answerable=False),
    EvalRow("r4", "ما الذي يحذر منه تقرير الاختراق البرمجي " + EVIL + "؟", gold_docs=("zz_evil.txt",),
            must=(("الاختراق",),), tags=("dates",)),
    EvalRow("r5", ""),
]


@pytest.fixture
def run_dir(settings, fake_embedder, docs, tmp_path) -> Path:
    (docs / "zz_evil.txt").write_text(
        "تقرير الاختراق البرمجي\n\nيحذر تقرير الاختراق البرمجي من الشيفرات الخبيثة مثل " + EVIL + " في صفحات الويب.\n",
        encoding="utf-8")
    assistant = Assistant(settings.with_(refusal_threshold=0.0), embedder=fake_embedder)
    assistant.ingest(progress=False)
    out = tmp_path / "run"
    run_eval(assistant, ROWS, out, meta={"input_file": str(tmp_path / "questions.jsonl")})
    return out


def test_report_escapes_everything(run_dir):
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "onerror=\"" not in html
    assert "&lt;script&gt;window.__pwned" in html
    assert "src='http" not in html and 'src="http' not in html and "<link" not in html  # self-contained
    assert '<html dir="rtl" lang="ar">' in html and "<bdi" in html


@pytest.mark.browser
def test_report_renders_in_chromium(run_dir):
    from playwright.sync_api import sync_playwright

    shot = PROJECT_ROOT / "artifacts" / "screenshots" / "report.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto((run_dir / "report.html").as_uri())
            assert page.evaluate("document.documentElement.dir") == "rtl"
            assert page.evaluate("window.__pwned") is None
            assert page.locator("script").count() == 0
            images = page.locator("img")
            assert images.count() == 3  # hit@k, latency, accuracy per tag
            assert all(w > 100 for w in page.evaluate("[...document.images].map(i => i.naturalWidth)"))
            assert all(u.startswith(("file:", "data:")) for u in requests)
            assert page.get_by_text("الإخفاقات أولاً").count() == 1
            assert page.get_by_text("أخطاء التشغيل (1)").count() == 1
            details = page.locator("details summary", has_text="المقاطع المسترجعة").first
            details.click()
            assert page.locator("details[open] li").first.is_visible()
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
