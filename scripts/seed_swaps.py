"""Swapped near-miss questions over a folder of documents, as an eval file (every one must be refused).

    python scripts/seed_swaps.py ../shared/eval/dev.jsonl eval/extra.jsonl --docs seeds --out runs/seed-swaps.jsonl
    assistant eval runs/seed-swaps.jsonl --out runs/seed-swaps

Each answerable question of the given eval files (those with gold documents, not follow-ups) has a number or a
place that the documents hold replaced by one none of them uses (``reader_train.swap_question`` without its
rare-word swaps, which over five documents too often make a still-answerable or broken question):
«كم مسؤولا تم تدريبه في السعودية؟» → «كم مسؤولا تم تدريبه في نيجيريا؟». Arabic questions only; a question
with no number or place to swap is skipped.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import arabic  # noqa: E402
from assistant.reader_train import swap_question  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--docs", default=str(ROOT / "seeds"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(args.docs).iterdir()) if p.is_file()}
    doc_freq: dict[str, int] = {}
    for t in texts.values():
        for term in set(arabic.terms(t)):
            doc_freq[term] = doc_freq.get(term, 0) + 1
    everything = set(doc_freq)
    rows = [json.loads(line) for f in args.files for line in Path(f).read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("answerable", True) and r.get("gold_docs") and not r.get("history")
            and arabic.script_of(r["question"]) == "ar"]
    rng = random.Random(args.seed)
    out = []
    for r in rows:
        swapped = swap_question(r["question"], everything, [], lambda w: doc_freq.get(w, 0), rng, rare_words=False)
        if swapped and swapped != r["question"]:
            out.append({"id": r["id"] + "-swap", "question": swapped, "original": r["question"], "gold_docs": [],
                        "must": [], "answerable": False, "tags": ["near-miss", "swap"]})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in out), encoding="utf-8")
    print(f"{len(out)} swapped questions of {len(rows)} written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
