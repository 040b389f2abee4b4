"""Evaluation metrics: pure functions of the answers, the gold data and the document texts.

Text comparisons use ``arabic.normalize`` / ``arabic.words`` (diacritics, tatweel, alef/ya/ta-marbuta
forms, digits folded). Citation markers ``[n]`` are removed from answers before any text metric.
A metric whose denominator is empty is ``None`` ("not measured"), never 0. See docs/metrics.md.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from . import arabic

KS = (1, 3, 5, 10)
SUPPORT_THRESHOLD = 0.8
_MARKER = re.compile(r"\[(\d+)\]")
_MARKER_RUN = re.compile(r"((?:\s*\[\d+\])+)")


def strip_markers(text: str) -> str:
    return re.sub(r"\s+", " ", _MARKER.sub(" ", text or "")).strip()


def _mean(values: Iterable[float | bool | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


# ------------------------------------------------------------- retrieval
def first_gold_rank(passage_sources: Sequence[str], gold_docs: Iterable[str]) -> int | None:
    """1-based rank of the first passage whose source is a gold document; None if none is."""
    gold = set(gold_docs)
    return next((i for i, s in enumerate(passage_sources, start=1) if s in gold), None)


def hit_at(rank: int | None, k: int) -> bool:
    """A gold document is among the first k passages."""
    return rank is not None and rank <= k


def reciprocal_rank(rank: int | None) -> float:
    """1/rank of the first gold passage, 0 when no retrieved passage is gold."""
    return 1.0 / rank if rank else 0.0


# --------------------------------------------------------------- answers
def must_match(answer: str, must: Sequence[Sequence[str]]) -> bool:
    """Every group has an alternative that is a substring of the answer (both normalised).

    With no groups there is nothing to require: True (callers exclude such rows).
    """
    text = arabic.normalize(strip_markers(answer))
    return all(any(arabic.normalize(alt).strip() in text for alt in group if alt.strip()) for group in must)


def _norm_words(text: str) -> list[str]:
    return arabic.words(strip_markers(text))


def exact_match(answer: str, expected: Sequence[str]) -> float:
    """1.0 when the answer's normalised word sequence equals that of some expected answer."""
    words = _norm_words(answer)
    return float(any(words == _norm_words(e) for e in expected))


def bag_f1(pred: Counter, gold: Counter) -> float:
    """SQuAD token F1 of two word bags."""
    common = sum((pred & gold).values())
    return 2 * common / (sum(pred.values()) + sum(gold.values())) if common else 0.0


def token_f1(answer: str, expected: Sequence[str]) -> float:
    """SQuAD token F1 on normalised words (``arabic.words``), maximum over the expected answers."""
    pred = Counter(_norm_words(answer))
    return max((bag_f1(pred, Counter(_norm_words(e))) for e in expected), default=0.0)


# The official SQuAD / MLQA scoring (the numbers XQuAD, MLQA and published Arabic readers report), for
# comparison with them: lower case, Unicode punctuation dropped, articles dropped (Arabic: every «ال», as
# MLQA's script does), whitespace tokens; no letter folding. Language: Arabic when the expected answer has
# an Arabic letter (the language of the context it was cut from), else English.
_ENGLISH_ARTICLES = re.compile(r"\b(a|an|the)\b")


def official_words(text: str, arabic_text: bool) -> list[str]:
    """``text`` tokenised as MLQA's evaluation script does for Arabic (``arabic_text``) or English."""
    text = "".join(ch for ch in strip_markers(text).lower()
                   if ch not in string.punctuation and not unicodedata.category(ch).startswith("P"))
    text = text.replace("ال", " ") if arabic_text else _ENGLISH_ARTICLES.sub(" ", text)
    return text.split()


def official_scores(answer: str, expected: Sequence[str]) -> tuple[float, float]:
    """(exact match, token F1) by the official SQuAD / MLQA rules, maximum over the expected answers."""
    best_em = best_f1 = 0.0
    for gold in expected:
        arabic_text = arabic.has_arabic(gold)
        pred_words, gold_words = official_words(answer, arabic_text), official_words(gold, arabic_text)
        best_em = max(best_em, float(pred_words == gold_words))
        best_f1 = max(best_f1, bag_f1(Counter(pred_words), Counter(gold_words)))
    return best_em, best_f1


def containment(answer: str, expected: Sequence[str]) -> float:
    """1.0 when some expected answer's normalised words occur contiguously in the answer's."""
    text = " " + " ".join(_norm_words(answer)) + " "
    return float(any(w and f" {' '.join(w)} " in text for w in map(_norm_words, expected)))


