"""Dialect questions in MSA: what the reader (trained on MSA questions) and the question type read.

``msa_question`` rewrites a question typed in Levantine, Gulf, Egyptian or Maghrebi Arabic the way an MSA
question would put it, and leaves every other word as written (display never sees this):

1. dialect words → their MSA forms: question words («فين» → «أين», «إمتى» → «متى», «إيه» → «ما», «انهي» →
   «أي», «قد إيه» → «كم», «سنة كام» → «في أي سنة»), relatives, possessives, demonstratives, pronouns, negation
   and a few common verbs («اتولد» → «ولد»);
2. only in a question that step 1 found dialect in: the verb prefixes of the dialects — «بيعيش» → «يعيش»
   (Levantine / Egyptian b-), «كيتعرف» → «يتعرف» (Maghrebi k-), «فالعالم» → «في العالم», «بهالاسم» → «بهذا
   الاسم» — never on a place the gazetteer knows or a common MSA word that starts the same way («بيروت»,
   «بين», «كتاب», «كندا»);
3. a question word the dialect puts last goes first, as in MSA: «بشار الأسد اتولد إمتى؟» → «متى بشار الأسد
   ولد؟», «صراع العروش ده إيه؟» → «ما صراع العروش؟», «اللبوات بتعيش كام سنة؟» → «كم سنة اللبوات تعيش؟»;
   a topic put first keeps its «و» there: «والهند فيها كام إقليم؟» → «وكم إقليم الهند فيها؟».

Words are looked up twice: as typed without diacritics (where normalising would confuse two words: the
Egyptian «إيه» / «ايه» is not «آية»), then normalised. Written from how the dialects form questions, not from
any evaluation set's wording; measured on the dialect rewrites of ARCD-train (``eval/dialect``).
"""

from __future__ import annotations

import re

from . import arabic

# dialect question words → the MSA word(s) that ask the same thing
QUESTION_MSA = {
    "قديش": "كم", "قدي": "كم", "شحال": "كم", "قداش": "كم", "كام": "كم", "شكد": "كم", "بكام": "بكم", "بقديش": "بكم",
    "فين": "أين", "وين": "أين", "فاين": "أين", "منين": "من أين", "لوين": "إلى أين", "لفين": "إلى أين",
    "امتى": "متى", "ايمتى": "متى", "امتا": "متى", "ايمتا": "متى", "وقتاش": "متى", "فوقاش": "متى", "وقتيش": "متى",
    "مين": "من", "منو": "من", "شكون": "من", "لمين": "لمن", "بمين": "بمن", "لشكون": "لمن", "ديال مين": "لمن",
    "شنو": "ما", "شو": "ما", "ايش": "ما", "وش": "ما", "اش": "ما", "ويش": "ما", "شنهو": "ما", "اشنو": "ما",
    "شنوا": "ما", "شنوة": "ما", "شنية": "ما", "شنهي": "ما هي", "اشنوهي": "ما هي", "اشنوهو": "ما هو",
    "بشو": "بماذا", "باش": "بماذا", "باشنو": "بماذا", "بأشنو": "بماذا", "بايش": "بماذا", "فاش": "في ماذا",
    "لشو": "لماذا", "عشو": "على ماذا", "علاش": "لماذا", "ليش": "لماذا", "ليه": "لماذا", "علاه": "لماذا",
    "لاش": "لماذا", "كيفاش": "كيف", "ازاي": "كيف", "شلون": "كيف", "كيفش": "كيف",
    "انهي": "أي", "انهو": "أي", "انهى": "أي", "اشمن": "أي", "شمن": "أي", "ياتو": "أي",
    "لاشمن": "لأي", "لانهي": "لأي", "فاشمن": "في أي", "فانهي": "في أي", "باشمن": "بأي", "بانهي": "بأي",
    "واش": "هل",
    "قد ايه": "كم", "قد ايش": "كم", "اد ايه": "كم", "قد اش": "كم", "عشان ايه": "لماذا", "علشان ايه": "لماذا",
    "سنة كام": "في أي سنة", "عام كام": "في أي عام", "سنة قديش": "في أي سنة", "عام قديش": "في أي عام",
}
# words that normalising would confuse with an MSA word: looked up as typed (diacritics and tatweel removed)
QUESTION_AS_TYPED = {"إيه": "ما", "ايه": "ما", "بإيه": "بماذا", "بايه": "بماذا", "لإيه": "لماذا", "لايه": "لماذا",
                     "فإيه": "في ماذا", "إيش": "ما"}
