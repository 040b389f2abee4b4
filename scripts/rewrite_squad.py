"""A SQuAD-format file whose questions are asked another way (English, dialect), for evaluation.

    python scripts/rewrite_squad.py ../shared/train/arcd-test.json eval/dialect/arcd-test-dialect.tsv \
        eval/dialect/arcd-test-dialect.json

Keeps every paragraph (so the index is the one of the source file) and only the questions whose id the TSV file
(``id<TAB>question``) holds, with the rewritten question; answers unchanged.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.reader_train import read_rewrites  # noqa: E402


def rewrite(source: dict, questions: dict[str, str]) -> dict:
    data = []
    for article in source["data"]:
        paragraphs = []
        for p in article["paragraphs"]:
            qas = [{**qa, "question": questions[str(qa["id"])]} for qa in p["qas"] if str(qa["id"]) in questions]
            paragraphs.append({**p, "qas": qas})
        data.append({**article, "paragraphs": paragraphs})
    return {**source, "data": data}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source")
    ap.add_argument("rewrites")
    ap.add_argument("out")
    args = ap.parse_args(argv)
    questions = read_rewrites(args.rewrites)
    out = rewrite(json.loads(Path(args.source).read_text(encoding="utf-8")), questions)
    kept = sum(len(p["qas"]) for a in out["data"] for p in a["paragraphs"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    print(f"{kept} of {len(questions)} rewritten questions kept → {args.out}")


if __name__ == "__main__":
    main()
