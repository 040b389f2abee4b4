"""Arabic text for matching: normalisation, tokens, light stems, sentences.

Everything here is for *matching*. Displayed and quoted text is never altered:
functions that cut text return character offsets into the original string.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TATWEEL = "\u0640"
_MARKS = re.compile(_DIACRITICS.pattern[:-1] + _TATWEEL + "]")  # diacritics and tatweel
_CHAR_MAP = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه",
    **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
    **{chr(0x06F0 + d): str(d) for d in range(10)},  # Eastern (Persian) digits
    "\u066b": ".", "\u066c": ",",
})
_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[^\W\d_]+", re.UNICODE)
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_LATIN_LETTER = re.compile("[A-Za-z]")

STOPWORDS = frozenset(
    """في من على الى عن ما ماذا هل كم متى اين من هو هي هم هن انا نحن انت التي الذي الذين اللتي اللذين
    ان او ثم او لا لم لن قد كان كانت يكون تكون مع بين عند حتى كل بعض اي هذا هذه ذلك تلك هناك هنا
    منذ خلال بعد قبل حول ضد دون لدي لدى ايضا كما اذا لكن بل مثل عبر و ف ب ل ك وما وكم وما فما اما
    كيف لماذا لما الا غير يا وهو وهي وقد وكان وكانت التى او اذ به بها له لها فيه فيها منه منها عنه عنها
    الي اليه اليها عليه عليها تم ذات ذو سوف
    شنو شو ايش وش اش اللي الي فين وين ديال تاع متاع قديش شحال كام ليش علاش كيفاش امتي امتى مين منو
    قداش ايمتى وقتاش شكون شنهو ليه ازاي واش
    هاد هادي هاذا هذي دي ده بدي عايز ابغي بغيت كانت كان يعني بس
    the a an of in on at to for by with from and or is are was were be been what which who whom
    whose when where why how did does do many much""".split()
)

# light stemming (Larkey et al. style light10, simplified), on normalised text
_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
_SUFFIXES = ("هما", "تها", "تهم", "ات", "ان", "ون", "ين", "يه", "ها", "هم", "هن", "كم", "نا", "ه", "ي", "ا")


def normalize(text: str) -> str:
    """Fold the variation that should not matter for matching."""
    text = unicodedata.normalize("NFKC", text)
    text = _DIACRITICS.sub("", text).replace(_TATWEEL, "")
    return text.translate(_CHAR_MAP).lower()


def unmarked(text: str) -> tuple[str, tuple[int, ...] | None]:
    """The text without diacritics and tatweel, and each kept character's offset in ``text`` (``None``: nothing
    removed). The reader reads this: its tokenizer splits a marked word into odd pieces («عُمان» → ع ُ مان)
    that no longer match the same word unmarked in a question."""
    if not _MARKS.search(text):
        return text, None
    kept = tuple(i for i, ch in enumerate(text) if not _MARKS.fullmatch(ch))
    return "".join(text[i] for i in kept), kept


def marked_span(text: str, kept: tuple[int, ...] | None, start: int, end: int) -> tuple[int, int]:
    """A span of ``unmarked(text)`` as offsets into ``text`` (the marks of its last letter included)."""
    if kept is None or end <= start:
        return start, end
    a, b = kept[start], kept[end - 1] + 1
    while b < len(text) and _MARKS.fullmatch(text[b]):
        b += 1
    return a, b


def light_stem(token: str) -> str:
    """Strip one clitic/article prefix and one suffix, keeping at least 2-3 letters."""
    if not _ARABIC_LETTER.match(token):
        return token
    for p in _PREFIXES:
        if token.startswith(p) and len(token) - len(p) >= 3:
            token = token[len(p):]
            break
    for s in _SUFFIXES:
        if token.endswith(s) and len(token) - len(s) >= 2:
            token = token[: -len(s)]
            break
    return token


def words(text: str) -> list[str]:
    """Normalised word tokens (Arabic, Latin and numbers)."""
    return _TOKEN.findall(normalize(text))


def terms(text: str, keep_stopwords: bool = False) -> list[str]:
    """Index terms: the normalised word and, for Arabic words, ``~`` + its light stem."""
    out: list[str] = []
    for w in words(text):
        if not keep_stopwords and w in STOPWORDS:
            continue
        out.append(w)
        if _ARABIC_LETTER.match(w):
            out.append("~" + light_stem(w))
    return out


def covers(word: str, text_terms: set[str]) -> bool:
    """Is a normalised word in a set of ``terms()``, as itself or by its light stem?"""
    return word in text_terms or "~" + light_stem(word) in text_terms


def content_words(text: str) -> list[str]:
    """Normalised words without stopwords and 1-letter tokens (for coverage measures)."""
    return [w for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def script_of(text: str) -> str:
    """'ar', 'latin' or 'other' by majority of letters."""
    ar = len(_ARABIC_LETTER.findall(text))
    lat = len(_LATIN_LETTER.findall(text))
    if ar == lat == 0:
        return "other"
    return "ar" if ar >= lat else "latin"


def has_arabic(text: str) -> bool:
    """Does the text hold an Arabic letter?"""
    return _ARABIC_LETTER.search(text) is not None


_LIST_ITEM = re.compile(r"\s*(?:[•●▪‣◦·*–-]|\(?[0-9٠-٩]{1,3}[.)-])\s")


def is_list_item(line: str) -> bool:
    """Does a line or sentence open an item of a list («• تعزيز قدرات …», «- …», «2. …», «٣) …»)?"""
    return _LIST_ITEM.match(line) is not None


_SENTENCE_END = re.compile(r"(?<![0-9])[.!?؟؛;](?=\s|$|[\"'»”)])[\"'»”)]*|\n+")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, end) offsets of sentences in ``text[start:end]``, whitespace trimmed.

    Ends at . ! ? ؟ ؛ ; (not inside numbers such as 3.5) and at line breaks.
    """
    end = len(text) if end is None else end
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        yield from _trimmed(text, pos, m.end())
        pos = m.end()
    yield from _trimmed(text, pos, end)


def _trimmed(text: str, a: int, b: int) -> Iterator[tuple[int, int]]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a and any(ch.isalnum() for ch in text[a:b]):
        yield a, b


@lru_cache(maxsize=512)
def document_sentences(text: str) -> tuple[tuple[int, int], ...]:
    """``sentence_spans`` of a whole document, cached: answers look at the same documents again."""
    return tuple(sentence_spans(text))


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]
