"""Hybrid retrieval: dense (Chroma) + BM25 on normalised Arabic, fused by
reciprocal-rank fusion, with follow-up questions completed from the history."""

from __future__ import annotations

import re
from collections.abc import Sequence

from . import arabic, gazetteer
from .types import Chunk, Hit, Turn

_MARKER = re.compile(r"\[\d+\]")
# on normalised text (ى → ي, أ → ا): «ومتى …», «وكم …», and «وفي عمان؟» / «وماذا عن …» («and in …», «and about …»)
_FOLLOW_UP_START = re.compile(r"^\s*(و|ف)(ما|ماذا|من|كم|متي|اين|هل|كيف|لماذا|لم|اي)"
                              r"|^\s*(و|ف)(في|علي|عن|الي|مع|بين|بالنسبه|خارج|داخل)(?!\w)")
_REFERRING = re.compile(r"(ها|هم|هما|هن|ه)[؟?!.]*$")
_GOD = re.compile(r"لله[؟?!.)]*$")  # «الله», «لله», «عبدالله»: not a pronoun (normalised)
# a perfect verb ending the question: «… نُظّمت؟», «… التي شاركت؟» (normalised; not a plural «…ات» or «ال…»)
_VERB_LAST = re.compile(r"^(?!ال)\w{2,5}[^ا\W]ت$")
_PASSIVE_MARK = re.compile(r"^\w\u064f")  # a damma on the first letter: «نُظّمت», «رُصد», «عُقد»
_NOUNS_IN_T = frozenset(arabic.normalize(w) for w in "وقت بيت صوت موت زيت سبت بنت أخت صمت تحت ثابت ميت".split())
_REFERRING_WORDS = {"هذا", "هذه", "ذلك", "تلك", "هؤلاء", "it", "they", "them", "this", "that", "these",
                    "those", "there", "he", "she", "him", "his", "her", "its", "their"}


def rrf(rankings: Sequence[Sequence[str]], k: int = 60) -> dict[str, float]:
    """Reciprocal-rank fusion: sum over rankings of 1 / (k + rank), rank from 1."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return scores


def is_follow_up(question: str) -> bool:
    """Does the question lean on the conversation (elliptic, or referring back)?"""
    content = arabic.content_words(question)
    if _FOLLOW_UP_START.match(arabic.normalize(question)):
        return True
    if len(content) <= 1:
        return True
    return _referring_word(question) or (len(content) <= 4 and _referring_ending(question))


def is_elliptic(question: str) -> bool:
    """Can a follow-up not stand alone: two content words or fewer, a word referring back («وكم عدد المشاركين
    فيها؟», «What was its slogan?»), or three and the last a verb whose subject or object the conversation holds
    («ومع أي منظمات أممية نُظّمت؟», «وكم عدد الدول التي شاركت؟»)? «وما عدد ضحايا الاتجار في العراق؟» can."""
    content = arabic.content_words(question)
    return len(content) <= 2 or refers_back(question) or len(content) == 3 and _verb_last(question)


def _verb_last(question: str) -> bool:
    """Is the question's last word a verb: marked passive, or a perfect in «…ت» that is not a plural, a place or a
    common noun («وقت», «بيت»)?"""
    tokens = question.rstrip("?!.؟ \t\n").split()
    if not tokens or arabic.script_of(question) != "ar":
        return False
    last = tokens[-1]
    if gazetteer.named(last):  # «بيروت», «عُمان»
        return False
    word = arabic.normalize(last)
    return bool(_PASSIVE_MARK.match(last) or _VERB_LAST.match(word) and word not in _NOUNS_IN_T)


def refers_back(question: str) -> bool:
    """Does a word of the question refer back («هذا», «it») or one of its last two end in a pronoun («فيها»)?"""
    return _referring_word(question) or _referring_ending(question)


def _referring_word(question: str) -> bool:
    return any(t in _REFERRING_WORDS for t in arabic.words(question))


def _referring_ending(question: str) -> bool:
    """Does one of its last two words end in a pronoun («فيها», «شعاره»)? Not normalised: a final ة must not look
    like the pronoun ه."""
    return any(_REFERRING.search(t) and not _GOD.search(arabic.normalize(t)) for t in question.split()[-2:])


def search_query(question: str, history: Sequence[Turn] = (), msa: str = "") -> str:
    """The text to search with: the question, completed by the last turn when it is a follow-up — as asked or in its
    MSA form ``msa`` (a dialect «وفين تختمت؟» is «وأين تختمت؟»)."""
    if not history or not (is_follow_up(question) or msa and msa != question and is_follow_up(msa)):
        return question
    user, answer = history[-1]
    return f"{user} {_MARKER.sub('', answer or '')} {question}".strip()


def _best_ranks(runs: Sequence[Sequence[tuple[Chunk, float]]]) -> dict[str, int]:
    """Each chunk's best rank (from 1) over several result lists."""
    best: dict[str, int] = {}
    for run in runs:
        for r, (c, _) in enumerate(run, start=1):
            best[c.chunk_id] = min(best.get(c.chunk_id, r), r)
    return best


class HybridRetriever:
    def __init__(self, index, top_k: int = 5, candidates: int = 30, rrf_k: int = 60):
        self.index = index
        self.top_k = top_k
        self.candidates = candidates
        self.rrf_k = rrf_k

    def retrieve(self, query: str, top_k: int | None = None, prefer_sources: Sequence[str] = (),
                 also: Sequence[str] = ()) -> list[Hit]:
        """The top chunks for ``query``; each of ``also`` (another query: a follow-up that is a question of its own,
        searched beside the completed one) adds its dense and BM25 rankings to the fusion."""
        top_k = top_k or self.top_k
        dense_runs = [self.index.dense_search(q, self.candidates) for q in (query, *also)]
        lexical_runs = [self.index.lexical_search(q, self.candidates) for q in (query, *also)]
        dense = dense_runs[0]
        by_id: dict[str, Chunk] = {c.chunk_id: c for run in dense_runs + lexical_runs for c, _ in run}
        rankings = [[c.chunk_id for c, _ in run] for pair in zip(dense_runs, lexical_runs, strict=True) for run in pair]
        if prefer_sources:  # earlier answers' sources form a further, weaker ranking
            rankings.append([c.chunk_id for c, _ in dense if c.source in prefer_sources])
        fused = rrf(rankings, self.rrf_k)
        dense_rank = _best_ranks(dense_runs)
        lexical_rank = _best_ranks(lexical_runs)
        order = sorted(fused, key=lambda cid: (-fused[cid], dense_rank.get(cid, 10**9)))
        return [
            Hit(by_id[cid], fused[cid], dense_rank.get(cid), lexical_rank.get(cid))
            for cid in order[:top_k]
        ]
