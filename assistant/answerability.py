"""Is the asked fact in the passages? A small learned model over the reader's scores and the question's coverage.

The reader's own no-answer score separates "no passage about this" well but not "the topic is here, the
fact is not" (near-miss questions). This stage adds what the reader does not see at once: how much of the
question the chosen passage and sentence cover (idf-weighted, on normalised Arabic with light stems),
question words that occur nowhere in the index, whether the span is of the asked kind, where the
passage ranked, and whether it (or its document) mentions the places and numbers the question names
(``gazetteer``). A logistic regression over these (``fit``) is trained on near-miss and answerable
records made by ``scripts/calibrate_reader.py`` on ARCD-train; its weights ship as ``refusal.json``
next to the reader's. Only for Arabic questions: coverage means nothing for an English question over
Arabic text, where the reader's evidence threshold decides alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import arabic, gazetteer
from .analysis import Analysis
from .extractive import QUESTION_FRAME, counted_near, date_fit, number_fit, type_match

MODEL_FILE = "refusal.json"
SELECTOR_FILE = "selector.json"  # which passage's span answers (a linear score over the same features)
LATIN_SELECTOR_FILE = "selector-latin.json"  # the same for English / Latin-script questions over Arabic passages
FEATURES = (
    "evidence", "span_score", "null_score", "margin", "passage_rank", "dense_rank", "lexical_rank",
    "coverage_passage", "coverage_quote", "idf_coverage_passage", "idf_coverage_quote", "unknown_terms",
    "type_match", "span_chars", "gap", "missing_idf_passage", "missing_idf_quote",
    "similarity_quote", "similarity_gap", "named_missing_passage", "named_missing_document",
    "named_missing_quote", "sentence_gap", "counted_near",
)

# What a question in another script can use: no Arabic word of it meets the passages, so coverage, idf and
# type features say nothing; these do (the reader's scores, retrieval ranks, e5 similarity across languages).
LATIN_SELECTOR_FEATURES = ("evidence", "passage_rank", "dense_rank", "similarity_quote", "similarity_gap")


def question_words(analysis: Analysis) -> list[str]:
    """The content words of the question that coverage is measured on (``Analysis.asked``: a follow-up's is
    completed with the last question's topic, not with the last answer)."""
    return [w for w in dict.fromkeys(arabic.content_words(analysis.asked)) if w not in QUESTION_FRAME]


def _coverage(words: Sequence[str], have: set[str], weight: Callable[[str], float]) -> tuple[float, float]:
    """Share of the question words in ``have`` (a text's ``terms``), plain and weighted."""
    if not words:
        return 1.0, 1.0
    hit = [arabic.covers(w, have) for w in words]
    weights = [weight(w) for w in words]
    total = sum(weights) or 1.0
    return sum(hit) / len(words), sum(w for w, h in zip(weights, hit, strict=True) if h) / total


def _missing_idf(words: Sequence[str], have: set[str], idf: Callable[[str], float], top: float) -> float:
    """The rarest question word a text's ``terms`` lack, as a share of the highest idf (0: it lacks none)."""
    return max((idf(w) for w in words if not arabic.covers(w, have)), default=0.0) / top


def features(analysis: Analysis, reading, texts: dict[str, str], doc_freq: Callable[[str], int],
             passages: int, similarity: float = 0.0, best_other_similarity: float | None = None) -> dict[str, float]:
    """The feature vector of one reading (``reading.Reading``). ``similarity`` is the cosine of the query's and
    the quote's e5 vectors; ``best_other_similarity`` the highest among the other candidates' quotes."""
    words = question_words(analysis)

    def df(w: str) -> int:
        return max(doc_freq(w), doc_freq("~" + arabic.light_stem(w)))

    def idf(w: str) -> float:
        return math.log((passages + 1) / (df(w) + 0.5))

    hit = reading.hit
    doc = texts[hit.chunk.source]
    read = reading.passage
    passage = doc[read.start : read.end] if read is not None else hit.chunk.text
    ranked = read.hits if read is not None else (hit,)
    quote = doc[reading.quote_start : reading.quote_end]
    in_passage, in_quote = set(arabic.terms(passage)), set(arabic.terms(quote))
    cov_p, idf_p = _coverage(words, in_passage, idf)
    cov_q, idf_q = _coverage(words, in_quote, idf)
    top_idf = math.log((passages + 1) / 0.5)
    unknown = sum(df(w) == 0 for w in words) / len(words) if words else 0.0
    kind_fit = span_kind_fit(analysis.kind, doc[reading.start : reading.end])
    rank_cap = math.log1p(50)
    return {
        "evidence": max(-20.0, min(20.0, reading.evidence)),
        "span_score": reading.span_score,
        "null_score": reading.null_score,
        "margin": max(0.0, min(10.0, reading.margin)),
        "passage_rank": math.log1p(reading.passage_rank),
        "dense_rank": _best_rank([h.dense_rank for h in ranked], rank_cap),
        "lexical_rank": _best_rank([h.lexical_rank for h in ranked], rank_cap),
        "coverage_passage": cov_p,
        "coverage_quote": cov_q,
        "idf_coverage_passage": idf_p,
        "idf_coverage_quote": idf_q,
        "unknown_terms": unknown,
        "type_match": kind_fit,
        "span_chars": math.log1p(reading.end - reading.start),
        "gap": max(-10.0, min(10.0, reading.margin)),  # signed: below 0 when another passage's span scores higher
        "missing_idf_passage": _missing_idf(words, in_passage, idf, top_idf),
        "missing_idf_quote": _missing_idf(words, in_quote, idf, top_idf),
        "similarity_quote": similarity,
        "similarity_gap": similarity - (similarity if best_other_similarity is None else best_other_similarity),
        # places and numbers the question names that the passage / its whole document never mention
        "named_missing_passage": gazetteer.missing(analysis.named, passage),
        "named_missing_document": gazetteer.missing(analysis.named, doc),
        "named_missing_quote": gazetteer.missing(analysis.named, quote),
        # below 0 when the candidate is another sentence of a passage whose best span scores higher
        "sentence_gap": max(-10.0, min(0.0, reading.sentence_gap)),
        "counted_near": counted_feature(analysis, quote),
    }


def counted_feature(analysis: Analysis, quote: str) -> float:
    """«كم دولة …؟»: 1 when the counted noun stands next to a number in the quote, 0 when not, 0.5 when the
    question counts nothing. (``scripts/train_answerability.py`` recomputes it from records' question and quote.)"""
    return counted_near(analysis.reader_question, quote) if analysis.kind == "number" else 0.5


def span_kind_fit(kind: str, span: str) -> float:
    """0..1: is the span of the kind asked for (a count for كم, a date for متى, a place for أين)? 0.5: no kind."""
    if kind == "number":
        return number_fit(span)
    if kind == "date":
        return date_fit(span)
    return type_match(kind, span) if kind == "place" else 0.5


def candidate_features(analysis: Analysis, candidates: Sequence, texts: dict[str, str], doc_freq: Callable[[str], int],
                       passages: int, similarities: Sequence[float]) -> list[dict[str, float]]:
    """``features`` of every candidate of one question (the similarity gap needs them all)."""
    ranked = sorted(range(len(similarities)), key=lambda i: -similarities[i])
    def best_other(i: int) -> float | None:
        others = [j for j in ranked[:2] if j != i]
        return similarities[others[0]] if others else None

    return [features(analysis, c, texts, doc_freq, passages, sim, best_other(i))
            for i, (c, sim) in enumerate(zip(candidates, similarities, strict=True))]


def _best_rank(ranks: Sequence[int | None], cap: float) -> float:
    known = [r for r in ranks if r is not None]
    return math.log1p(min(known)) if known else cap


@dataclass(frozen=True)
class AnswerabilityModel:
    """Standardised logistic regression: ``probability(features)`` that the asked fact is in the passage."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    card: dict

    def logit(self, feats: dict[str, float]) -> float:
        z = self.bias
        for name, m, s, w in zip(self.names, self.mean, self.scale, self.weights, strict=True):
            z += w * (feats[name] - m) / s
        return z

    def probability(self, feats: dict[str, float]) -> float:
        z = max(-50.0, min(50.0, self.logit(feats)))
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict:
        return {"names": list(self.names), "mean": list(self.mean), "scale": list(self.scale),
                "weights": list(self.weights), "bias": self.bias, "card": self.card}

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> AnswerabilityModel:
        """Raises ``ValueError`` when the file does not hold a usable model."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            names = tuple(raw["names"])
            model = cls(names, tuple(map(float, raw["mean"])), tuple(map(float, raw["scale"])),
                        tuple(map(float, raw["weights"])), float(raw["bias"]), dict(raw.get("card", {})))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"answerability model {path} could not be read: {exc}") from exc
        if not names or {len(model.mean), len(model.scale), len(model.weights)} != {len(names)} or \
                set(names) - set(FEATURES) or any(s <= 0 for s in model.scale):
            raise ValueError(f"answerability model {path} does not match this version's features")
        return model


