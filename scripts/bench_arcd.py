"""Benchmark on ARCD (SQuAD v1.1 format): ``assistant eval --squad arcd.json`` and its key numbers.

Usage: .venv/bin/python scripts/bench_arcd.py [--file PATH] [--out DIR] [--limit N] [--top-k K]

The paragraphs are indexed once in runs/squad-index/<sha of file>/ (reused by later runs); the run
folder (results.jsonl, summary.json, report.html) goes to runs/<time>-arcd-bench unless --out.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.settings import PROJECT_ROOT  # noqa: E402

KEYS = ("hit@1", "hit@5", "mrr", "containment", "token_f1", "exact_match", "token_f1_official", "exact_match_official",
        "false_refusal_rate",
        "citation_validity", "latency_p50_ms", "latency_p95_ms")


@click.command()
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=PROJECT_ROOT.parent / "shared" / "eval" / "arcd.json", show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--limit", type=int)
@click.option("--top-k", type=int)
def bench(path: Path, out: Path | None, limit: int | None, top_k: int | None):
    from assistant.cli import main

    out = out or PROJECT_ROOT / "runs" / f"{time.strftime('%Y%m%d-%H%M%S')}-arcd-bench"
    args = ["eval", str(path), "--squad", "--out", str(out)]
    args += ["--limit", str(limit)] if limit else []
    args += ["--top-k", str(top_k)] if top_k else []
    started = time.perf_counter()
    main.main(args, standalone_mode=False)
    total = time.perf_counter() - started
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    m, c = summary["metrics"], summary["counts"]
    click.echo("\n=== ARCD benchmark ===")
    click.echo(f"questions {c['rows']}  answered {c['answered']}  refused {c['refused']}  errors {c['errors']}  "
               f"malformed {c.get('malformed_rows', 0)}  documents {summary['meta'].get('documents')}")
    for key in KEYS:
        v = m.get(key)
        text = "—" if v is None else (f"{v:.0f} ms" if key.startswith("latency") else f"{v:.4f}")
        click.echo(f"{key:<20}{text}")
    click.echo(f"{'eval wall time':<20}{summary['meta']['timings']['wall_seconds']:.1f} s")
    click.echo(f"{'total time':<20}{total:.1f} s (incl. model load and indexing)")
    click.echo(f"run folder: {out}")


if __name__ == "__main__":
    bench()
