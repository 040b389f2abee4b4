"""Answer-step speed on the seeds: the trained reader beside the sentence engine (warm, real model).

    python scripts/bench_reader.py [--rounds 3] [--out runs/bench-reader.json]

Builds a private index of seeds/ with the default e5 model, warms both engines, then asks every
question of ../shared/eval/dev.jsonl (plus its follow-ups) ``--rounds`` times per engine and prints
warm ``ask`` p50/p95 (retrieval + answer) and the answer step alone per question, with the ratio to
the 300 ms target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.analysis import analyse  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
TARGET_MS = 300.0


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "runs" / "bench-reader.json"))
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(index_dir=Path(tmp) / "index", docs_dir=ROOT / "seeds")
        base = Assistant(settings.with_(answer_mode="reader"))
        base.ensure_index(progress=False)
        if base.reader is None:
            print(f"reader unavailable: {base.reader_error}")
            return 1
        base.warm()
        results = {}
        for engine in ("reader", "extractive"):
            total, step = [], []
            for r in rows:  # warm-up pass
                base.ask(r["question"], r.get("history") or [], mode=engine)
            for _ in range(args.rounds):
                for r in rows:
                    history = r.get("history") or []
                    t0 = time.perf_counter()
                    base.ask(r["question"], history, mode=engine)
                    total.append((time.perf_counter() - t0) * 1000)
                    analysis = analyse(r["question"], history)
                    hits = base.retrieve(analysis)
                    t0 = time.perf_counter()
                    base.answer_locally(analysis, hits, engine)
                    step.append((time.perf_counter() - t0) * 1000)
            results[engine] = {"ask_p50_ms": round(statistics.median(total), 1), "ask_p95_ms": round(pct(total, 95), 1),
                               "answer_step_p50_ms": round(statistics.median(step), 1),
                               "answer_step_p95_ms": round(pct(step, 95), 1), "questions": len(total)}
    results["target_ms"] = TARGET_MS
    results["reader_ask_p50_ratio_to_target"] = round(results["reader"]["ask_p50_ms"] / TARGET_MS, 3)
    print(f"{'engine':<11} {'ask p50':>8} {'ask p95':>8} {'answer step p50':>16} {'p95':>7}")
    for engine in ("reader", "extractive"):
        r = results[engine]
        print(f"{engine:<11} {r['ask_p50_ms']:>8.1f} {r['ask_p95_ms']:>8.1f} {r['answer_step_p50_ms']:>16.1f} {r['answer_step_p95_ms']:>7.1f}")
    print(f"reader warm ask p50 / 300 ms target = {results['reader_ask_p50_ratio_to_target']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