# ------------------------------------------------------------- citations
def citation_validity(citations: Sequence[dict], text_of: Callable[[str], str | None]) -> bool | None:
    """All quotes are exactly ``document_text(source)[start:end]``; None when there is no citation."""
    if not citations:
        return None
    return all(_quote_ok(c, text_of) for c in citations)


def _quote_ok(c: dict, text_of) -> bool:
    text = text_of(c.get("source", ""))
    return text is not None and text[c["start"]:c["end"]] == c.get("quote")


def _tokens(text: str) -> set[str]:
    words = arabic.content_words(text) or arabic.words(text)
    return {arabic.light_stem(w) for w in words}


def answer_sentences(answer: str) -> list[tuple[str, list[int]]]:
    """(sentence without markers, its marker numbers) for each sentence of the answer.

    The answer is cut after every run of markers ("S1 [1] S2 [2][3]"); a run that follows no words
    ("S1. [1]" or "S1 [1]. S2") belongs to the preceding piece. Each piece is then split into
    sentences (``arabic.sentence_spans``); its markers go to its last sentence, so an earlier
    sentence without a marker of its own is uncited. Pieces without words are dropped.
    """
    out: list[tuple[str, list[int]]] = []
    parts = _MARKER_RUN.split(answer or "")
    for text, run in zip(parts[0::2], [*parts[1::2], ""], strict=True):
        markers = [int(n) for n in _MARKER.findall(run)]
        sentences = [text[a:b] for a, b in arabic.sentence_spans(text) if arabic.words(text[a:b])]
        if not sentences:
            if out:
                out[-1][1].extend(markers)
            continue
        out.extend((strip_markers(t), []) for t in sentences)
        out[-1][1].extend(markers)
    return out


def support(sentence: str, quotes: Sequence[str]) -> float:
    """Share of the sentence's content-word stems found in the union of the quotes (0..1)."""
    tokens = _tokens(sentence)
    if not tokens:
        return 1.0
    pool: set[str] = set()
    for q in quotes:
        pool |= _tokens(q)
    return len(tokens & pool) / len(tokens)


def citation_recall_precision(answer: str, citations: Sequence[dict],
                              threshold: float = SUPPORT_THRESHOLD) -> tuple[float | None, float | None]:
    """ALCE-style citation recall and precision with a token-overlap entailment proxy.

    A sentence is *supported* by a set of citations when ``support(sentence, quotes) >= threshold``.
    Recall: share of the answer's sentences supported by the citations they carry (a sentence with no
    marker is unsupported). Precision: share of (sentence, citation) pairs that are relevant: the
    sentence is supported by all its citations and the citation either supports it alone or is
    needed (without it the rest no longer supports). (None, None) when the answer has no citations
    or no sentences; precision None when no sentence carries a marker.
    """
    if not citations:
        return None, None
    by_n = {int(c["n"]): c.get("quote", "") for c in citations}
    sentences = answer_sentences(answer)
    if not sentences:
        return None, None
    supported, relevant, pairs = 0, 0, 0
    for text, markers in sentences:
        cited = [n for n in dict.fromkeys(markers)]
        quotes = [by_n[n] for n in cited if n in by_n]
        joint = bool(quotes) and support(text, quotes) >= threshold
        supported += joint
        pairs += len(cited)
        if joint:
            for n in cited:
                if n not in by_n:
                    continue
                alone = support(text, [by_n[n]]) >= threshold
                rest = [by_n[m] for m in cited if m != n and m in by_n]
                needed = not rest or support(text, rest) < threshold
                relevant += alone or needed
    return supported / len(sentences), (relevant / pairs if pairs else None)


