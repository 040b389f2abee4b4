"""Out-of-fold reader records for fitting the passage selector and the refusal model.

    python scripts/crossfit_records.py [--out runs/xfit] [--one-fold]   # ≈ 40–70 min training + 12 min records per fold
    python scripts/train_answerability.py --train runs/xfit/records --test runs/calibrate-test

The shipped reader was trained on ARCD-train, so its scores on those questions are better than on any new
question: a selector or refusal model fitted on them learns to trust the reader too much. Here ARCD-train is
split by article into two halves (even / odd article index); a reader is trained on each half with the
shipped recipe (``assistant train-reader`` defaults) and measured on the other half; then each half's
questions are asked with the reader that never saw them (``scripts/calibrate_reader.py``: full index, the
near-miss probe, swapped near-misses of numbers, places and names, and count swaps, as the shipped
refusal model's records hold them). The two record files are merged into
``<out>/records/records.jsonl``: every record comes from a reader that did not train on its question.
ARCD-test is not touched.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def split(source: Path, out: Path) -> dict[str, Path]:
    data = json.loads(source.read_text(encoding="utf-8"))
    paths = {}
    for k, name in ((0, "a"), (1, "b")):
        part = {"version": data.get("version"), "data": [a for i, a in enumerate(data["data"]) if i % 2 == k]}
        paths[name] = out / f"arcd-train-{name}.json"
        paths[name].write_text(json.dumps(part, ensure_ascii=False), encoding="utf-8")
    return paths


def run(cmd: list[str], log: Path, env: dict | None = None) -> None:
    print("$", " ".join(cmd), ">", log, file=sys.stderr)
    with log.open("w") as f:
        subprocess.run(cmd, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, check=True, env={**os.environ, **(env or {})})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arcd-train", default=str(ROOT.parent / "shared" / "train" / "arcd-train.json"))
    parser.add_argument("--out", default=str(ROOT / "runs" / "xfit"))
    parser.add_argument("--skip-training", action="store_true", help="reuse <out>/reader-a and reader-b")
    parser.add_argument("--one-fold", action="store_true",
                        help="only reader a (trained on half a) and half b's records: half the time and data")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    halves = split(Path(args.arcd_train), out)
    bin_dir = Path(sys.executable).parent
    other = {"a": "b", "b": "a"}
    if not args.skip_training:
        for name in ("a",) if args.one_fold else ("a", "b"):
            run([str(bin_dir / "assistant"), "train-reader", "--arcd-train", str(halves[name]),
                 "--eval-file", str(halves[other[name]]), "--out", str(out / f"reader-{name}")], out / f"train-{name}.log")
    merged = []
    for name in ("b",) if args.one_fold else ("a", "b"):  # half a's questions through reader b, and conversely
        folder = out / f"records-{name}"
        run([sys.executable, str(ROOT / "scripts" / "calibrate_reader.py"), "--squad", str(halves[name]),
             "--out", str(folder), "--swaps", "--named-swaps", "--count-swaps"], out / f"records-{name}.log",
            env={"ASSISTANT_READER_DIR": str(out / f"reader-{other[name]}")})
        merged += (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()
    (out / "records").mkdir(exist_ok=True)
    (out / "records" / "records.jsonl").write_text("\n".join(merged), encoding="utf-8")
    print(f"{len(merged)} out-of-fold records in {out / 'records' / 'records.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
