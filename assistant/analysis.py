"""Stage 1: analyse the question once — what later stages read instead of re-deriving it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from . import arabic, dialect, gazetteer, metrics
from .retrieval import is_elliptic, is_follow_up, refers_back, search_query
from .types import Turn

_QTYPES = (
    ("number", re.compile(r"\bكم\b|\bعدد\b|\bنسبه\b|how many|how much|what percentage|number of")),
    ("date", re.compile(r"\bمتي\b|\bتاريخ\b|في اي (عام|سنه|شهر|يوم)|\bwhen\b|what year|what date|which year")),
    ("person", re.compile(r"^\s*(من|ومن)\s(?!اين)|\bمن (هو|هي|هم)\b|\bwho\b|\bwhom\b")),
    ("place", re.compile(r"\bاين\b|في اي (مدينه|دوله|بلد|مكان)|ما (المدينه|الدوله|المناطق|المدن|الدول|البلدان)|من اين|\bwhere\b|which (city|country|place)")),
)
# questions whose answer is an enumeration: the reader may take a longer span
_LIST = re.compile(
    r"\b(مكونات|عناصر|انواع|اسماء|المدن|الدول|البلدان|المناطق|اهداف|اسباب|محاور|مراحل|ابرز|اهم|مجالات|توصيات|"
    r"قطاعات|الجهات|المؤسسات|الاطراف)\b|^\s*(اذكر|عدد)\s(?!ال?مشارك)|^\s*و?ما\s+(?:هي\s+)?ال\w{2,}ات\b|what are|"
    r"which .* are|\blist\b|name the"
)


# question words dropped when a previous question becomes the topic of a follow-up (normalised)
_ASKING = frozenset(arabic.normalize(w) for w in """من ما ماذا متى متي أين اين كيف كم لماذا هل أي اي ماهو ماهي
    ومن وما وماذا ومتى وأين وكيف وكم ولماذا وهل هو هي هم
    who whom whose what which when where why how many much is are was were did does do the""".split()) | set(
    dialect.QUESTION_WORDS)
_WORD = re.compile(r"\w+")
# «في أي دورة …», «in which year …»: the asked category, with its preposition, is not the topic
_WHICH = frozenset({"اي", "واي", "which", "what"})
_PREPOSITIONS = frozenset({"في", "من", "الي", "علي", "عن", "مع", "خلال", "in", "at", "on", "of", "from", "to", "by", "for", "during"})


def topic_of(question: str) -> str:
    """A question without its question words, the asked category and punctuation: «من نظم اليوم التواصلي؟» →
    «نظم اليوم التواصلي»; «في أي دورة عقدت الفعالية؟» → «عقدت الفعالية» (a follow-up asks something else)."""
    words = _WORD.findall(question)
    norm = [arabic.normalize(w) for w in words]
    drop = set()
    for i, w in enumerate(norm):
        if w in _WHICH and i + 1 < len(norm) and norm[i + 1] not in _ASKING:
            drop |= {i, i + 1} | ({i - 1} if i and norm[i - 1] in _PREPOSITIONS else set())
    return " ".join(w for i, w in enumerate(words) if i not in drop and norm[i] not in _ASKING)


_CONJUNCTIONS = frozenset({"and", "so", "but", "then", "also"})
_END = "?!.؟ \t\n"


def follow_up_question(question: str, previous: str) -> str:
    """What the reader reads for a follow-up, in MSA and without the leading «و»/«ف»/«and» the reader was never
    trained on: an elliptic one, then the previous question's topic («وأين عقدت؟» after «في أي دورة للجنة منع
    الجريمة عقدت الفعالية الجانبية؟» → «أين عقدت؟ للجنة منع الجريمة عقدت الفعالية الجانبية»); one that is a
    question of its own («وما عدد ضحايا الاتجار في العراق؟»), alone. Measured with ``scripts/followup_probe.py`` on ARCD-test
    («و» + a question after another question of its paragraph, 468 questions), short-answer F1: the question with
    «و» and the topic 0.441, without «و» 0.475, a question of its own alone 0.485, and judged on ``Analysis.asked``
    0.516 (the same questions asked alone: 0.505)."""
    asked = _without_conjunction(question)
    mark = "?" if arabic.script_of(question) == "latin" else "؟"
    return f"{asked}{mark} {topic_of(previous)}".strip() if is_elliptic(asked) else f"{asked}{mark}"


def _without_conjunction(question: str) -> str:
    """The question in MSA without its final mark and its leading «و»/«ف»/«And»."""
    asked = dialect.msa_question(question).strip().rstrip(_END)
    first, _, rest = asked.partition(" ")
    bare = arabic.normalize(first[1:])
    if first[:1] in "وف" and (bare in _ASKING or bare in _PREPOSITIONS):
        return f"{first[1:]} {rest}".strip()
    if first.lower() in _CONJUNCTIONS and rest:
        return rest
    return asked


def short_answer_of(answer: str) -> str:
    """The short answer of an answer text this assistant wrote («آمي بوب [1]\nquote [1]»: «آمي بوب»); "" when
    the answer has none (a quote alone, a refusal, a generated paragraph)."""
    lines = [line.strip() for line in (answer or "").split("\n") if line.strip()]
    if len(lines) < 2 or not lines[0].endswith("]"):
        return ""
    short = metrics.strip_markers(lines[0])
    return short if short != lines[0] and 0 < len(short.split()) <= 12 else ""


def question_type(question: str) -> str:
    """number / date / person / place / other (dialect question words mapped to MSA first)."""
    return _type_of_msa(dialect.msa_question(question))


def _type_of_msa(msa: str) -> str:
    """``question_type`` of a question already in MSA (``dialect.msa_question``)."""
    q = arabic.normalize(msa)
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
    query: str  # what retrieval searches with: the question, completed from the last turn for an elliptic follow-up
    reader_question: str  # what the reader reads: dialect words in MSA; a follow-up, then the previous question's topic
    asked: str  # what answerability judges: the reader question (a follow-up without the last answer, dialect in MSA)
    normalized: str
    terms: tuple[str, ...]  # content words (normalised)
    kind: str  # number / date / person / place / other
    language: str  # "ar", "latin", "other" (by letters)
    follow_up: bool
    is_list: bool
    named: tuple[str, ...] = ()  # places (normalised) and numbers ``asked`` names (``gazetteer.named``)
    hint: str = ""  # an English question's places in Arabic, appended to query and reader_question
    previous_answer: str = ""  # a follow-up's: the last turn's short answer (a follow-up asks something else)
    # further queries whose rankings are fused beside ``query``'s: a dialect question's MSA form; a follow-up that
    # may have changed topic, as asked (in MSA)
    also_search: tuple[str, ...] = ()
    gloss: str = ""  # an English question's other words in the documents' Arabic (``glossary``): read, not searched

    def without_hint(self) -> Analysis:
        """The analysis as the sentence engine takes it (it scores sentences by the question's own words; the hint
        and gloss were measured for the reader only)."""
        if not self.hint and not self.gloss:
            return self
        added = " ".join(x for x in (self.hint, self.gloss) if x)
        return replace(self, query=self.query.removesuffix(f" {self.hint}"),
                       reader_question=self.reader_question.removesuffix(f" ({added})"),
                       asked=self.asked.removesuffix(f" {self.hint}"), hint="", gloss="")

    def with_gloss(self, words: Sequence[str]) -> Analysis:
        """The reader question with an English question's other words in the documents' Arabic
        (``glossary.Glossary``), read after its places' Arabic names. Retrieval keeps the question as it was: the
        gloss is found in what it retrieved."""
        if not words or self.gloss:
            return self
        gloss = " ".join(words)
        added = " ".join(x for x in (self.hint, gloss) if x)
        return replace(self, reader_question=f"{self.without_hint().reader_question} ({added})", gloss=gloss)


def previous_question(history: Sequence[Turn]) -> str:
    """The last question asked, as the conversation resolved it: «وفي الإمارات؟» after «ما الذي تم تطويره في
    السعودية؟» and «وفي عمان؟» resolves against «ما الذي تم تطويره في عمان؟»."""
    resolved = ""
    for user, _ in history:
        resolved = (gazetteer.swap_place(resolved, user) if resolved else None) or user
    return resolved


# «في أي عاصمة أوروبية…؟», «ما الدول الخليجية…؟», «which European capital…?»: the adjective after the asked noun
# says what kind of thing the answer is; the passage that holds it («في العاصمة النمساوية فيينا») need not name it
_ASKED_KIND = re.compile(r"(?<!\w)(?:اي|ايه|ما|ماهي|ماهو)\s+\w+\s+(\w+)|\b(?:which|what)\s+([a-z]+)\s+[a-z]+", re.IGNORECASE)


def _without_asked_kind(text: str) -> str:
    """``text`` without a place adjective that only qualifies the asked noun (not a place the question names:
    «أي مدينة في المغرب» keeps المغرب)."""
    norm = arabic.normalize(text)
    for m in _ASKED_KIND.finditer(norm):
        word = m.group(1) or m.group(2)
        if gazetteer.is_place_adjective(word):
            norm = norm[: m.start(m.lastindex)] + " " * len(word) + norm[m.end(m.lastindex):]
    return norm


def _names_new(asked: str, turn: Turn) -> bool:
    """Does a short follow-up name something, and only what the last turn never mentions («ومن هو نجيب محفوظ؟»,
    «وأين تقع فلسطين؟», «وما هو السرطان؟» after a question about something else), with no word referring back? It
    may be a new topic. A lone verb names nothing: «وفين تختمت؟» asks about the last turn's topic. ``asked``: the
    follow-up in MSA without its leading conjunction."""
    if refers_back(asked):
        return False
    words = arabic.content_words(asked)
    if len(words) == 1 and not words[0].startswith("ال") and not gazetteer.named(words[0]):
        return False
    last = {arabic.light_stem(w) for w in arabic.content_words(" ".join(x or "" for x in turn))}
    return bool(words) and not any(arabic.light_stem(w) in last for w in words)


def analyse(question: str, history: Sequence[Turn] = ()) -> Analysis:
    msa = dialect.msa_question(question)  # once: the reader question (unless a follow-up) and the asked kind
    query = search_query(question, history, msa)
    follow_up = query != question
    reader_question = follow_up_question(question, history[-1][0]) if follow_up else msa
    swapped = gazetteer.swap_place(previous_question(history), question) if follow_up else None
    if swapped:  # «وفي عمان؟»: the previous question about another place, searched and read as such
        query, reader_question = swapped, dialect.msa_question(swapped)
    conversational = follow_up and not swapped  # leans on the last turn (a swapped place is a question of its own)
    # judged by what is asked, as the reader reads it: a follow-up not by the last answer's words and numbers (the
    # query holds them), a dialect question in MSA (its dialect words are in no document)
    asked = reader_question
    also_search: tuple[str, ...] = ()
    if conversational:
        bare = _without_conjunction(question)
        if not is_elliptic(bare):
            # a follow-up that is a question of its own is searched as asked: the last turn's words would pull it
            # towards the last answer's passage when the topic has changed (scripts/followup_probe.py, README)
            query = question
            if msa != question:
                also_search = (reader_question,)  # typed in dialect: its MSA form is searched too, as when asked alone
        elif _names_new(bare, history[-1]):  # «ومن هو نجيب محفوظ؟» may be a new topic: searched as asked too
            also_search = (msa,)
        elif len(arabic.content_words(bare)) >= 3:
            # «والهند كم ولاية فيها؟» refers back to what it names itself: searched as asked too (in MSA, fused
            # with the completed query) and read alone, without the last question's topic
            also_search = (msa,)
            reader_question = asked = follow_up_question(bare, "")
    elif reader_question != question and not swapped:  # a dialect question is also searched in MSA (fused)
        also_search = (reader_question,)
    language, named = arabic.script_of(question), gazetteer.named(_without_asked_kind(asked))
    hint = " ".join(gazetteer.arabic_names(named)) if language != "ar" else ""
    if hint:  # a question in English names places by their English names: search and read their Arabic ones too
        query, reader_question, asked = f"{query} {hint}", f"{reader_question} ({hint})", f"{asked} {hint}"
    return Analysis(
        question=question,
        query=query,
        reader_question=reader_question,
        asked=asked,
        normalized=arabic.normalize(question),
        terms=tuple(arabic.content_words(question)),
        kind=_type_of_msa(msa),
        language=language,
        follow_up=follow_up,
        is_list=is_list_question(question),
        named=named,
        hint=hint,
        previous_answer=short_answer_of(history[-1][1]) if conversational else "",
        also_search=also_search,
    )


__all__ = ["Analysis", "analyse", "has_content", "is_follow_up", "is_list_question", "question_type", "short_answer_of",
           "follow_up_question", "topic_of"]
