"""Calibrate the extractive engine's refusal threshold on question files.

Prints, per question, the evidence features of the best sentence and whether the
chosen answer holds the gold strings; then a sweep over thresholds: refusal
accuracy on unanswerable questions, false refusals and accuracy on answerable ones.

    python scripts/calibrate.py ../shared/eval/dev.jsonl eval/extra.jsonl
"""

from __future__ import annotations

import json
import sys

from assistant import arabic
from assistant.analysis import analyse
from assistant.extractive import ExtractiveAnswerer, compose
from assistant.pipeline import Assistant


def must_ok(text: str, must: list[list[str]]) -> bool:
    norm = arabic.normalize(text)
    return all(any(arabic.normalize(s) in norm for s in group) for group in must)


def main(paths: list[str]) -> None:
    assistant = Assistant()
    assistant.ensure_index(progress=False)
    engine = ExtractiveAnswerer(assistant.embedder, assistant.index.lexical)
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            rows.extend(json.loads(line) for line in f if line.strip())
    data = []
    for row in rows:
        analysis = analyse(row["question"], row.get("history") or [])
        query, hits = analysis.query, assistant.retrieve(analysis)
        ranked, chosen, conf = engine.answer(row["question"], query, hits, assistant.index.texts)
        text = compose(chosen)[0] if chosen else ""
        ok = must_ok(text, row["must"]) if row["answerable"] else None
        best = ranked[0] if ranked else None
        data.append((row["answerable"], ok, conf))
        missing = engine.missing_weight(engine.question_terms(query))
        print(f"{row['id']:>4} {'A' if row['answerable'] else 'U'} ok={ok!s:5} conf={conf:.3f} miss={missing:.2f} "
              f"dense={best.dense if best else 0:.3f} cov={best.coverage if best else 0:.2f} | {row['question'][:60]}")
    print("\nthreshold  refusal_acc  false_refusal  answer_acc")
    for t in [x / 100 for x in range(0, 80, 5)]:
        un = [c for a, _, c in data if not a]
        an = [(ok, c) for a, ok, c in data if a]
        refusal_acc = sum(c < t for c in un) / max(len(un), 1)
        false_ref = sum(c < t for _, c in an) / max(len(an), 1)
        acc = sum(ok and c >= t for ok, c in an) / max(len(an), 1)
        print(f"{t:9.2f}  {refusal_acc:11.2f}  {false_ref:13.2f}  {acc:10.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