def fit(rows: Sequence[dict[str, float]], labels: Sequence[int], names: Sequence[str] = FEATURES,
        l2: float = 1.0, iterations: int = 50, card: dict | None = None) -> AnswerabilityModel:
    """L2-regularised logistic regression by Newton's method on standardised features."""
    import numpy as np

    x = np.array([[r[n] for n in names] for r in rows], dtype=float)
    y = np.array(labels, dtype=float)
    mean, scale = x.mean(0), x.std(0)
    scale[scale < 1e-9] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = np.zeros(z.shape[1])
    reg = np.full(z.shape[1], l2)
    reg[-1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -50, 50)))
        grad = z.T @ (p - y) + reg * w
        hess = (z * (p * (1 - p))[:, None]).T @ z + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return AnswerabilityModel(tuple(names), tuple(mean.tolist()), tuple(scale.tolist()),
                              tuple(w[:-1].tolist()), float(w[-1]), dict(card or {}))


def fit_choice(groups: Sequence[Sequence[dict[str, float]]], targets: Sequence[int], names: Sequence[str] = FEATURES,
               l2: float = 1.0, iterations: int = 50, card: dict | None = None) -> AnswerabilityModel:
    """Conditional logit (a softmax over each question's candidates) by Newton's method: the candidate
    ``targets[i]`` of group ``i`` should score highest. The model's ``logit`` is the score (its bias is 0)."""
    import numpy as np

    xs = [np.array([[c[n] for n in names] for c in g], dtype=float) for g in groups]
    allx = np.vstack(xs)
    mean, scale = allx.mean(0), allx.std(0)
    scale[scale < 1e-9] = 1.0
    zs = [(x - mean) / scale for x in xs]
    w = np.zeros(len(names))
    for _ in range(iterations):
        grad, hess = l2 * w, np.diag(np.full(len(names), l2 + 1e-9))
        for z, t in zip(zs, targets, strict=True):
            s = z @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += z.T @ p - z[t]
            hess += z.T @ (np.diag(p) - np.outer(p, p)) @ z
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return AnswerabilityModel(tuple(names), tuple(mean.tolist()), tuple(scale.tolist()), tuple(w.tolist()), 0.0,
                              dict(card or {}))