# --------------------------------------------------------------- latency
def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least p% of values ≤ it); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# ------------------------------------------------------------ per row / run
def score_row(row, result: dict | None, text_of: Callable[[str], str | None], depth: int) -> dict:
    """Per-question values (None = not applicable). ``result`` is ``Answer.to_dict()``, None on error."""
    if result is None:
        return {"error": True, "correct": None}
    answer, refused = result.get("answer", ""), bool(result.get("refused"))
    citations = result.get("citations") or []
    ev: dict = {"error": False, "refused": refused, "latency_ms": result.get("latency_ms")}
    rank = first_gold_rank([p["source"] for p in result.get("passages") or []], row.gold_docs)
    has_gold = bool(row.gold_docs)
    ev["rank"] = rank
    for k in KS:
        ev[f"hit@{k}"] = hit_at(rank, k) if has_gold and k <= depth else None
    ev["rr"] = reciprocal_rank(rank) if has_gold else None
    ok = row.answerable and not refused
    ev["must_correct"] = (ok and must_match(answer, row.must)) if row.answerable and row.must else None
    short = ((result.get("short_answer") or {}).get("text") or "").strip()
    for name, fn, text in (("exact_match", exact_match, short or answer), ("f1", token_f1, short or answer),
                           ("contained", containment, answer)):
        ev[name] = (fn(text, row.expected_answers) if ok else 0.0) if row.answerable and row.expected_answers else None
    official = official_scores(short or answer, row.expected_answers) if ok else (0.0, 0.0)
    ev["official_em"], ev["official_f1"] = official if row.answerable and row.expected_answers else (None, None)
    ev["refusal_correct"] = refused != row.answerable
    ev["citation_valid"] = citation_validity(citations, text_of)
    ev["citation_recall"], ev["citation_precision"] = (None, None) if refused else citation_recall_precision(answer, citations)
    if not row.answerable:
        ev["correct"] = refused
    elif ev["must_correct"] is not None:
        ev["correct"] = ev["must_correct"]
    elif ev["contained"] is not None:
        ev["correct"] = bool(ev["contained"])
    else:
        ev["correct"] = None
    return ev


def aggregate(records: Sequence[dict], depth: int) -> dict:
    """Counts, metrics and denominators over results records (each with ``eval``, ``gold``)."""
    evals = [r["eval"] for r in records if not r["eval"].get("error")]
    gold = [r for r in records if not r["eval"].get("error")]
    answerable = [e for e, r in zip(evals, gold, strict=True) if r["gold"]["answerable"]]
    unanswerable = [e for e, r in zip(evals, gold, strict=True) if not r["gold"]["answerable"]]
    with_gold = [e for e in evals if e["rr"] is not None]
    latencies = [e["latency_ms"] for e in evals if e.get("latency_ms") is not None]
    metrics = {f"hit@{k}": (_mean(e[f"hit@{k}"] for e in with_gold) if k <= depth else None) for k in KS}
    metrics.update({
        "mrr": _mean(e["rr"] for e in with_gold),
        "answer_accuracy": _mean(e["must_correct"] for e in evals),
        "exact_match": _mean(e["exact_match"] for e in evals),
        "token_f1": _mean(e["f1"] for e in evals),
        "containment": _mean(e["contained"] for e in evals),
        "exact_match_official": _mean(e.get("official_em") for e in evals),
        "token_f1_official": _mean(e.get("official_f1") for e in evals),
        "accuracy": _mean(e["correct"] for e in evals),
        "refusal_accuracy": _mean(e["refused"] for e in unanswerable),
        "false_refusal_rate": _mean(e["refused"] for e in answerable),
        "citation_validity": _mean(e["citation_valid"] for e in evals),
        "citation_recall": _mean(e["citation_recall"] for e in evals),
        "citation_precision": _mean(e["citation_precision"] for e in evals),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
        "latency_max_ms": max(latencies) if latencies else None,
    })
    def count(key):
        return sum(e[key] is not None for e in evals)

    counts = {
        "rows": len(records), "answered": sum(not e["refused"] for e in evals),
        "refused": sum(e["refused"] for e in evals), "errors": len(records) - len(evals),
    }
    denominators = {
        "retrieval": len(with_gold), "no_gold_docs": len(evals) - len(with_gold), "must": count("must_correct"),
        "expected_answers": count("f1"), "judged": count("correct"), "answerable": len(answerable),
        "unanswerable": len(unanswerable), "with_citations": count("citation_valid"),
        "citation_recall": count("citation_recall"), "citation_precision": count("citation_precision"),
        "latency": len(latencies),
    }
    return {"counts": counts, "metrics": metrics, "denominators": denominators}


def summarize(records: Sequence[dict], depth: int) -> dict:
    """``aggregate`` over all records plus one per tag ("untagged" for rows without tags)."""
    out = aggregate(records, depth)
    tags = sorted({t for r in records for t in r["gold"]["tags"]})
    groups = {t: [r for r in records if t in r["gold"]["tags"]] for t in tags}
    untagged = [r for r in records if not r["gold"]["tags"]]
    if untagged and tags:
        groups["untagged"] = untagged
    out["by_tag"] = {t: aggregate(rs, depth) for t, rs in groups.items()}
    out["retrieval_depth"] = depth
    return out
