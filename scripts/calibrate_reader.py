"""Calibrate the reader's refusal threshold on near-miss data, and print the curve.

    python scripts/calibrate_reader.py [--squad ../shared/train/arcd-test.json] [--out runs/calibrate-reader]

Two runs over a SQuAD-format file (ARCD-test by default: never trained on):
  * full: every paragraph indexed, every question asked (all answerable) → false refusals;
  * near-miss probe: only half of each article's paragraphs indexed (even indices); the questions of the
    removed half must be refused (the topic is there, the fact is not), those of the kept half answered.
Each question's evidence (best span score − its no-answer score) is recorded once; the curve then says,
for each threshold, the near-miss refusal rate, the false-refusal rates, and F1/EM on the full run.
The chosen threshold maximises near-miss refusal with false refusals ≤ 3 % (full) and ≤ 5 % (probe);
a two-fold check picks it on half of the articles and reports the other half.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import arabic, metrics, reading  # noqa: E402
from assistant.analysis import analyse  # noqa: E402
from assistant.eval_io import load_squad  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402


def article_of(source: str) -> str:
    return source.rsplit("#", 1)[0]


def paragraph_of(source: str) -> int:
    return int(source.rsplit("#", 1)[1])


def swapped(rows, texts: dict[str, str], doc_freq, seed: int = 7, rare_words: bool = True) -> list:
    """Swapped near-misses (``reader_train.swap_question``, the generator of the reader's swap negatives): in
    each question a number, a place or its rarest word that its article holds is replaced by one its article
    never uses («متى ولد حمزة؟» → «متى ولد نابليون؟»). The topic words stay, the asked fact is gone: these must
    be refused. Made from the file's own questions (ARCD-test: never trained on). ``rare_words=False``: only
    numbers, places and Latin names are swapped (a swapped rare word often makes a broken question)."""
    import random

    from assistant.reader_train import swap_question

    rng = random.Random(seed)
    article_terms: dict[str, set[str]] = {}
    for source, text in texts.items():
        article_terms.setdefault(article_of(source), set()).update(arabic.terms(text))
    out = []
    for row in rows:
        article = article_of(row.gold_docs[0])
        donors = [r.question for r in rng.sample(rows, min(40, len(rows))) if article_of(r.gold_docs[0]) != article]
        question = swap_question(row.question, article_terms[article], donors, doc_freq, rng, rare_words=rare_words)
        if question and question != row.question:
            out.append(replace(row, id=f"{row.id}-swap", question=question, expected_answers=()))
    return out


def count_swapped(rows, texts: dict[str, str], seed: int = 11) -> list:
    """Count near-misses: in «كم محافظة …؟» the counted noun becomes a word its article uses but never counts
    (no number within three words of it anywhere in the article): «كم جامعة …؟». The topic and the noun stay
    in the article, the count is not there: these must be refused (the blind probe's «كم دولة شاركت …؟»)."""
    import random
    from collections import Counter

    from assistant.analysis import question_type
    from assistant.extractive import counted_noun, is_count, stems_near_numbers

    rng = random.Random(seed)
    articles: dict[str, list[str]] = {}
    for source, text in texts.items():
        articles.setdefault(article_of(source), []).append(text)
    articles = {a: "\n".join(parts) for a, parts in articles.items()}
    nouns_of: dict[str, Counter] = {}  # article → its bare nouns as written, with how often it names each
    counted_in: dict[str, set[str]] = {}  # article → stems it counts somewhere
    out = []
    for row in rows:
        stem = counted_noun(row.question) if question_type(row.question) == "number" else None
        if not stem:
            continue
        tokens = [m for m in _LETTERS.finditer(row.question) if arabic.light_stem(arabic.normalize(m.group())) == stem]
        if not tokens or not _noun_like(arabic.normalize(tokens[0].group()), counted=True):
            continue  # «كم تبلغ …»: a verb follows the count word, nothing is counted
        article = article_of(row.gold_docs[0])
        if article not in nouns_of:
            nouns_of[article] = Counter(m.group() for m in _LETTERS.finditer(articles[article])
                                        if _noun_like(arabic.normalize(m.group())))
            counted_in[article] = stems_near_numbers(articles[article], is_count)
        asked = {arabic.light_stem(w) for w in arabic.words(row.question)}
        nouns = sorted(w for w, n in nouns_of[article].items()  # «كم w» must count w (not «كم نسبة», «كم التي»)
                       if n >= 2 and (s := counted_noun(f"كم {w}")) and s not in asked and s not in counted_in[article])
        if nouns:
            m = tokens[0]
            question = row.question[: m.start()] + rng.choice(nouns) + row.question[m.end() :]
            out.append(replace(row, id=f"{row.id}-count", question=question, expected_answers=()))
    return out


def _noun_like(norm: str, counted: bool = False) -> bool:
    """A crude noun test on a normalised word (no tagger offline): a counted noun («محافظة», «سكان», «ولايات»)
    does not start like a present-tense verb; a replacement is a singular feminine noun («جامعة», «منطقة»)."""
    if not norm or not "\u0621" <= norm[0] <= "\u064a":
        return False
    if counted:
        return norm.endswith(("ه", "ات", "ين", "ون")) or not norm.startswith(("ي", "ت", "ن"))
    return len(norm) >= 4 and norm.endswith("ه") and not norm.startswith(("ال", "وال", "بال", "لل", "فال", "كال"))


_LETTERS = re.compile(r"[^\W\d_]+")  # a run of letters, as written


def written_rows(squad: str, tsv: str, out: Path) -> list:
    """Written near-misses (``eval/nearmiss/*.tsv``: paragraph key, question) as unanswerable rows of ``squad``'s
    paragraphs (gold document: the paragraph they were written about)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import rewrite_squad

    source = json.loads(Path(squad).read_text(encoding="utf-8"))
    path = out / "written-near-misses.json"
    path.write_text(json.dumps(rewrite_squad.unanswerable(source, rewrite_squad.paragraph_questions(tsv)),
                               ensure_ascii=False), encoding="utf-8")
    documents, rows, _ = load_squad(path)
    keys = [(a, p) for a, article in enumerate(source["data"]) for p, para in enumerate(article["paragraphs"])
            if isinstance(para.get("context"), str) and para["context"].strip()]
    source_of = {key: d.source for key, d in zip(keys, documents, strict=True)}  # load_squad keeps this order
    def paragraph(row) -> tuple[int, int]:  # ids are nm-<article>-<paragraph>-<n> (rewrite_squad.unanswerable)
        _, a, p, _ = row.id.split("-")
        return int(a), int(p)
    return [replace(r, gold_docs=(source_of[paragraph(r)],)) for r in rows if not r.answerable]


def run(settings: Settings, documents, rows, index_dir: Path, embedder, label: str, swaps: bool = False,
        originals: bool = True, rare_words: bool = True, count_swaps: bool = False,
        written: list | None = None) -> tuple[list[dict], object]:
    """Ask every question with refusal off; record the reader's evidence and the answerability features.
    With ``swaps``, entity-swapped variants of the questions are asked too (records with run ``swap``); ``written``
    near-misses are asked as they are (run ``written``)."""
    assistant = Assistant(settings.with_(index_dir=index_dir), embedder=embedder)
    assistant.index.ingest_documents(documents, progress=False)
    lexical, texts = assistant.index.lexical, assistant.index.texts
    asked = [(row, label) for row in rows] if originals else []
    if swaps:
        asked += [(row, "swap") for row in swapped(rows, texts, lexical.doc_freq, rare_words=rare_words)]
    if count_swaps:
        asked += [(row, "swap") for row in count_swapped(rows, texts)]
    asked += [(row, "written") for row in written or []]
    out = []
    for i, (row, kind) in enumerate(asked):
        started = time.perf_counter()
        analysis, hits = assistant.find(analyse(row.question))  # as ``Assistant.ask`` searches (and glosses)
        readings = assistant.reader_for(analysis).candidates(analysis, hits, texts)
        candidates = []
        for c, feats in zip(readings, assistant.candidate_features(analysis, readings), strict=True):
            answer, _, sa = reading.compose(c, texts)
            candidates.append({
                "features": feats,
                "gold": c.hit.chunk.source in row.gold_docs,
                "text": sa.text,
                "quote": texts[c.hit.chunk.source][c.quote_start : c.quote_end],
                **score(sa.text, answer, row.expected_answers),
            })
        found = max(candidates, key=lambda c: c["features"]["evidence"], default=None)
        out.append({
            "id": row.id, "run": kind, "question": row.question, "source": row.gold_docs[0] if row.gold_docs else "",
            "evidence": found["features"]["evidence"] if found else None, "features": found["features"] if found else None,
            "language": analysis.language, "candidates": candidates,
            **{k: found[k] if found else (0.0 if row.expected_answers else None) for k in ("f1", "em", "contained")},
            "latency_ms": (time.perf_counter() - started) * 1000,
        })
        if (i + 1) % 100 == 0:
            print(f"  {kind}: {i + 1}/{len(asked)}", file=sys.stderr)
    return out, assistant.embedder


def score(short: str, answer: str, expected) -> dict:
    if not expected:
        return {"f1": None, "em": None, "contained": None}
    return {"f1": metrics.token_f1(short, expected), "em": metrics.exact_match(short, expected),
            "contained": metrics.containment(answer, expected)}


def refused(rec: dict, t: float) -> bool:
    return rec["evidence"] is None or rec["evidence"] < t


def rate(recs: list[dict], t: float) -> float:
    return sum(refused(r, t) for r in recs) / max(len(recs), 1)


def point(full, near, kept, t: float) -> dict:
    n = max(len(full), 1)
    return {
        "threshold": t,
        "near_miss_refusal": round(rate(near, t), 4),
        "false_refusal_full": round(rate(full, t), 4),
        "false_refusal_probe": round(rate(kept, t), 4),
        "f1": round(sum(0.0 if refused(r, t) else r["f1"] for r in full) / n, 4),
        "em": round(sum(0.0 if refused(r, t) else r["em"] for r in full) / n, 4),
        "containment": round(sum(0.0 if refused(r, t) else r["contained"] for r in full) / n, 4),
    }


def choose(full, near, kept, grid, max_fr_full=0.03, max_fr_probe=0.05) -> dict:
    ok = [p for p in (point(full, near, kept, t) for t in grid)
          if p["false_refusal_full"] <= max_fr_full and p["false_refusal_probe"] <= max_fr_probe]
    if not ok:
        return point(full, near, kept, min(grid))
    return max(ok, key=lambda p: (p["near_miss_refusal"], -p["threshold"]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", default=str(ROOT.parent / "shared" / "train" / "arcd-test.json"))
    parser.add_argument("--out", default=str(ROOT / "runs" / "calibrate-reader"))
    parser.add_argument("--limit", type=int, default=0, help="first N questions only (smoke runs)")
    parser.add_argument("--swaps", action="store_true",
                        help="also ask swapped near-misses (a number, place or rare word of the question replaced by "
                             "one the article never uses) and report their refusal")
    parser.add_argument("--only-swaps", action="store_true",
                        help="ask only the swapped near-misses and add them to --out's records.jsonl (same reader)")
    parser.add_argument("--count-swaps", action="store_true",
                        help="also ask count near-misses (the noun of «كم …» replaced by one its article never counts); "
                             "with --only-swaps: add only these to --out's records.jsonl, keeping the others")
    parser.add_argument("--named-swaps", action="store_true",
                        help="swap only numbers, places and Latin names (not the rarest word)")
    parser.add_argument("--unanswerable", default="",
                        help="written near-misses of --squad's paragraphs (eval/nearmiss/*.tsv), asked over the full "
                             "index (records with run 'written')")
    args = parser.parse_args(argv)
    out = Path(args.out)
    rare_words = not args.named_swaps
    out.mkdir(parents=True, exist_ok=True)
    settings = Settings.from_env(answer_mode="reader")
    documents, rows, errors = load_squad(args.squad)
    rows = [r for r in rows if r.answerable and r.gold_docs][: args.limit or None]
    if errors:
        print(f"{len(errors)} malformed rows skipped", file=sys.stderr)
    if args.only_swaps:
        swaps, _ = run(settings, documents, rows, out / "full-index", None, "full", swaps=not args.count_swaps,
                       originals=False, rare_words=rare_words, count_swaps=args.count_swaps)
        records = out / "records.jsonl"
        def replaced(rec: dict) -> bool:  # the swaps this run makes again
            return rec["run"] == "swap" and rec["id"].endswith("-count") == args.count_swaps

        kept = [line for line in records.read_text(encoding="utf-8").splitlines() if line.strip() and not replaced(json.loads(line))]
        records.write_text("\n".join(kept + [json.dumps(r) for r in swaps]), encoding="utf-8")
        print(f"{len(swaps)} entity-swap records added to {records}")
        return 0
    kept_docs = [d for d in documents if paragraph_of(d.source) % 2 == 0]
    kept_sources = {d.source for d in kept_docs}

    written = written_rows(args.squad, args.unanswerable, out) if args.unanswerable else []
    full, embedder = run(settings, documents, rows, out / "full-index", None, "full", swaps=args.swaps,
                         rare_words=rare_words, count_swaps=args.count_swaps, written=written)
    swaps = [r for r in full if r["run"] in ("swap", "written")]
    full = [r for r in full if r["run"] == "full"]
    probe, _ = run(settings, kept_docs, rows, out / "half-index", embedder, "probe")
    near = [r for r in probe if r["source"] not in kept_sources]
    kept = [r for r in probe if r["source"] in kept_sources]

    grid = [round(-8 + 0.25 * i, 2) for i in range(65)]
    curve = [point(full, near, kept, t) for t in grid]
    print(f"{'threshold':>9} {'near-miss refused':>18} {'false ref. full':>16} {'false ref. probe':>17} {'F1':>6} {'EM':>6} {'contain':>8}")
    for p in curve:
        print(f"{p['threshold']:>9.2f} {p['near_miss_refusal']:>18.3f} {p['false_refusal_full']:>16.3f} "
              f"{p['false_refusal_probe']:>17.3f} {p['f1']:>6.3f} {p['em']:>6.3f} {p['containment']:>8.3f}")
    best = choose(full, near, kept, grid)

    # two-fold check: choose on one half of the articles, measure on the other
    articles = sorted({article_of(r["source"]) for r in full})
    folds = []
    for k in (0, 1):
        fit = {a for i, a in enumerate(articles) if i % 2 == k}

        def part(recs, inside, fit=fit):
            return [r for r in recs if (article_of(r["source"]) in fit) == inside]

        t = choose(part(full, True), part(near, True), part(kept, True), grid)["threshold"]
        folds.append(point(part(full, False), part(near, False), part(kept, False), t))
    summary = {"file": args.squad, "questions": len(rows), "near_miss_questions": len(near), "probe_kept_questions": len(kept),
               "chosen": best, "two_fold_heldout": folds, "curve": curve}
    (out / "calibration.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "records.jsonl").write_text("\n".join(json.dumps(r) for r in full + probe + swaps), encoding="utf-8")
    print("chosen:", json.dumps(best))
    print("two-fold held-out:", json.dumps(folds))
    print(f"set ASSISTANT_READER_THRESHOLD={best['threshold']} (settings.py default) — written to {out / 'calibration.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