OTHER_MSA = {
    "اللي": "التي", "إللي": "التي", "ديال": "", "تاع": "", "متاع": "", "بتاع": "", "بتاعة": "", "بتاعت": "",
    "ديالو": "له", "ديالها": "لها", "ديالهم": "لهم", "ديالوم": "لهم", "بتاعه": "له", "بتاعها": "لها",
    "بتاعهم": "لهم", "تاعو": "له", "تاعه": "له", "تاعها": "لها", "تاعهم": "لهم",
    "ده": "", "هاد": "هذا", "هادا": "هذا", "هاذا": "هذا", "هيدا": "هذا", "هادي": "هذه", "هاذي": "هذه",
    "هيدي": "هذه", "هذي": "هذه", "هادو": "هؤلاء", "هدول": "هؤلاء", "هذول": "هؤلاء", "هاذول": "هؤلاء",
    "هوما": "هم", "هومة": "هم", "هني": "هم", "هنن": "هم", "احنا": "نحن", "انتو": "أنتم", "هوه": "هو",
    "مش": "ليس", "موش": "ليس", "مو": "ليس", "مب": "ليس",
    "كاين": "يوجد", "كاينة": "توجد", "كاينين": "يوجدون", "كاينا": "توجد",
    "تاني": "ثاني", "التاني": "الثاني", "تانية": "ثانية", "التانية": "الثانية", "تالت": "ثالث", "التالت": "الثالث",
    "اكتر": "أكثر", "كتير": "كثير", "كمان": "أيضا", "برضو": "أيضا", "زي": "مثل", "هيك": "هكذا", "كده": "هكذا",
    "كدا": "هكذا", "دلوقتي": "الآن", "دلوقت": "الآن", "هلق": "الآن", "دابا": "الآن", "امبارح": "أمس",
    "عايز": "يريد", "عاوز": "يريد", "السمية": "الاسم",
    "اتولد": "ولد", "انولد": "ولد", "اتولدت": "ولدت", "انولدت": "ولدت", "اتوفى": "توفي", "اتوفت": "توفيت",
    "اتأسس": "تأسس", "اتاسس": "تأسس", "اتأسست": "تأسست", "اتاسست": "تأسست", "اتجوز": "تزوج",
    "اتجوزت": "تزوجت", "اتقتل": "قتل", "انقتل": "قتل", "اتعلن": "أعلن", "انعلن": "أعلن", "اتكتب": "كتب",
    "انكتب": "كتب", "اتبنى": "بني", "انبنى": "بني", "اتسمى": "سمي", "انسمى": "سمي", "اتعدل": "عدل",
    "اتعمل": "عمل", "انعمل": "عمل", "اتفتح": "فتح", "انفتح": "فتح", "اتنشر": "نشر", "بلش": "بدأ", "بلشت": "بدأت",
    "بلشو": "بدأوا", "ساب": "غادر", "سابت": "غادرت", "خد": "أخذ", "خدت": "أخذت", "شاف": "رأى", "شافت": "رأت",
}
# words that are dialect only in a question found to be dialect, after another word («قل لي» is MSA)
OTHER_AS_TYPED_AFTER = {"لي": "التي", "دي": ""}

