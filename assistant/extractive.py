"""The default answer engine (no LLM): cite verbatim sentences from the passages.

Every candidate sentence of the retrieved passages is scored by
  * semantic similarity to the question (the same embedder as retrieval),
  * idf-weighted coverage of the question's content words (normalised, light-stemmed),
  * whether it holds the kind of answer asked for (a number for كم, a date for متى ...),
  * the rank of its passage.
The best one or two sentences become the answer, each followed by its marker.
When the evidence is weak the engine refuses (see ``confidence``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from . import arabic
from .analysis import question_type
from .types import Citation, Hit

# words that frame a question rather than ask about the documents' content
QUESTION_FRAME = frozenset(arabic.normalize(w) for w in """المذكور المذكورة المذكورين ذكر ذكرت يذكر الخبر المقال النص
    الوثيقة الوثائق المستند حسب وفق وفقا تحدث تحدثت قال قالت أي اي هو هي ماهي ماهو عدد
    اسم رقم نسبة تاريخ عناصر مكونات الفترة الزمنية مدة قيمة سبب أسباب هدف أهداف نوع أنواع طريقة دور
    mentioned article text document according say said name number date percentage""".split())

_YEAR = r"(?:19|20)[0-9]{2}"
_NUMBER = re.compile(r"(?<![0-9])(?!" + _YEAR + r"(?![0-9]))[0-9]+(?:[.,][0-9]+)?%?|\b(?:ألف|الف|آلاف|مليون|ملايين|مليار|مئة|مائة|مئات|عشرات|عشرين|ثلاثين|أربعين|خمسين|نصف|ربع|ثلث)(?:ا|ان|ين)?\b")
_MONTHS = (r"يناير|فبراير|مارس|أبريل|ابريل|مايو|يونيو|يوليو|أغسطس|غشت|سبتمبر|شتنبر|أكتوبر|نوفمبر|نونبر|ديسمبر|دجنبر|"
           r"كانون|شباط|آذار|نيسان|أيار|حزيران|تموز|آب|أيلول|تشرين")
_DATE = re.compile(_YEAR + "|" + _MONTHS)
_FULL_DATE = re.compile(r"[0-9]{1,2}\s*(?:" + _MONTHS + r")|(?:" + _MONTHS + r")[ /]*" + _YEAR)
_PLACE = re.compile(r"مدينة|بمدينة|مدن|العاصمة|محافظة|إقليم|ولاية|منطقة|دولة|شرق|غرب|شمال|جنوب|أفريقيا|إفريقيا|آسيا|أوروبا|أمريكا|في [A-Z]")
_COUNT_WORDS = {"كم", "عدد", "نسبه", "قديش", "شحال", "كام"}
# words between the count word and what it counts: «كم من طفل», «كم بلغ عدد القوات», «كم كان عدد …»
_NOT_COUNTED = arabic.STOPWORDS | {arabic.normalize(w) for w in "بلغ يبلغ تبلغ بلغت وصل يصل تصل وصلت قدر يقدر تقدر يقارب يناهز إجمالي".split()}


def counted_noun(question: str) -> str | None:
    """The stem of what a كم-question counts: «كم طفلا» → طفل, «كم عدد المشاركين» → مشارك."""
    words = arabic.words(question)
    for i, w in enumerate(words):
        if w in _COUNT_WORDS:
            rest = [x for x in words[i + 1 :] if x not in _COUNT_WORDS and x not in _NOT_COUNTED]
            return arabic.light_stem(rest[0]) if rest else None
    return None


def stems_near_numbers(text: str, is_number=None, window: int = 3) -> set[str]:
    """Light stems of the words of ``text`` that stand within ``window`` words of a number (``is_number(word)``;
    by default digits or a number word as the sentence engine reads them): what the text counts."""
    is_number = is_number or _NUMBER.match
    words = arabic.words(text)
    numbers = [j for j, w in enumerate(words) if is_number(w)]
    return {arabic.light_stem(words[i]) for j in numbers for i in range(max(0, j - window), min(len(words), j + window + 1))}


def number_near(stem: str, sentence: str, window: int = 3) -> bool:
    """Does a number stand within ``window`` words of the counted noun?"""
    return stem in stems_near_numbers(sentence, window=window)


# Arabic cardinals (normalised: ا for أ/إ, ه for ة), with a clitic before and a case / dual / plural ending after
_NUMBER_WORDS = (r"واحد|اثن|اثنت|ثلاث|ثلث|اربع|ربع|خمس|ست|سبع|ثمان|ثماني|تسع|عشر|مئ|مائ|مئت|مائت|الف|الاف|الوف|"
                 r"مليون|ملايين|مليار|مليارات|نصف|عشرات|مئات")
_NUMBER_WORD = re.compile(r"(?<!\w)[وبلفك]?(?:ال)?(?:" + _NUMBER_WORDS + r")(?:ه|ا|ان|ين|ون|تان|تين|ات|ي)?(?!\w)")
_DIGITS = re.compile(r"[0-9]+(?:[.,][0-9]+)*")
_MONTHS_NORMAL = "|".join(sorted({arabic.normalize(m) for m in _MONTHS.split("|")}, key=len, reverse=True))
# numbers that belong to a date: «11 الى 13 شباط/فبراير 2026», «30 يوليو», «عام 2012», a bare year
_DATE_NUMBERS = re.compile(
    r"[0-9]{1,2}\s*(?:(?:-|–|الي|و)\s*[0-9]{1,2}\s*)?(?:" + _MONTHS_NORMAL + r")|(?<![0-9])" + _YEAR + r"(?![0-9])")


def number_fit(span: str) -> float:
    """0..1: is ``span`` an answer to «كم …؟»? 1 with a count or amount in digits or words («750», «ثمان عشرة
    محافظة», «خمسين ولاية»), 0.5 when its only numbers are those of a date («11 إلى 13 شباط 2026»), 0 with none."""
    text = arabic.normalize(span)
    rest = _DATE_NUMBERS.sub(" ", text)
    if _DIGITS.search(rest) or _NUMBER_WORD.search(rest):
        return 1.0
    return 0.5 if _DIGITS.search(text) else 0.0


# a year: after «سنة/عام», with an era mark («1453م», «1157 هـ»), or any three or four digits
_ANY_YEAR = re.compile(r"(?:(?<!\w)(?:[وبلف]?(?:ال)?(?:سنه|عام|عامي|سنتي))\s+[0-9]{1,4}(?![0-9]))|"
                       r"(?<![0-9])(?<![0-9][.,])[0-9]{3,4}(?![0-9%])(?![.,][0-9])|(?<![0-9])[0-9]{1,4}\s*(?:م|ه|ق\s*م)(?!\w)")
_DAY_MONTH = re.compile(r"[0-9]{1,2}\s*(?:" + _MONTHS_NORMAL + r")")
# when-words short of a date: a month or weekday, a century or era, an age, a time before or after something
_TIME_WORDS = re.compile(r"(?<!\w)[وبلف]?(?:ال)?(?:" + _MONTHS_NORMAL + r"|احد|اثنين|ثلاثاء|اربعاء|خميس|جمعه|سبت|قرن|"
                         r"قرون|عصر|عهد|سن|عمر|منذ|قبل|بعد|خلال|اثناء|حين|عندما|اواخر|اوائل|منتصف|مطلع|بدايه|نهايه|"
                         r"يوم|ايام|امس|غدا|صباح|مساء|ليل|ليله|اسبوع|شهر|اشهر|شهور|سنوات|اعوام|عقد|عقود|لما|هجره|هجري|ميلادي|"
                         r"محرم|صفر|ربيع|جمادي|رجب|شعبان|رمضان|شوال|القعده|الحجه)(?!\w)")


def date_fit(span: str) -> float:
    """0..1: is ``span`` an answer to «متى …؟»? 1 with a year or a day and month («سنة 1453م», «1157 هـ»,
    «الأول من سبتمبر عام 1939», «11 شباط»), 0.5 with a time short of a date (a month, weekday, century, age,
    «بعد وفاة أبيه», a number), 0 with none."""
    text = arabic.normalize(span)
    if _ANY_YEAR.search(text) or _DAY_MONTH.search(text):
        return 1.0
    return 0.5 if _TIME_WORDS.search(text) or _DIGITS.search(text) or _NUMBER_WORD.search(text) else 0.0


def counted_near(question: str, sentence: str, window: int = 3) -> float:
    """For «كم دولة …؟»: 1 when the counted noun stands within ``window`` words of a number in ``sentence``,
    0 when it does not, 0.5 when the question counts nothing (not a كم-question, or no noun after it)."""
    stem = counted_noun(question)
    if not stem:
        return 0.5
    return 1.0 if stem in stems_near_numbers(sentence, is_count, window) else 0.0


def is_count(word: str) -> bool:
    """A word that is a count: digits or a number word, not a year (``number_fit``)."""
    return number_fit(word) == 1.0


def type_match(kind: str, sentence: str) -> float:
    """0..1: does the sentence hold the kind of answer asked for?"""
    if kind == "number":
        return 1.0 if _NUMBER.search(sentence) else 0.0
    if kind == "date":
        return 1.0 if _FULL_DATE.search(sentence) else 0.5 if _DATE.search(sentence) else 0.0
    if kind == "place":
        return 1.0 if _PLACE.search(sentence) else 0.0
    return 0.0


@dataclass(frozen=True)
class Candidate:
    source: str
    chunk_id: str
    start: int
    end: int
    text: str
    rank: int  # rank of its passage, from 1
    passage: str = ""  # the retrieved passage it comes from (context for scoring)


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float
    dense: float
    coverage: float
    typed: float


class ExtractiveAnswerer:
    def __init__(self, embedder, lexical, max_sentences: int = 2, vectors: dict | None = None):
        self.embedder = embedder
        self.lexical = lexical
        self.max_sentences = max_sentences
        self.vectors = {} if vectors is None else vectors  # sentence text -> vector, shared across questions

    def sentence_vectors(self, texts: list[str]):
        """Vectors of sentences (passage form), embedding only those not seen before."""
        import numpy as np

        todo = list(dict.fromkeys(t for t in texts if t not in self.vectors))
        if todo:
            for t, v in zip(todo, np.asarray(self.embedder.embed_many(todo)), strict=True):
                self.vectors[t] = v
        return np.stack([self.vectors[t] for t in texts])

    # ----------------------------------------------------------- candidates
    def candidates(self, hits: list[Hit], texts: dict[str, str]) -> list[Candidate]:
        seen: set[tuple[str, int, int]] = set()
        out: list[Candidate] = []
        for rank, hit in enumerate(hits, start=1):
            c = hit.chunk
            text = texts[c.source]
            for a, b in arabic.document_sentences(text):
                if b <= c.start or a >= c.end or (c.source, a, b) in seen:
                    continue
                # a sentence must mostly lie inside the passage that was retrieved
                if min(b, c.end) - max(a, c.start) < 0.5 * (b - a):
                    continue
                seen.add((c.source, a, b))
                out.append(Candidate(c.source, c.chunk_id, a, b, text[a:b], rank, c.text))
        return out

    # -------------------------------------------------------------- scoring
    def _idf(self, term: str) -> float:
        n = max(self.lexical.size, 1)
        df = self.lexical.doc_freq(term)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def question_terms(self, question: str, power: float = 1.0) -> list[tuple[str, float]]:
        """(word, idf ** power) for the content words of the question.

        Sentence scoring uses power 2 (the most specific word matters most);
        the refusal decision uses plain idf (calibrated with scripts/calibrate.py).
        """
        out = []
        for w in dict.fromkeys(arabic.content_words(question)):
            if w in QUESTION_FRAME:
                continue
            stem = arabic.light_stem(w)
            df_term = w if self.lexical.doc_freq(w) >= self.lexical.doc_freq("~" + stem) else "~" + stem
            out.append((w, self._idf(df_term) ** power))
        return out

    def coverage(self, terms: list[tuple[str, float]], text: str | set[str]) -> float:
        total = sum(w for _, w in terms)
        if total == 0:
            return 0.0
        st = text if isinstance(text, set) else set(arabic.terms(text, keep_stopwords=True))
        return sum(w for t, w in terms if arabic.covers(t, st)) / total

    def missing_weight(self, terms: list[tuple[str, float]]) -> float:
        """Share of the question's weight carried by words the corpus never uses."""
        total = sum(w for _, w in terms)
        if total == 0:
            return 0.0
        missing = sum(w for t, w in terms if self.lexical.doc_freq(t) == 0 and self.lexical.doc_freq("~" + arabic.light_stem(t)) == 0)
        return missing / total

    def score(self, question: str, query: str, candidates: list[Candidate]) -> list[Scored]:
        if not candidates:
            return []
        import numpy as np

        q = np.asarray(self.embedder.embed_query(query))
        dense = self.sentence_vectors([c.text for c in candidates]) @ q
        kind = question_type(question)
        sets = [set(arabic.terms(c.text, keep_stopwords=True)) for c in candidates]
        passages = {c.passage: set(arabic.terms(c.passage, keep_stopwords=True)) for c in candidates}
        terms = self.question_terms(question, power=2)
        context_terms = self.question_terms(query, power=2) if query != question else terms
        top_source = candidates[0].source
        counted = counted_noun(question) if kind == "number" else None
        out = []
        for c, st, d in zip(candidates, sets, dense, strict=True):
            cov = self.coverage(terms, st)
            ctx = self.coverage(context_terms, st) if context_terms is not terms else cov
            around = self.coverage(context_terms, passages[c.passage])
            typed = type_match(kind, c.text)
            dense_part = _clip((float(d) - 0.70) / 0.20)
            score = 0.45 * dense_part + 0.35 * cov + 0.10 * ctx + 0.05 * around + 0.15 * typed + 0.05 / c.rank
            if counted and number_near(counted, c.text):
                score += 0.15  # «كم طفلا» … «30 ألف طفل»
            if kind == "date" and typed == 1.0 and c.start < 300 and len(c.text) < 40 and c.source == top_source:
                score += 0.2  # the dateline of the best document dates that document
            if len(c.text) < 25 and not typed:  # headings and fragments rarely answer anything
                score -= 0.1
            out.append(Scored(c, score, float(d), cov, typed))
        return sorted(out, key=lambda x: -x.score)

    # --------------------------------------------------------------- answer
    def confidence(self, question: str, query: str, best: Scored) -> float:
        """0..1: how sure we are that the passages answer the question at all.

        Semantic similarity of the best sentence, plus (for Arabic questions) how much
        of the question it covers, minus the weight of question words that the
        corpus never uses (a question about «تونس» when no document mentions it).
        For a follow-up, the completed query is judged.
        """
        if arabic.script_of(question) != "ar":  # lexical evidence does not cross languages
            return _clip(0.5 + (best.dense - 0.775) * 5)
        dense_part = _clip((best.dense - 0.75) / 0.15)
        terms = self.question_terms(query)
        coverage = max(self.coverage(terms, best.candidate.text), 0.8 * self.coverage(terms, best.candidate.passage))
        return _clip(0.35 + 0.5 * dense_part + 0.5 * coverage - 0.9 * self.missing_weight(terms))

    def answer(self, question: str, query: str, hits: list[Hit], texts: dict[str, str]):
        """(ranked sentences, chosen sentences, confidence) for the question."""
        ranked = self.score(question, query, self.candidates(hits, texts))
        if not ranked:
            return ranked, [], 0.0
        chosen = [ranked[0]]
        terms = self.question_terms(question, power=2)
        for other in ranked[1:4]:
            if len(chosen) >= self.max_sentences:
                break
            gain = self.coverage(terms, chosen[0].candidate.text + " " + other.candidate.text) - chosen[0].coverage
            if other.score >= ranked[0].score - 0.08 and gain > 0.15:
                chosen.append(other)
        first = chosen[0].candidate.source
        chosen.sort(key=lambda s: (s.candidate.source != first, s.candidate.start))
        return ranked, chosen, self.confidence(question, query, ranked[0])


def _clip(x: float) -> float:
    return min(max(x, 0.0), 1.0)


def compose(chosen: list[Scored]) -> tuple[str, tuple[Citation, ...]]:
    """Answer text of verbatim sentences, each followed by its marker [n]."""
    parts, cites = [], []
    for n, s in enumerate(chosen, start=1):
        c = s.candidate
        parts.append(f"{c.text} [{n}]")
        cites.append(Citation(n, c.source, c.chunk_id, c.start, c.end, c.text))
    return " ".join(parts), tuple(cites)
