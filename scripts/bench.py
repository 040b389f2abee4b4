"""One benchmark for the index and the app: prints a markdown table and writes JSON + markdown.

    python scripts/bench.py [--sizes 1000,10000,100000] [--out runs/bench]

Each part runs in its own process, so peak memory (VmHWM) is that part's alone:
  * ingest: product ingest (``Index.ingest_documents``) against raw ``SentenceTransformer.encode`` of the same chunk
    texts with the same prefix, real e5 model, ARCD paragraphs; ratio = raw time / product time (≥ 0.95 wanted);
  * scale N: an index of N chunks built from real Arabic text (ARCD paragraphs and the seeds, recombined) with the
    FAKE hashing embedder (384 dims, said so in the table), then hybrid retrieve p50/p95 over 200 ARCD questions
    (the real e5 query vector adds ~17 ms on 2 cores), and the time to add one 3-chunk document; peak RSS of the build;
    index size on disk against the text;
  * ask: warm ``ask`` p50/p95 over the dev questions on the seeds (real model, default settings);
  * serve: ``assistant serve`` start-up to the first HTTP 200 (index already built) and its peak RSS after 30
    questions through the API;
  * baseline: plain LangChain ``Chroma.similarity_search`` with the same e5 embedder over ARCD paragraphs against the
    product's hybrid retrieval: hit@1 / hit@5 / p50 latency.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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

ARCD = ROOT.parent / "shared" / "eval" / "arcd.json"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
GIB = 1024**3


def peak_rss(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def disk_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def arcd():
    from assistant.eval_io import load_squad

    documents, rows, _ = load_squad(ARCD)
    return documents, [r for r in rows if r.answerable and r.gold_docs]


# ---------------------------------------------------------------- parts (each in its own process)
def part_ingest(work: Path) -> dict:
    from assistant.chunking import chunk_document
    from assistant.embeddings import SentenceEmbedder
    from assistant.index import Index, embedding_text
    from assistant.settings import Settings

    documents, _ = arcd()
    settings = Settings.from_env(index_dir=work / "index")
    embedder = SentenceEmbedder(settings)
    chunks = [c for d in documents for c in chunk_document(d, settings.chunk_size, settings.chunk_overlap)]
    texts = [embedder.passage_prefix + embedding_text(c) for c in chunks]  # exactly what the product embeds
    embedder.model.encode(texts[:64], batch_size=32, normalize_embeddings=True)  # warm both paths alike
    raws, products = [], []
    for round_ in range(2):  # interleaved, best of two: the machine is noisy
        t = time.perf_counter()
        embedder.model.encode(texts, batch_size=32, normalize_embeddings=True)
        raws.append(time.perf_counter() - t)
        index = Index(settings.with_(index_dir=work / f"index-{round_}"), embedder)
        t = time.perf_counter()
        index.ingest_documents(documents, progress=False)
        products.append(time.perf_counter() - t)
    raw, product = min(raws), min(products)
    return {"chunks": len(chunks), "raw_encode_s": round(raw, 2), "product_ingest_s": round(product, 2),
            "ratio": round(raw / product, 3)}


def _corpus(n_chunks: int, seed: int = 0):
    """Documents of real Arabic text (ARCD paragraphs + seeds, recombined) that chunk into about n_chunks."""
    from assistant.types import Document

    documents, _ = arcd()
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    pool = [d.text for d in documents] + seeds
    rng = random.Random(seed)
    out, chars, target = [], 0, n_chunks * 380  # measured: ~380 characters of document per chunk
    while chars < target:
        text = "\n\n".join(rng.sample(pool, 6))
        out.append(Document(source=f"doc_{len(out):06d}.txt", text=text, title=f"وثيقة {len(out)}"))
        chars += len(text)
    return out


def part_scale(work: Path, n: int) -> dict:
    from assistant.analysis import analyse
    from assistant.fakes import HashingEmbedder
    from assistant.pipeline import Assistant
    from assistant.settings import Settings
    from assistant.types import Document

    documents = _corpus(n)
    text_bytes = sum(len(d.text.encode("utf-8")) for d in documents)
    assistant = Assistant(Settings.from_env(index_dir=work / "index"), embedder=HashingEmbedder(dim=384))
    t = time.perf_counter()
    assistant.index.ingest_documents(documents, progress=False)
    build = time.perf_counter() - t
    build_peak = peak_rss()
    _, rows = arcd()
    questions = [r.question for r in random.Random(1).sample(rows, 200)]
    for q in questions[:10]:
        assistant.retrieve(analyse(q))
    times = []
    for q in questions:
        t = time.perf_counter()
        assistant.retrieve(analyse(q))
        times.append((time.perf_counter() - t) * 1000)
    new = Document(source="zz_new.txt", text=("افتتحت محطة تحلية مياه البحر في مدينة الداخلة. " * 30)[:1500], title="محطة")
    t = time.perf_counter()
    report = assistant.index.ingest_documents(documents + [new], progress=False)
    add_one = time.perf_counter() - t
    return {"chunks": len(assistant.index.chunks), "build_s": round(build, 1), "build_peak_gib": round(build_peak / GIB, 3),
            "retrieve_p50_ms": round(statistics.median(times), 2), "retrieve_p95_ms": round(pct(times, 0.95), 2),
            "add_one_s": round(add_one, 2), "add_one_chunks": report.embedded_chunks,
            "disk_mb": round(disk_bytes(work / "index") / 1e6, 1), "text_mb": round(text_bytes / 1e6, 1),
            "disk_ratio": round(disk_bytes(work / "index") / text_bytes, 1)}


def part_ask(work: Path) -> dict:
    from assistant.pipeline import Assistant
    from assistant.settings import Settings

    shutil.copytree(ROOT / "seeds", work / "docs")
    assistant = Assistant(Settings.from_env(docs_dir=work / "docs", index_dir=work / "index"))
    assistant.ensure_index(progress=False)
    rows = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines() if x.strip()]
    questions = [r["question"] for r in rows if not r.get("history")]
    assistant.warm()
    for q in questions:
        assistant.ask(q)
    times = []
    for _ in range(3):
        for q in questions:
            t = time.perf_counter()
            assistant.ask(q)
            times.append((time.perf_counter() - t) * 1000)
    return {"questions": len(times), "mode": assistant.settings.answer_mode,
            "ask_p50_ms": round(statistics.median(times), 1), "ask_p95_ms": round(pct(times, 0.95), 1)}


def part_serve(work: Path) -> dict:
    from gradio_client import Client

    shutil.copytree(ROOT / "seeds", work / "docs")
    env = {**os.environ, "ASSISTANT_DOCS_DIR": str(work / "docs"), "ASSISTANT_INDEX_DIR": str(work / "index")}
    binary = str(Path(sys.executable).parent / "assistant")
    subprocess.run([binary, "ingest", "--quiet"], env=env, check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.perf_counter()
    proc = subprocess.Popen([binary, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t > 600:
                    raise SystemExit("serve did not start") from None
                time.sleep(0.2)
        startup = time.perf_counter() - t
        client = Client(url, verbose=False)
        rows = [json.loads(x) for x in DEV.read_text(encoding="utf-8").splitlines() if x.strip()]
        questions = [r["question"] for r in rows if not r.get("history")]
        for i in range(30):
            client.predict(questions[i % len(questions)], [], api_name="/ask")
        return {"startup_s": round(startup, 1), "peak_rss_gib": round(peak_rss(proc.pid) / GIB, 3), "questions": 30}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def part_baseline(work: Path) -> dict:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma

    from assistant.analysis import analyse
    from assistant.embeddings import SentenceEmbedder
    from assistant.pipeline import Assistant
    from assistant.settings import Settings

    documents, rows = arcd()
    settings = Settings.from_env(index_dir=work / "index")
    embedder = SentenceEmbedder(settings)
    product = Assistant(settings, embedder=embedder)
    product.index.ingest_documents(documents, progress=False)
    client = chromadb.PersistentClient(path=str(work / "plain"), settings=ChromaSettings(anonymized_telemetry=False))
    plain = Chroma(collection_name="plain_langchain", embedding_function=embedder, client=client)
    plain.add_texts([d.text for d in documents], metadatas=[{"source": d.source} for d in documents])
    result = {}
    for name, search in (
        ("product hybrid", lambda q: [h.chunk.source for h in product.retrieve(analyse(q))]),
        ("plain LangChain Chroma", lambda q: [d.metadata["source"] for d in plain.similarity_search(q, k=5)]),
    ):
        hit1 = hit5 = 0
        times = []
        for r in rows:
            embedder._queries.pop(r.question, None)  # both sides compute the query vector
            t = time.perf_counter()
            sources = search(r.question)
            times.append((time.perf_counter() - t) * 1000)
            gold = set(r.gold_docs)
            hit1 += bool(sources[:1] and sources[0] in gold)
            hit5 += bool(gold & set(sources[:5]))
        result[name] = {"hit@1": round(hit1 / len(rows), 4), "hit@5": round(hit5 / len(rows), 4),
                        "p50_ms": round(statistics.median(times), 1), "questions": len(rows)}
    result["latency_ratio"] = round(result["product hybrid"]["p50_ms"] / result["plain LangChain Chroma"]["p50_ms"], 2)
    return result


PARTS = {"ingest": part_ingest, "ask": part_ask, "serve": part_serve, "baseline": part_baseline}


def run_part(name: str, *args: str) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as work:
        done = subprocess.run([sys.executable, __file__, "--part", name, "--work", work, *args],
                              capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        return {"error": done.stderr[-1500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: dict) -> str:
    lines = ["| measure | value | target |", "| --- | --- | --- |"]
    ing = results.get("ingest", {})
    if "ratio" in ing:
        lines.append(f"| ingest / raw `encode` ({ing['chunks']} ARCD chunks, real e5) | {ing['ratio']} "
                     f"(raw {ing['raw_encode_s']} s, product {ing['product_ingest_s']} s) | ≥ 0.95 |")
    for n, s in results.get("scale", {}).items():
        if "error" in s:
            lines.append(f"| scale {n} | failed | |")
            continue
        lines.append(f"| {s['chunks']:,} chunks (fake embedder, real text): retrieve p50 / p95 | {s['retrieve_p50_ms']} / "
                     f"{s['retrieve_p95_ms']} ms (+ ~17 ms for a real e5 query vector) | |")
        lines.append(f"| {s['chunks']:,} chunks: add one document ({s['add_one_chunks']} chunks) | {s['add_one_s']} s | ≤ 2 s at 100k |")
        lines.append(f"| {s['chunks']:,} chunks: build {s['build_s']} s, peak RSS | {s['build_peak_gib']} GiB | ≤ 1.5 GiB at 100k |")
        lines.append(f"| {s['chunks']:,} chunks: index on disk / text | {s['disk_ratio']}× ({s['disk_mb']} MB for {s['text_mb']} MB) | ≤ 12× |")
    ask = results.get("ask", {})
    if "ask_p50_ms" in ask:
        lines.append(f"| warm ask on the seeds ({ask['mode']}, dev questions repeated: query vectors cached; {ask['questions']} asks) p50 / p95 | {ask['ask_p50_ms']} / {ask['ask_p95_ms']} ms | |")
    srv = results.get("serve", {})
    if "startup_s" in srv:
        lines.append(f"| serve start-up (index built) / peak RSS after 30 questions | {srv['startup_s']} s / {srv['peak_rss_gib']} GiB | ≤ 1.2 GiB |")
    base = results.get("baseline", {})
    if "latency_ratio" in base:
        p, b = base["product hybrid"], base["plain LangChain Chroma"]
        lines.append(f"| ARCD ({p['questions']} q.) hit@1 / hit@5 / p50: product hybrid | {p['hit@1']} / {p['hit@5']} / {p['p50_ms']} ms | |")
        lines.append(f"| ARCD: plain LangChain `Chroma.similarity_search` | {b['hit@1']} / {b['hit@5']} / {b['p50_ms']} ms "
                     f"(product latency ×{base['latency_ratio']}) | |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--parts", default="ingest,scale,ask,serve,baseline")
    parser.add_argument("--out", default=str(ROOT / "runs" / "bench"))
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from assistant.settings import set_offline_switches

    set_offline_switches()
    if args.part:  # one part, in this process: print its JSON
        work = Path(args.work)
        result = part_scale(work, args.size) if args.part == "scale" else PARTS[args.part](work)
        print(json.dumps(result, ensure_ascii=False))
        return 0
    wanted = args.parts.split(",")
    results: dict = {"machine": f"{os.cpu_count()} cores", "when": time.strftime("%Y-%m-%d %H:%M")}
    for name in wanted:
        started = time.time()
        if name == "scale":
            results["scale"] = {n: run_part("scale", "--size", n) for n in args.sizes.split(",")}
        else:
            results[name] = run_part(name)
        print(f"{name}: {time.time() - started:.0f} s", file=sys.stderr, flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    md = table(results)
    (out / "bench.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "bench.md").write_text(md + "\n", encoding="utf-8")
    print(md)
    errors = {k: v for k, v in results.items() if isinstance(v, dict) and "error" in v}
    for k, v in errors.items():
        print(f"{k} failed: {v['error']}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