# common MSA words (normalised) that look like a dialect verb prefix: whole words with their suffixes
# («بين», «بينهم», «بيته», «كتبوا», «كيفية») — a verb that merely starts the same way is still a verb
# («بينظم», «بيتعمل», «بيعني», «كتبعد», «كيفرق») — and names or nouns that start so («بيزنطة», «بتسوانا»),
# or a preposition before a form-II verbal noun («بتطوير», «بتأسيس»); «بيه / بيها / بيهم» are «with it / them»
_MSA_STEMS = "بين|بيت|بيوت|بيع|بيان|بيض|بيضا|بيل|بيرو|بيتر|بتر|كيف|كيان|كتاب|كتب|كتيب|كتل|كتف|كتان|كتائب"
_NOT_PREFIXED = re.compile(
    rf"^(?:(?:{_MSA_STEMS})(?:ه|ها|هم|هما|هن|ي|ك|كم|نا|ا|ات|ت|تم|وا|ما|يه|يا)?$|بي(?:ها|هم|هما)$|"
    r"بيئ|بيزنط|بيولوج|بيانو|بيكين|بيتكوين|بيتهوفن|بيلار|بترول|بتسوان|بتاريخ|كيلو|كيمي|كيني|"
    r"فال(?:نسي|كون|نتين)|بت(?!ت)\w\wي\w(?:ه|ها|هم|ات)?$)"
)
_B_VERB = re.compile(r"^ب([يت]\w{2,})$")  # Levantine / Egyptian b- before the imperfect
_K_VERB = re.compile(r"^ك([يتن]\w{2,})$")  # Maghrebi k- before the imperfect
_FI_AL = re.compile(r"^فال(\w{3,})$")  # Maghrebi «فالعالم»: «في العالم»
_THIS_AL = re.compile(r"^([بلفو]?)هال(\w{3,})$")  # Levantine / Gulf «بهالاسم»: «بهذا الاسم»

_MSA_QUESTION_WORDS = frozenset(arabic.normalize(w) for w in
                                "ما ماذا متى أين من كم كيف لماذا بماذا لمن بمن بكم هل".split())
_PREPOSITIONS = frozenset({"في", "من", "الي", "علي", "عن", "ب", "ل"})
_L = r"\w\u0610-\u061a\u064b-\u065f\u0670\u0640"  # letters with their diacritics and tatweel
_WORD = re.compile(f"[{_L}]+")
_TOKEN = re.compile(f"([^{_L}]*)([{_L}]+)([^{_L}]*)")
_TRAIL = "?!.؟ \t\n"


def _typed(word: str) -> str:
    return arabic.unmarked(word)[0]


# normalised keys (one or two words) → MSA; the question words alone
_QUESTIONS = {arabic.normalize(k): v for k, v in QUESTION_MSA.items()}
_WORDS = {**{arabic.normalize(k): v for k, v in OTHER_MSA.items()}, **_QUESTIONS}
# dialect question words → the MSA word that carries the same question type (both normalised)
QUESTION_WORDS = {k: arabic.normalize(v) for k, v in _QUESTIONS.items() if " " not in k}


def _swap(word: str, questions: bool = True) -> str | None:
    """The MSA form of one dialect word (a leading «و» kept: «وقديش» → «وكم»), or None; with ``questions``
    False, not when it is a question word."""
    forms = [("", word)] + ([("و", word[1:])] if word[:1] == "و" and len(word) > 1 else [])
    for lead, w in forms:
        typed, norm = _typed(w), arabic.normalize(w)
        if not questions and (typed in QUESTION_AS_TYPED or norm in _QUESTIONS):
            return None
        if typed in QUESTION_AS_TYPED:
            return lead + QUESTION_AS_TYPED[typed]
        if norm in _WORDS and (not lead or _WORDS[norm]):
            return lead + _WORDS[norm]
    return None


def _after_dialect(word: str, position: int) -> str | None:
    """In a question found to be dialect: a word that is dialect only there («لي» after a word: «التي»), or a
    dialect verb or article prefix rewritten («بيعيش» → «يعيش»); None when the word stays."""
    from . import gazetteer

    typed = _typed(word)
    if position and typed in OTHER_AS_TYPED_AFTER:
        return OTHER_AS_TYPED_AFTER[typed]

    norm = arabic.normalize(word)
    if _NOT_PREFIXED.match(norm) or len(norm) < 4:
        return None
    for pattern, template in ((_THIS_AL, r"\1هذا ال\2"), (_FI_AL, r"في ال\1")):
        if pattern.match(typed):
            return pattern.sub(template, typed)
    if gazetteer.named(word):  # «بيروت», «كندا»
        return None
    for pattern in (_B_VERB, _K_VERB):
        if pattern.match(typed):
            return pattern.sub(r"\1", typed)
    return None


