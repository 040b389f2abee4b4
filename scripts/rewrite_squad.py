"""A SQuAD-format file whose questions are asked another way (English, dialect), for evaluation.

    python scripts/rewrite_squad.py ../shared/train/arcd-test.json eval/dialect/arcd-test-dialect.tsv \
        eval/dialect/arcd-test-dialect.json

Keeps every paragraph (so the index is the one of the source file) and only the questions whose id the TSV file
(``id<TAB>question``) holds, with the rewritten question; answers unchanged.

    python scripts/rewrite_squad.py --unanswerable ../shared/train/arcd-test.json eval/nearmiss/arcd-test-nearmiss.tsv \
        eval/nearmiss/arcd-test-nearmiss.json

With ``--unanswerable`` the TSV file's first column is a paragraph key (``<article index>#<paragraph index>``) and
its questions (written to be unanswerable from the article) become that paragraph's only questions, as SQuAD 2.0
``is_impossible`` questions: expected refusals.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.reader_train import question_lines, read_rewrites  # noqa: E402


def rewrite(source: dict, questions: dict[str, str]) -> dict:
    data = []
    for article in source["data"]:
        paragraphs = []
        for p in article["paragraphs"]:
            qas = [{**qa, "question": questions[str(qa["id"])]} for qa in p["qas"] if str(qa["id"]) in questions]
            paragraphs.append({**p, "qas": qas})
        data.append({**article, "paragraphs": paragraphs})
    return {**source, "data": data}


def paragraph_questions(path: str | Path) -> dict[str, list[str]]:
    """``key<TAB>question`` lines grouped by paragraph key, in file order."""
    out: dict[str, list[str]] = {}
    for key, question in question_lines(path):
        out.setdefault(key, []).append(question)
    return out


def unanswerable(source: dict, questions: dict[str, list[str]]) -> dict:
    data = []
    for a, article in enumerate(source["data"]):
        paragraphs = []
        for p, paragraph in enumerate(article["paragraphs"]):
            key = f"{a}#{p}"
            qas = [{"id": f"nm-{a}-{p}-{i}", "question": q, "answers": [], "is_impossible": True}
                   for i, q in enumerate(questions.get(key, []))]
            paragraphs.append({**paragraph, "qas": qas})
        data.append({**article, "paragraphs": paragraphs})
    return {**source, "version": "v2.0", "data": data}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source")
    ap.add_argument("rewrites")
    ap.add_argument("out")
    ap.add_argument("--unanswerable", action="store_true", help="rewrites are paragraph keys with unanswerable questions")
    args = ap.parse_args(argv)
    source = json.loads(Path(args.source).read_text(encoding="utf-8"))
    if args.unanswerable:
        by_paragraph = paragraph_questions(args.rewrites)
        questions = [q for qs in by_paragraph.values() for q in qs]
        out = unanswerable(source, by_paragraph)
    else:
        questions = read_rewrites(args.rewrites)
        out = rewrite(source, questions)
    kept = sum(len(p["qas"]) for a in out["data"] for p in a["paragraphs"])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    print(f"{kept} of {len(questions)} questions kept → {args.out}")


if __name__ == "__main__":
    main()
