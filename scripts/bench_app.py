"""Benchmark the browser app over the seeds (a measurement script, not a test).

It runs the real ``assistant serve`` in a subprocess (real embedder, real Chroma, a tmp copy of
seeds/ and a tmp index) and reports:

* start to ready: from launching ``assistant serve`` to the page answering HTTP 200, cold (the
  index is built first) and warm (the index is already up to date);
* per question, measured in headless Chromium with page-side timestamps: submit (click) to the
  first streamed answer characters, and to the full answer (sources + copy button shown);
  p50/p90/max over the questions (>= 20);
* peak memory (VmHWM) of the serve process after all questions.

Usage: .venv/bin/python scripts/bench_app.py [--questions FILE.jsonl] [--limit N] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.app_handlers import EXAMPLES  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEFAULT_QUESTIONS = [ROOT / "eval" / "dev.jsonl", ROOT.parent / "shared" / "eval" / "dev.jsonl"]
TARGET_FIRST_MS = 1000.0

# Installed before each click: records when the newest bot bubble first shows answer characters
# and when the final answer (its copy button) arrives, on the page's own clock.
WATCH_JS = """(n) => {
  window.__bench = {t0: performance.now(), first: null, full: null};
  const check = () => {
    const bots = document.querySelectorAll('#chat .msg.bot');
    if (bots.length < n) return;
    const bot = bots[n - 1];
    const text = bot.querySelector('.answer-text, .error');
    const chars = text ? text.textContent.replace('▍', '').trim().length : 0;
    if (chars > 0 && window.__bench.first === null) window.__bench.first = performance.now();
    if (bot.querySelector('.copy-btn, .error') && window.__bench.full === null) window.__bench.full = performance.now();
  };
  const obs = new MutationObserver(check);
  obs.observe(document.querySelector('#chat'), {childList: true, subtree: true, characterData: true});
  window.__benchObserver = obs;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_questions(path: Path | None, limit: int) -> list[str]:
    questions: list[str] = []
    for candidate in [path] if path else DEFAULT_QUESTIONS:
        if candidate and candidate.exists():
            for line in candidate.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    questions.append(json.loads(line)["question"])
            break
    for q in EXAMPLES:  # the app's own example questions top the set up to >= 20
        if q not in questions:
            questions.append(q)
    return questions[:limit] if limit else questions


def start_server(docs: Path, index: Path, port: int, log: Path) -> tuple[subprocess.Popen, float]:
    """Start ``assistant serve``; return (process, seconds until GET / answers 200)."""
    env = {**os.environ, "ASSISTANT_DOCS_DIR": str(docs), "ASSISTANT_INDEX_DIR": str(index),
           "ASSISTANT_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve"], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"assistant serve exited with {proc.returncode}; see {log}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return proc, time.perf_counter() - t0
        except OSError:
            pass
        if time.perf_counter() - t0 > 600:
            proc.terminate()
            raise SystemExit(f"assistant serve not ready after 600 s; see {log}")
        time.sleep(0.05)


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) in MiB of a live process, from /proc."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmHWM", 0.0), values.get("VmRSS", 0.0)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_questions(url: str, questions: list[str]) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="load")
        page.wait_for_selector("#question textarea", timeout=60_000)
        for i, question in enumerate(questions):
            if i:  # start each question in a fresh conversation (and wait until it is cleared)
                page.click("#new-chat")
                page.wait_for_function("() => !document.querySelector('#chat .msg')", timeout=60_000)
            page.fill("#question textarea", question)
            page.evaluate(WATCH_JS, 1)
            page.click("#send")
            page.wait_for_function("() => window.__bench.full !== null", timeout=120_000)
            b = page.evaluate("() => { window.__benchObserver.disconnect(); return window.__bench; }")
            first = (b["first"] if b["first"] is not None else b["full"]) - b["t0"]
            full = b["full"] - b["t0"]
            refused = page.locator("#chat .answer.refused").count() > 0
            rows.append({"question": question, "first_ms": first, "full_ms": full, "refused": refused})
            print(f"  {i + 1:2d}. first {first:7.1f} ms   full {full:7.1f} ms   {'refused' if refused else 'answered'}",
                  flush=True)
        browser.close()
    return rows


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=Path, help="JSONL with a 'question' per line (default: the dev set)")
    ap.add_argument("--limit", type=int, default=0, help="ask at most this many questions")
    ap.add_argument("--keep", action="store_true", help="keep the tmp folder (docs, index, server logs)")
    args = ap.parse_args()

    questions = load_questions(args.questions, args.limit)
    tmp = Path(tempfile.mkdtemp(prefix="bench-app-"))
    docs, index = tmp / "docs", tmp / "index"
    shutil.copytree(ROOT / "seeds", docs)
    print(f"{len(questions)} questions, {len(list(docs.iterdir()))} seed documents, work dir {tmp}", flush=True)
    try:
        port = free_port()
        proc, cold = start_server(docs, index, port, tmp / "serve-cold.log")
        stop(proc)
        print(f"start to ready, cold (index built first): {cold:6.2f} s", flush=True)

        port = free_port()
        proc, warm = start_server(docs, index, port, tmp / "serve-warm.log")
        print(f"start to ready, warm (index up to date):  {warm:6.2f} s", flush=True)
        try:
            rows = run_questions(f"http://127.0.0.1:{port}/", questions)
            hwm, rss = peak_rss_mb(proc.pid)
        finally:
            stop(proc)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    first = [r["first_ms"] for r in rows]
    full = [r["full_ms"] for r in rows]
    p50_first, p50_full = statistics.median(first), statistics.median(full)
    print("\n=== browser app benchmark (seeds, extractive mode, real embedder) ===")
    print(f"questions:                       {len(rows)} ({sum(r['refused'] for r in rows)} refused)")
    print(f"submit -> first characters:  p50 {p50_first:7.1f} ms  p90 {pct(first, 0.9):7.1f} ms  max {max(first):7.1f} ms")
    print(f"submit -> full answer:       p50 {p50_full:7.1f} ms  p90 {pct(full, 0.9):7.1f} ms  max {max(full):7.1f} ms")
    print(f"first-chars p50 / 1 s target:    {p50_first / TARGET_FIRST_MS:.3f}  ({'met' if p50_first <= TARGET_FIRST_MS else 'MISSED'})")
    print(f"first-chars p50 / full p50:      {p50_first / p50_full:.3f}")
    print(f"start to ready: cold {cold:.2f} s, warm {warm:.2f} s (warm/cold {warm / cold:.3f})")
    print(f"serve process memory: peak (VmHWM) {hwm:.0f} MiB, current (VmRSS) {rss:.0f} MiB")


if __name__ == "__main__":
    main()