def _joined_and(word: str) -> bool:
    """Does the word carry a leading «و» (and) before a definite noun or a known place («والهند», «وسوريا»), not a
    word of its own that starts with it («والد», «والي», «وزير»)?"""
    from . import gazetteer

    norm = arabic.normalize(word)
    if norm[:1] != "و" or len(norm) < 4:
        return False
    return norm[1:3] == "ال" and not norm.startswith(("والد", "والي")) or bool(gazetteer.named(word[1:]))


def _question_word_last(tokens: list[str]) -> list[str]:
    """A question word the dialect puts at the end, with its noun and preposition («في أي سنة», «كم سنة»), first."""
    norm = [arabic.normalize(t) for t in tokens]
    if len(tokens) < 2 or norm[0] in _MSA_QUESTION_WORDS or norm[0] in {"اي", "في"}:
        return tokens
    for i in (len(tokens) - 1, len(tokens) - 2):
        if i <= 0:
            continue
        word = norm[i]
        if word in _MSA_QUESTION_WORDS or (word in {"اي", "لاي", "باي"} and i == len(tokens) - 2):
            if i < len(tokens) - 1 and word not in {"كم", "اي", "لاي", "باي", "بكم"}:
                continue  # «ما» / «متى» … followed by another word is not the asked word at the end
            if i > 1 and norm[i - 1] in _PREPOSITIONS:
                i -= 1
            if _joined_and(tokens[0]):  # «والهند فيها كام ولاية؟»: «وكم ولاية الهند فيها؟», the «و» stays first
                return ["و" + tokens[i], *tokens[i + 1:], tokens[0][1:], *tokens[1:i]]
            return tokens[i:] + tokens[:i]
    return tokens


def msa_question(text: str) -> str:
    """The question in MSA for reading (see the module docstring); MSA and English questions come back as they
    were: «فين تختمت الحملة ديال التوعية؟» → «أين تختمت الحملة التوعية؟»."""
    body = text.rstrip(_TRAIL)
    tail = text[len(body):]
    tokens = body.split()
    if not tokens or arabic.script_of(body) != "ar":
        return text
    # a question that opens with an MSA question word has asked already: a later «شو» is a name («أوبرا وينفري شو»)
    first = arabic.normalize(tokens[0])
    asked = first in _MSA_QUESTION_WORDS or first[:1] == "و" and first[1:] in _MSA_QUESTION_WORDS
    out: list[str] = []
    dialect = False
    i = 0
    while i < len(tokens):
        pair = arabic.normalize(" ".join(_WORD.findall(" ".join(tokens[i:i + 2]))))
        if i + 1 < len(tokens) and " " in pair and pair in _WORDS:  # «قد إيه», «سنة كام»
            if _WORDS[pair].startswith("في ") and out and arabic.normalize(out[-1]) == "في":
                out.pop()  # «في سنة كام»: «في أي سنة»
            out.append(_WORDS[pair])
            dialect, i = True, i + 2
            continue
        token = tokens[i]
        m = _TOKEN.fullmatch(token)
        swapped = _swap(m.group(2), questions=not (asked and i)) if m else None
        if swapped is not None:
            dialect = True
            token = f"{m.group(1)}{swapped}{m.group(3)}" if swapped or m.group(1) or m.group(3) else ""
        if token:
            if m and swapped == "التي" and out and arabic.normalize(out[-1]) in {"ما", "من", "وما", "ومن"}:
                token = token.replace("التي", "الذي")  # «شو اللي …»: «ما الذي …»
            out.append(token)
        i += 1
    if not dialect:
        return text
    rewritten = []
    for token in out:
        m = _TOKEN.fullmatch(token)
        msa = _after_dialect(m.group(2), len(rewritten)) if m else None
        if msa is None:
            rewritten.append(token)
        elif msa or m.group(1) or m.group(3):
            rewritten.append(f"{m.group(1)}{msa}{m.group(3)}")
    tokens = " ".join(rewritten).split()
    return " ".join(_question_word_last(tokens)) + tail.strip()


__all__ = ["QUESTION_WORDS", "msa_question"]
