"""Stage 1: analyse the question once — what later stages read instead of re-deriving it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from . import arabic, gazetteer
from .retrieval import is_follow_up, search_query
from .types import Turn

_QTYPES = (
    ("number", re.compile(r"\bكم\b|\bعدد\b|\bنسبه\b|how many|how much|what percentage|number of")),
    ("date", re.compile(r"\bمتي\b|\bتاريخ\b|في اي (عام|سنه|شهر|يوم)|\bwhen\b|what year|what date|which year")),
    ("person", re.compile(r"^\s*(من|ومن)\s|\bمن (هو|هي|هم)\b|\bwho\b|\bwhom\b")),
    ("place", re.compile(r"\bاين\b|في اي (مدينه|دوله|بلد|مكان)|ما (المدينه|الدوله|المناطق|المدن|الدول|البلدان)|من اين|\bwhere\b|which (city|country|place)")),
)
# questions whose answer is an enumeration: the reader may take a longer span
_LIST = re.compile(
    r"\b(مكونات|عناصر|انواع|اسماء|المدن|الدول|البلدان|المناطق|اهداف|اسباب|محاور|مراحل|ابرز|اهم|مجالات|توصيات|"
    r"قطاعات|الجهات|المؤسسات|الاطراف)\b|^\s*(اذكر|عدد)\s(?!ال?مشارك)|what are|which .* are|\blist\b|name the"
)


# question words dropped when a previous question becomes the topic of a follow-up (normalised)
_ASKING = frozenset(arabic.normalize(w) for w in """من ما ماذا متى متي أين اين كيف كم لماذا هل أي اي ماهو ماهي
    ومن وما وماذا ومتى وأين وكيف وكم ولماذا وهل هو هي هم
    who whom whose what which when where why how many much is are was were did does do the""".split()) | set(
    arabic.DIALECT_QUESTION_WORDS)
_WORD = re.compile(r"\w+")


def topic_of(question: str) -> str:
    """A question without its question words and punctuation: «من نظم اليوم التواصلي؟» → «نظم اليوم التواصلي»."""
    return " ".join(w for w in _WORD.findall(question) if arabic.normalize(w) not in _ASKING)


def question_type(question: str) -> str:
    """number / date / person / place / other (dialect question words mapped to MSA first)."""
    q = " ".join(arabic.DIALECT_QUESTION_WORDS.get(w, w) for w in arabic.normalize(question).split())
    for name, pattern in _QTYPES:
        if pattern.search(q):
            return name
    return "other"


def is_list_question(question: str) -> bool:
    return bool(_LIST.search(arabic.normalize(question)))


def has_content(question: str) -> bool:
    """Any letter or digit left once punctuation, symbols, emoji, controls and bidi marks are gone?"""
    return any(unicodedata.category(ch)[0] in "LN" for ch in question)


@dataclass(frozen=True)
class Analysis:
    question: str  # as asked
    query: str  # what retrieval searches with: the question, completed from the last turn for a follow-up
    reader_question: str  # what the reader reads: dialect words in MSA; a follow-up, then the previous question's topic
    normalized: str
    terms: tuple[str, ...]  # content words (normalised)
    kind: str  # number / date / person / place / other
    language: str  # "ar", "latin", "other" (by letters)
    follow_up: bool
    is_list: bool
    named: tuple[str, ...] = ()  # places (normalised) and numbers the query names (``gazetteer.named``)
    hint: str = ""  # an English question's places in Arabic, appended to query and reader_question

    def without_hint(self) -> Analysis:
        """The analysis as the sentence engine takes it (it scores sentences by the question's own words; the hint
        was measured for the reader only)."""
        if not self.hint:
            return self
        return replace(self, query=self.query.removesuffix(f" {self.hint}"),
                       reader_question=self.reader_question.removesuffix(f" ({self.hint})"), hint="")


def previous_question(history: Sequence[Turn]) -> str:
    """The last question asked, as the conversation resolved it: «وفي الإمارات؟» after «ما الذي تم تطويره في
    السعودية؟» and «وفي عمان؟» resolves against «ما الذي تم تطويره في عمان؟»."""
    resolved = ""
    for user, _ in history:
        resolved = (gazetteer.swap_place(resolved, user) if resolved else None) or user
    return resolved


def analyse(question: str, history: Sequence[Turn] = ()) -> Analysis:
    query = search_query(question, history)
    follow_up = query != question
    reader_question = f"{arabic.msa_question(question)} {topic_of(history[-1][0])}".strip() if follow_up \
        else arabic.msa_question(question)
    swapped = gazetteer.swap_place(previous_question(history), question) if follow_up else None
    if swapped:  # «وفي عمان؟»: the previous question about another place, searched and read as such
        query, reader_question = swapped, arabic.msa_question(swapped)
    language, named = arabic.script_of(question), gazetteer.named(query)
    hint = " ".join(gazetteer.arabic_names(named)) if language != "ar" else ""
    if hint:  # a question in English names places by their English names: search and read their Arabic ones too
        query, reader_question = f"{query} {hint}", f"{reader_question} ({hint})"
    return Analysis(
        question=question,
        query=query,
        reader_question=reader_question,
        normalized=arabic.normalize(question),
        terms=tuple(arabic.content_words(question)),
        kind=question_type(question),
        language=language,
        follow_up=follow_up,
        is_list=is_list_question(question),
        named=named,
        hint=hint,
    )


__all__ = ["Analysis", "analyse", "has_content", "is_follow_up", "is_list_question", "question_type"]
