"""Train the passage selector and the answerability (refusal) model on reader records; measure both on
records they never saw.

    python scripts/calibrate_reader.py --squad ../shared/train/arcd-train.json --out runs/features-train
    python scripts/calibrate_reader.py --squad ../shared/train/arcd-test.json  --out runs/features-test
    python scripts/train_answerability.py --train runs/features-train --test runs/features-test

Each records file holds a full run (every paragraph indexed: the answer is there) and a near-miss
probe (half of each article's paragraphs indexed: questions of the removed half must be refused).
Every record holds the reader's best span of each retrieved passage (its candidates). First the
selector (a softmax over a question's candidates, ``answerability.fit_choice``) learns which candidate
answers: the gold paragraph's, where it was retrieved. Each record then keeps its selected candidate.
Records may also hold swapped near-misses (run ``swap``: a number, place or name of a question that its
article holds replaced by one it never uses; ``calibrate_reader.py --swaps --named-swaps``) and written ones
(run ``written``: questions about a paragraph whose fact its article never gives; ``--unanswerable``): always 0.
Labels: 1 = the fact is in the index, 0 = near-miss. Both models (``assistant/answerability.py``) are
fitted on --train only (ARCD-train: the reader's own training questions), then:
  * the threshold is chosen on --test's curve as the issue asks (near-miss refusal as high as possible
    with false refusals ≤ 3 % on the full run and ≤ 5 % on the probe), and a two-fold check chooses it
    on half of the test articles and reports the other half;
  * the reader's evidence threshold alone is measured the same way, for comparison.
Writes ``selector.json`` and ``refusal.json`` (weights + card with data, counts and metrics) into --model-dir.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.analysis import analyse  # noqa: E402
from assistant.answerability import (  # noqa: E402
    FEATURES,
    LATIN_SELECTOR_FEATURES,
    LATIN_SELECTOR_FILE,
    MODEL_FILE,
    SELECTOR_FILE,
    AnswerabilityModel,
    counted_feature,
    fit,
    fit_choice,
    span_kind_fit,
)
from assistant.reader import READER_DIR  # noqa: E402


def paragraph_of(source: str) -> int:
    return int(source.rsplit("#", 1)[1])


def article_of(source: str) -> str:
    return source.rsplit("#", 1)[0]


def load(folder: Path) -> list[dict]:
    """Records with ``run`` (full / probe) and ``label`` (1 answerable, 0 near-miss). Where a record holds its
    question and its candidates' spans and quotes, the features computed from that text alone (``counted_near``,
    ``type_match``) are computed again with the current code, so records stay usable when such a feature is refined."""
    recs = [json.loads(line) for line in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    half = len(recs) // 2
    for i, r in enumerate(recs):
        r.setdefault("run", "full" if i < half else "probe")
        r["label"] = 0 if r["run"] in ("swap", "written") else 1 if r["run"] == "full" or paragraph_of(r["source"]) % 2 == 0 else 0
        candidates = r.get("candidates") or []
        if r.get("question") and all("quote" in c and "text" in c for c in candidates):
            analysis = analyse(r["question"])
            for c in candidates:
                c["features"]["counted_near"] = counted_feature(analysis, c["quote"])
                c["features"]["type_match"] = span_kind_fit(analysis.kind, c["text"])
    return recs


def selector_rows(recs: list[dict]) -> tuple[list[list[dict]], list[int]]:
    """Arabic records whose gold paragraph was retrieved: its candidate (best F1 among gold ones) is the target."""
    groups, targets = [], []
    for r in recs:
        cands = r.get("candidates") or []
        gold = [i for i, c in enumerate(cands) if c["gold"]]
        if r.get("language", "ar") != "ar" or r["run"] in ("swap", "written") or len(cands) < 2 or not gold:
            continue
        groups.append([c["features"] for c in cands])
        targets.append(max(gold, key=lambda i: (cands[i]["f1"] or 0.0, cands[i]["features"]["evidence"])))
    return groups, targets


def select(recs: list[dict], selector, arabic: bool = True) -> dict:
    """Each record keeps its selected candidate (features and scores): ``selector`` picks for Arabic records
    (``arabic``) or for the others, the highest evidence elsewhere; returns selection metrics."""
    chosen_gold = top_gold = any_gold = n = 0
    for r in recs:
        cands = r.get("candidates") or []
        if not cands:
            continue
        by_evidence = max(cands, key=lambda c: c["features"]["evidence"])
        pick = by_evidence
        if selector is not None and (r.get("language", "ar") == "ar") == arabic:
            pick = max(cands, key=lambda c: selector.logit(c["features"]))
        r.update(features=pick["features"], evidence=pick["features"]["evidence"],
                 f1=pick["f1"], em=pick["em"], contained=pick["contained"])
        if r["run"] == "full":
            n += 1
            chosen_gold += pick["gold"]
            top_gold += by_evidence["gold"]
            any_gold += any(c["gold"] for c in cands)
    n = max(n, 1)
    return {"gold_passage_chosen": round(chosen_gold / n, 4), "gold_passage_by_evidence": round(top_gold / n, 4),
            "gold_passage_read": round(any_gold / n, 4)}


def usable(r: dict) -> bool:
    return r["features"] is not None and r.get("language", "ar") == "ar"


def scorer(model):
    def score(r: dict) -> float:
        return model.logit(r["features"]) if usable(r) else float("-inf")
    return score


def evidence(r: dict) -> float:
    return r["evidence"] if r["evidence"] is not None else float("-inf")


def point(recs: list[dict], score, t: float) -> dict:
    full = [r for r in recs if r["run"] == "full"]
    kept = [r for r in recs if r["run"] == "probe" and r["label"] == 1]
    near = [r for r in recs if r["run"] == "probe" and r["label"] == 0]
    swap = [r for r in recs if r["run"] == "swap"]
    written = [r for r in recs if r["run"] == "written"]

    def rate(rs):
        return sum(score(r) < t for r in rs) / max(len(rs), 1)

    n = max(len(full), 1)
    return {
        "threshold": round(t, 4),
        "near_miss_refusal": round(rate(near), 4),
        "false_refusal_full": round(rate(full), 4),
        "false_refusal_probe": round(rate(kept), 4),
        "swap_refusal": round(rate(swap), 4) if swap else None,
        "written_refusal": round(rate(written), 4) if written else None,
        "f1": round(sum(r["f1"] for r in full if score(r) >= t) / n, 4),
        "em": round(sum(r["em"] for r in full if score(r) >= t) / n, 4),
        "containment": round(sum(r["contained"] for r in full if score(r) >= t) / n, 4),
    }


def choose(recs, score, max_fr_full=0.03, max_fr_probe=0.05) -> dict:
    values = sorted({score(r) for r in recs if score(r) != float("-inf")})
    grid = [values[0] - 1] + [(a + b) / 2 for a, b in zip(values, values[1:], strict=False)]
    best = point(recs, score, grid[0])
    for t in grid:
        p = point(recs, score, t)
        fits = p["false_refusal_full"] <= max_fr_full and p["false_refusal_probe"] <= max_fr_probe
        if fits and p["near_miss_refusal"] >= best["near_miss_refusal"]:
            best = p
    return best


def two_fold(recs, score) -> list[dict]:
    articles = sorted({article_of(r["source"]) for r in recs})
    out = []
    for k in (0, 1):
        fit_on = {a for i, a in enumerate(articles) if i % 2 == k}
        inside = [r for r in recs if article_of(r["source"]) in fit_on]
        outside = [r for r in recs if article_of(r["source"]) not in fit_on]
        out.append(point(outside, score, choose(inside, score)["threshold"]))
    return out


def named_rule(r: dict) -> float:
    """The reader's evidence, or -inf when the question names a place or number its document never mentions
    (how ``Assistant.judge`` refuses a Latin-script question)."""
    feats = r["features"] or {}
    return evidence(r) if feats.get("named_missing_document", 0.0) < 1.0 else float("-inf")


def latin_report(train_dir: Path, test_dir: Path, latin) -> dict:
    """English records (``calibrate_reader.py`` on translated questions): selection by evidence vs the Latin
    selector, and the evidence threshold chosen on ``train_dir`` (false refusals ≤ 3 % / 5 %) measured on
    ``test_dir``, without and with the named-thing rule."""
    out = {}
    train, test = load(train_dir), load(test_dir)  # select() rewrites each record's pick: loaded once for both
    for name, selector in (("by_evidence", None), ("latin_selector", latin)):
        block = {"selection": {"train": select(train, selector, arabic=False), "test": select(test, selector, arabic=False)}}
        pick = choose(train, evidence)
        block.update(threshold_from_train=pick["threshold"], train=pick,
                     test=point(test, evidence, pick["threshold"]), test_with_named_rule=point(test, named_rule, pick["threshold"]))
        out[name] = block
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", default=str(ROOT / "runs" / "features-train"))
    parser.add_argument("--test", default=str(ROOT / "runs" / "features-test"))
    parser.add_argument("--model-dir", default=str(READER_DIR))
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--without", nargs="*", default=[], choices=FEATURES, metavar="FEATURE",
                        help="leave these features out (ablation)")
    parser.add_argument("--refusal-without", nargs="*", default=["named_missing_passage"], choices=FEATURES,
                        metavar="FEATURE", help="left out of the refusal model only (default: named_missing_passage — "
                        "ARCD paragraphs are whole documents, so it cannot learn that a long document names its place "
                        "once, in its lead: the refusal model asks whether the document mentions it)")
    parser.add_argument("--selector-without", nargs="*", default=["named_missing_document"], choices=FEATURES,
                        metavar="FEATURE", help="left out of the passage selector only (default: "
                        "named_missing_document — it chooses among passages, often of one document)")
    parser.add_argument("--selector-named-in-passage", action="store_true",
                        help="the selector's weight for named things reads the passage at answer time (default: it is "
                        "fitted as named_missing_passage — on ARCD records a passage is its whole one-paragraph document "
                        "— and saved as named_missing_document, so it reads the whole document: a news article names its "
                        "country once, often outside the passage that answers. Fitted on the document measure instead, "
                        "the weight doubles and chooses worse: gold passage 0.798 against 0.803 on runs/s5/test)")
    parser.add_argument("--keep-selectors", action="store_true",
                        help="keep the passage selectors already in --model-dir (selector.json, selector-latin.json): "
                        "refit only the refusal model, on the candidates they choose")
    parser.add_argument("--english", nargs=2, metavar=("TRAIN_RECORDS", "TEST_RECORDS"),
                        help="records of translated questions (eval/english): measure the Latin selector there and "
                        "choose the Latin evidence threshold on the first")
    args = parser.parse_args(argv)
    names = tuple(n for n in FEATURES if n not in set(args.without))
    selector_names = tuple(n for n in names if n not in set(args.selector_without))
    names = tuple(n for n in names if n not in set(args.refusal_without))
    train, test = load(Path(args.train)), load(Path(args.test))
    groups, targets = selector_rows(train)
    if args.keep_selectors:
        selector = AnswerabilityModel.load(Path(args.model_dir) / SELECTOR_FILE)
    else:
        selector = fit_choice(groups, targets, selector_names, l2=args.l2) if groups else None
        if selector is not None and not args.selector_named_in_passage:
            selector = replace(selector, names=tuple("named_missing_document" if n == "named_missing_passage" else n
                                                     for n in selector.names))
    selection = {"train": select(train, selector), "test": select(test, selector)}
    print("selection:", json.dumps(selection))
    rows = [r for r in train if usable(r)]
    model = fit([r["features"] for r in rows], [r["label"] for r in rows], names, l2=args.l2)

    train_pick = choose(train, scorer(model))
    test_at_train_pick = point(test, scorer(model), train_pick["threshold"])
    learned = choose(test, scorer(model))
    baseline = choose(test, evidence)
    result = {
        "selection": selection,
        "learned": {"chosen_on_test": learned, "two_fold_heldout": two_fold(test, scorer(model)),
                    "threshold_from_train": test_at_train_pick},
        "evidence_only": {"chosen_on_test": baseline, "two_fold_heldout": two_fold(test, evidence)},
    }
    for name, block in list(result.items())[1:]:
        print(f"{name}:")
        for key, value in block.items():
            print(f"  {key}: {json.dumps(value)}")
    weights = sorted(zip(model.names, model.weights, strict=True), key=lambda x: -abs(x[1]))
    print("weights (standardised):", ", ".join(f"{n} {w:+.2f}" for n, w in weights))

    import math

    threshold = learned["threshold"]
    def portable(path: str) -> str:
        p = Path(path).resolve()
        return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(path)

    card = {
        "command": f"python scripts/train_answerability.py --train {portable(args.train)} --test {portable(args.test)} "
                   + (f"--without {' '.join(args.without)} " if args.without else "")
                   + ("--keep-selectors " if args.keep_selectors else "")
                   + ("--selector-named-in-passage " if args.selector_named_in_passage else "") +
                   "(records: python scripts/calibrate_reader.py --swaps --named-swaps --count-swaps --squad "
                   "../shared/train/arcd-train.json or arcd-test.json --out <records>)",
        "what": "logistic regression: is the asked fact in the reader's chosen passage (Arabic questions)",
        "trained_on": {"records": portable(args.train), "questions": "ARCD-train (MIT), full index + near-miss probe + swapped near-misses",
                       "rows": len(rows), "answerable": sum(r["label"] for r in rows),
                       "near_miss": sum(1 - r["label"] for r in rows)},
        "l2": args.l2,
        "measured_on": {"records": portable(args.test), "questions": "ARCD-test (held out), full index + near-miss probe"},
        "logit_threshold": threshold,
        "min_confidence": round(1 / (1 + math.exp(-threshold)), 4),
        "metrics": result,
    }
    model = type(model)(model.names, model.mean, model.scale, model.weights, model.bias, card)
    path = Path(args.model_dir) / MODEL_FILE
    model.save(path)
    if args.keep_selectors:
        print(f"kept the selectors in {args.model_dir}")
    elif selector is not None:
        selector_card = {"command": card["command"], "what": "conditional logit: which retrieved passage's span answers "
                         "(Arabic questions; the highest evidence otherwise)",
                         "trained_on": {"records": portable(args.train), "questions": len(groups)},
                         "l2": args.l2, "measured_on": {"records": portable(args.test)}, "metrics": selection}
        selector = type(selector)(selector.names, selector.mean, selector.scale, selector.weights, 0.0, selector_card)
        selector.save(Path(args.model_dir) / SELECTOR_FILE)
        print("selector weights:", ", ".join(f"{n} {w:+.2f}" for n, w in
                                             sorted(zip(selector.names, selector.weights, strict=True), key=lambda x: -abs(x[1]))))
    if groups and not args.keep_selectors:
        # questions in another script: the same Arabic records, language-independent features only
        latin = fit_choice(groups, targets, LATIN_SELECTOR_FEATURES, l2=args.l2)
        latin_card = {"command": card["command"] + (f" --english {' '.join(portable(p) for p in args.english)}" if args.english else ""),
                      "what": "conditional logit over language-independent features: which retrieved passage's span "
                      "answers an English / Latin-script question",
                      "trained_on": {"records": portable(args.train), "questions": len(groups)}, "l2": args.l2}
        if args.english:
            report = latin_report(Path(args.english[0]), Path(args.english[1]), latin)
            latin_card["measured_on"] = {"records": [portable(p) for p in args.english],
                                         "questions": "hand-translated ARCD-train / ARCD-test questions (eval/english)"}
            latin_card["metrics"] = report
            print("latin:", json.dumps(report))
            print(f"set ASSISTANT_READER_LATIN_THRESHOLD={report['latin_selector']['threshold_from_train']}")
        latin = replace(latin, card=latin_card)
        latin.save(Path(args.model_dir) / LATIN_SELECTOR_FILE)
    print(f"wrote {path}; set ASSISTANT_READER_MIN_CONFIDENCE={card['min_confidence']} (settings.py default)")
    (Path(args.test) / "answerability.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
