"""Multi-turn probe built from a SQuAD file: each question asked as a follow-up, after another question of its own
paragraph and the answer the assistant gave it.

    python scripts/followup_probe.py ../shared/train/arcd-test.json --single runs/arcd-test --out runs/followup

For every answerable question Q2 whose paragraph has an earlier question Q1, the probe asks «و» + Q2 («وما …؟», «ومتى
…؟» — how people chain questions; an English one «And …?») with the history [(Q1, the assistant's answer to Q1)]. Q1's
answer is taken from the single-turn run ``--single`` (``assistant eval --squad FILE --out RUN``), or asked live when
that run lacks it. The follow-up run is written like any eval run (results.jsonl, summary.json, report.html), and the
script prints its metrics beside the single-turn ones on the same questions: a follow-up that is a complete question
should be answered as well as the question alone, so the gap is what the conversation machinery costs. ``--switch``
asks each after the first question of the previous article instead: a conversation that changes topic, where the last
turn must not pull the answer its way.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.arabic import script_of  # noqa: E402
from assistant.evaluation import run_eval, squad_assistant  # noqa: E402
from assistant.metrics import summarize  # noqa: E402
from assistant.settings import Settings  # noqa: E402


def _article(doc: str) -> str:
    return doc.rsplit("#", 1)[0]


_OPENERS = {"what", "who", "whom", "whose", "when", "where", "which", "why", "how", "in", "on", "at", "for", "from",
            "to", "by", "with", "during", "is", "are", "was", "were", "do", "does", "did", "can", "according"}


def _lowered(question: str) -> str:
    """«What …?» → «what …?» after «And»; a name keeps its capital («Iraq …»)."""
    first = question.split(" ", 1)[0]
    return question[:1].lower() + question[1:] if first.lower() in _OPENERS else question


def followup_rows(rows, answer_of, switch: bool = False) -> list:
    """Rows asked as «و» + question («And …» in English) after the first question of the same paragraph (answerable ones only); with
    ``switch``, after the first question of the previous article instead (the conversation changes topic)."""
    out, previous, articles = [], {}, []
    for row in rows:
        doc = row.gold_docs[0] if row.gold_docs else None
        if doc is not None and row.answerable:
            previous.setdefault(doc, row)
            previous.setdefault(_article(doc), row)
            if _article(doc) not in articles:
                articles.append(_article(doc))
        if doc is None or not row.answerable:
            continue
        if switch:
            at = articles.index(_article(doc))
            first = previous[articles[at - 1]] if at else None
        else:
            first = previous.get(doc)
        if first is None or first.id == row.id:
            continue
        question = row.question.strip()
        chained = f"And {_lowered(question)}" if script_of(question) == "latin" else f"و{question}"
        out.append(replace(row, id=f"{row.id}~f", question=chained, history=((first.question, answer_of(first)),),
                           tags=(*row.tags, "follow-up")))
    return out


def _metrics(summary: dict) -> dict:
    m = summary["metrics"]
    return {k: round(m[k], 4) for k in ("token_f1", "exact_match", "containment", "false_refusal_rate", "hit@5")
            if isinstance(m.get(k), float)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", type=Path, help="SQuAD-format file")
    parser.add_argument("--single", type=Path, help="its single-turn run (assistant eval --squad FILE --out RUN)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--switch", action="store_true",
                        help="follow the first question of the previous article instead: a change of topic")
    args = parser.parse_args(argv)
    assistant, rows, _ = squad_assistant(Settings.from_env(), args.file, args.out, progress=False)
    single = {}
    if args.single and (args.single / "results.jsonl").exists():
        for line in (args.single / "results.jsonl").open(encoding="utf-8"):
            rec = json.loads(line)
            single[rec["id"]] = rec

    def answer_of(row) -> str:
        if row.id not in single:
            single[row.id] = {"answer": assistant.ask(row.question).answer}
        return single[row.id]["answer"]

    follow = followup_rows(rows, answer_of, switch=args.switch)
    follow = follow[: args.limit] if args.limit else follow
    summary = run_eval(assistant, follow, args.out, progress=True, meta={"input_file": str(args.file.resolve()),
                                                                          "probe": "follow-up («و» + question)"})
    report = {"questions": len(follow), "follow_up": _metrics(summary)}
    base = [single[r.id[:-2]] for r in follow if "eval" in single.get(r.id[:-2], {})]
    if len(base) == len(follow):
        report["single_turn"] = _metrics(summarize(base, int(assistant.settings.top_k)))
    print(json.dumps(report, ensure_ascii=False, indent=1))
    (args.out / "probe.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
