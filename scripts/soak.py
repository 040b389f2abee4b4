"""Bounded soak: the real app on loopback, mixed traffic against one index, then count what was lost.

    python scripts/soak.py --minutes 10 [--chat-clients 4] [--port 7871] [--out runs/soak]

Starts ``assistant serve`` over a private copy of seeds/ (its own index), then for ``--minutes``:
  * N chat clients ask known questions through the API (``/ask``) and check each answer still holds
    its known facts (questions from ../shared/eval/dev.jsonl that the app answered right at the start);
  * 1 uploader/remover adds a document through ``/add_document``, checks it is listed, removes it;
  * 1 CLI ingester runs ``assistant ingest FOLDER`` and ``assistant remove`` in separate processes.
At the end every document that should be in the index is looked up in a fresh process
(``assistant documents``) and through the app: missing ones are "lost". Prints one summary line and
writes ``soak.json``; exits 1 unless errors = 0, lost = 0 and wrong answers = 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.metrics import must_match  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
BIN = Path(sys.executable).parent / "assistant"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise SystemExit("the app did not start in time")


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {"questions": 0, "wrong": 0, "errors": 0, "uploads": 0, "removes": 0, "cli_ingests": 0, "cli_removes": 0}
        self.samples: list[str] = []

    def add(self, key: str, sample: str = "") -> None:
        with self.lock:
            self.counts[key] += 1
            if sample and len(self.samples) < 30:
                self.samples.append(f"{key}: {sample}"[:400])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--chat-clients", type=int, default=4)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out", default=str(ROOT / "runs" / "soak"))
    args = parser.parse_args(argv)
    from gradio_client import Client

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    docs, index, cli_docs = work / "docs", work / "index", work / "cli-docs"
    shutil.copytree(ROOT / "seeds", docs)
    cli_docs.mkdir()
    env = {**os.environ, "ASSISTANT_DOCS_DIR": str(docs), "ASSISTANT_INDEX_DIR": str(index)}
    port = args.port or free_port()
    url = f"http://127.0.0.1:{port}/"
    log = (out / "serve.log").open("w")
    server = subprocess.Popen([str(BIN), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    tally = Tally()
    expected: set[str] = {p.name for p in docs.iterdir()}
    expected_lock = threading.Lock()
    try:
        started = time.time()
        wait_ready(url, server)
        print(f"app ready in {time.time() - started:.0f} s at {url}", flush=True)
        rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
        rows = [r for r in rows if r.get("answerable", True) and r.get("must") and not r.get("history")]
        probe = Client(url, verbose=False)
        known = [r for r in rows if must_match(probe.predict(r["question"], [], api_name="/ask")["answer"], r["must"])]
        print(f"{len(known)} of {len(rows)} dev questions answered right at the start: they must stay right", flush=True)
        stop = time.time() + args.minutes * 60

        def chat(seed: int):
            client, rng = Client(url, verbose=False), random.Random(seed)
            while time.time() < stop:
                row = rng.choice(known)
                try:
                    answer = client.predict(row["question"], [], api_name="/ask")
                except Exception as exc:
                    tally.add("errors", f"ask {row['id']}: {exc}")
                    continue
                tally.add("questions")
                if not must_match(answer["answer"], row["must"]):
                    tally.add("wrong", f"{row['id']}: {answer['answer'][:200]}")

        def uploader():
            client, k = Client(url, verbose=False), 0
            while time.time() < stop:
                k += 1
                name = f"soak_upload_{k}.txt"
                text = f"وثيقة الاختبار رقم {k}: افتتحت مكتبة جديدة في مدينة الاختبار وبلغ عدد كتبها {1000 + k} كتاب. " * 8
                try:
                    result = client.predict(name, text, api_name="/add_document")
                    if not result["ok"] or name not in result["documents"]:
                        tally.add("errors", f"upload {name}: {result['message']}")
                        continue
                    tally.add("uploads")
                    time.sleep(2)
                    result = client.predict(name, api_name="/remove_document")
                    if not result["ok"] or name in result["documents"]:
                        tally.add("errors", f"remove {name}: {result['message']}")
                        continue
                    tally.add("removes")
                except Exception as exc:
                    tally.add("errors", f"upload/remove {name}: {exc}")
                time.sleep(1)

        def cli_ingester():
            k = 0
            while time.time() < stop:
                k += 1
                name = f"soak_cli_{k}.txt"
                (cli_docs / name).write_text(f"تقرير سطر الأوامر رقم {k} عن مشروع ري في واحة الاختبار بكلفة {k} مليون. " * 8, encoding="utf-8")
                done = subprocess.run([str(BIN), "ingest", "--quiet", str(cli_docs)], env=env, capture_output=True, text=True, timeout=600)
                if done.returncode != 0:
                    tally.add("errors", f"cli ingest: {done.stderr[-300:]}")
                    continue
                tally.add("cli_ingests")
                with expected_lock:
                    expected.add(name)
                if k % 2 == 0:  # remove every other one again (file and index)
                    old = f"soak_cli_{k - 1}.txt"
                    (cli_docs / old).unlink(missing_ok=True)
                    done = subprocess.run([str(BIN), "remove", old], env=env, capture_output=True, text=True, timeout=600)
                    if done.returncode != 0:
                        tally.add("errors", f"cli remove {old}: {done.stderr[-300:]}")
                        continue
                    tally.add("cli_removes")
                    with expected_lock:
                        expected.discard(old)

        threads = [threading.Thread(target=chat, args=(i,)) for i in range(args.chat_clients)]
        threads += [threading.Thread(target=uploader), threading.Thread(target=cli_ingester)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        listed_cli = subprocess.run([str(BIN), "documents"], env=env, capture_output=True, text=True, timeout=600)
        in_cli = {line.split("\t", 1)[0] for line in listed_cli.stdout.splitlines() if line.strip()}
        in_app = {d["source"] for d in probe.predict(api_name="/documents")}
        lost = sorted((expected - in_cli) | (expected - in_app))
        leftover = sorted((in_cli | in_app) - expected)
        summary = {**tally.counts, "minutes": args.minutes, "chat_clients": args.chat_clients, "lost": len(lost),
                   "lost_documents": lost, "unexpected_documents": leftover, "expected_documents": len(expected),
                   "samples": tally.samples}
        (out / "soak.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"questions answered: {tally.counts['questions']}, wrong: {tally.counts['wrong']}, errors: {tally.counts['errors']}, "
              f"documents lost: {len(lost)}, unexpected: {len(leftover)}; uploads {tally.counts['uploads']}, "
              f"removes {tally.counts['removes']}, CLI ingests {tally.counts['cli_ingests']}, CLI removes {tally.counts['cli_removes']}")
        for sample in tally.samples[:10]:
            print("  ", sample)
        return 0 if tally.counts["errors"] == 0 and not lost and tally.counts["wrong"] == 0 else 1
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
