"""Dialect probe: does the reader answer dialect questions as well as MSA ones?

    python scripts/dialect_probe.py [--squad ../shared/train/arcd-test.json] [--out runs/dialect-probe.json]

ARCD-test questions (never trained on) are rewritten with the question and relative words of four dialect
families (Levantine, Gulf, Egyptian, Maghrebi; one per question, seeded): «كم» → «قديش» / «شحال» …, «أين» →
«وين» / «فين», «الذي» → «اللي». The rest of each question stays MSA, so this measures only what the question
words cost. The reader reads each question's gold paragraph three ways — the MSA original, the dialect
rewrite as asked, and the rewrite mapped back by ``dialect.msa_question`` (what the pipeline reads) — and the
script prints F1 / EM of each on the rewritten questions.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import arabic, metrics  # noqa: E402
from assistant.dialect import msa_question  # noqa: E402

# MSA word (normalised) → its form in each dialect family
FAMILIES = {
    "levantine": {"كم": "قديش", "اين": "وين", "متي": "امتى", "من": "مين", "ما": "شو", "ماذا": "شو",
                  "لماذا": "ليش", "الذي": "اللي", "التي": "اللي"},
    "gulf": {"اين": "وين", "من": "منو", "ما": "وش", "ماذا": "وش", "لماذا": "ليش", "الذي": "اللي", "التي": "اللي"},
    "egyptian": {"كم": "كام", "اين": "فين", "متي": "امتى", "من": "مين", "لماذا": "ليه", "كيف": "ازاي",
                 "الذي": "اللي", "التي": "اللي"},
    "maghrebi": {"كم": "شحال", "اين": "فين", "متي": "امتى", "من": "شكون", "ما": "شنو", "ماذا": "شنو",
                 "لماذا": "علاش", "كيف": "كيفاش", "الذي": "اللي", "التي": "اللي"},
}
QUESTION_WORDS = {"كم", "اين", "متي", "من", "ما", "ماذا", "لماذا", "كيف"}
_WORD = re.compile(r"\w+")


def dialect(question: str, family: dict[str, str]) -> str | None:
    """The question with its first question word (and relative pronouns) in the family's form; None when the
    question has no question word the family rewrites."""
    words = list(_WORD.finditer(question))
    first = next((m for m in words[:3] if arabic.normalize(m.group()) in QUESTION_WORDS), None)
    if first is None or arabic.normalize(first.group()) not in family:
        return None
    out, last = [], 0
    for m in words:
        key = arabic.normalize(m.group())
        if m is first or (key in ("الذي", "التي") and key in family):
            out.append(question[last : m.start()] + family[key])
            last = m.end()
    out.append(question[last:])
    text = "".join(out)
    if arabic.normalize(first.group()) in ("ما", "ماذا"):  # «ما هو اسم» → «شو اسم»: the pronoun after «ما» goes
        text = re.sub(r"^(\S+) (هو|هي) ", r"\1 ", text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", default=str(ROOT.parent / "shared" / "train" / "arcd-test.json"))
    parser.add_argument("--out", default=str(ROOT / "runs" / "dialect-probe.json"))
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args(argv)

    from assistant.pipeline import Assistant
    from assistant.reader_train import read_squad
    from assistant.settings import Settings

    rng = random.Random(args.seed)
    names = sorted(FAMILIES)
    rows = []
    for e in read_squad(args.squad, "eval"):
        if not e.answers:
            continue
        family = rng.choice(names)
        asked = dialect(e.question, FAMILIES[family])
        if asked:
            rows.append((e, family, asked))
    rows = rows[: args.limit or None]
    reader = Assistant(Settings.from_env(answer_mode="reader")).reader
    if reader is None:
        print("the reader is unavailable", file=sys.stderr)
        return 1

    def score(question: str, e) -> tuple[float, float]:
        spans = reader.reader.read(question, [e.context])
        text = e.context[spans[0].start : spans[0].end] if spans else ""
        return metrics.token_f1(text, e.answers), metrics.exact_match(text, e.answers)

    ways = {"msa_original": lambda e, q: e.question, "dialect_as_asked": lambda e, q: q,
            "dialect_mapped_to_msa": lambda e, q: msa_question(q)}
    result: dict = {"file": args.squad, "questions": len(rows), "seed": args.seed,
                    "families": {f: sum(r[1] == f for r in rows) for f in names},
                    "examples": [{"family": f, "question": q, "msa": msa_question(q)} for _, f, q in rows[:8]]}
    for name, way in ways.items():
        scores = [score(way(e, q), e) for e, _, q in rows]
        n = max(len(scores), 1)
        result[name] = {"f1": round(sum(s[0] for s in scores) / n, 4), "em": round(sum(s[1] for s in scores) / n, 4)}
        print(f"{name:>24}: F1 {result[name]['f1']:.4f}  EM {result[name]['em']:.4f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"{len(rows)} questions; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
