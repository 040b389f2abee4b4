"""What a question names: places (a small gazetteer), numbers, ordinals, ministries and international organisations,
and whether a text mentions them.

A question that names a place or a number its passage never mentions asks about a fact that passage does
not hold: «كم عدد ضحايا الاتجار بالبشر في تونس؟» over an article with only the global figure. The refusal
model and the passage selector (``answerability``) read this as two features; the swapped near-misses of
``reader_train.swap_question`` draw their replacement places from the same list.

Matching is on normalised text (``arabic.normalize``) and forgiving about form: a place is mentioned by
itself with clitics and the article («وبالمغرب», «للسعودية») and by its nisba adjective («المغربية»,
«التونسيين», «السوري»), and by its English name («Morocco», «Moroccan»), so English questions name places too.
Ordinals are numbers in words: «المؤتمر السابع» over an article about the sixth conference asks about a fact it
does not hold. «الأول» and «الثاني» are left out (also «first / another»: «سبب ثاني»); a text mentions an ordinal
in any gender or with the article («السابعة»), as «الـ7», or in English («seventh»).
Organisations are named in Arabic («منظمة الصحة العالمية», «لليونيسف») or in English, by name or acronym («IOM»,
«World Health Organization»); an English question is also searched and read with their Arabic names.
"""

from __future__ import annotations

import re
from functools import lru_cache

from . import arabic

# countries, capitals and large cities, continents; "المدينة" and "الدار" are left out (common words)
PLACES = tuple("""مصر السعودية تونس الجزائر المغرب ليبيا السودان موريتانيا الأردن فلسطين لبنان سوريا العراق الكويت
قطر البحرين الإمارات عمان اليمن تركيا إيران باكستان أفغانستان الهند الصين اليابان كوريا روسيا فرنسا ألمانيا
إيطاليا إسبانيا بريطانيا أمريكا كندا البرازيل الأرجنتين المكسيك نيجيريا إثيوبيا كينيا الصومال جيبوتي إندونيسيا
ماليزيا أستراليا اليونان هولندا بلجيكا السويد النرويج بولندا أوكرانيا القاهرة الرياض الرباط بغداد دمشق بيروت
الدوحة دبي أبوظبي الخرطوم طرابلس مسقط صنعاء المنامة القدس غزة إسطنبول طهران باريس لندن برلين روما مدريد موسكو
بكين طوكيو واشنطن نيويورك الإسكندرية جدة مكة مراكش فاس وهران صفاقس حلب الموصل البصرة أوروبا أفريقيا
آسيا""".split())
# the countries among them (normalised), and the continents and regions a sentence about a country's neighbours
# may name instead («دول الخليج»): ``reading.off_place`` tells a sentence about another country by them
COUNTRIES = frozenset(arabic.normalize(p) for p in PLACES[: PLACES.index("القاهرة")])
REGIONS = frozenset(arabic.normalize(p) for p in ("أوروبا", "أفريقيا", "آسيا", "الخليج"))
# other names a text may use for a place (normalised)
ALIASES = {"امريكا": ("الولايات المتحده",), "بريطانيا": ("المملكه المتحده",), "الامارات": ("دوله الامارات",),
           "فلسطين": ("الاراضي الفلسطينيه",), "عمان": ("سلطنه عمان",)}
# English names (and adjectives) of the places, so an English question names them too («in Egypt» → مصر)
ENGLISH = {
    "مصر": "egypt|egyptians?", "السعودية": "saudi arabia|saudi|saudis", "تونس": "tunisia|tunisians?",
    "الجزائر": "algeria|algerians?", "المغرب": "morocco|moroccans?", "ليبيا": "libya|libyans?",
    "السودان": "sudan|sudanese", "موريتانيا": "mauritania|mauritanians?", "الأردن": "jordan|jordanians?",
    "فلسطين": "palestine|palestinians?", "لبنان": "lebanon|lebanese", "سوريا": "syria|syrians?", "العراق": "iraq|iraqis?",
    "الكويت": "kuwait|kuwaitis?", "قطر": "qatar|qataris?", "البحرين": "bahrain|bahrainis?",
    "الإمارات": "united arab emirates|uae|emirates|emiratis?", "عمان": "oman|omanis?", "اليمن": "yemen|yemenis?",
    "تركيا": "turkey|türkiye|turkish", "إيران": "iran|iranians?", "باكستان": "pakistan|pakistanis?",
    "أفغانستان": "afghanistan|afghans?", "الهند": "india|indians?", "الصين": "china|chinese", "اليابان": "japan|japanese",
    "كوريا": "korea|koreans?", "روسيا": "russia|russians?", "فرنسا": "france|french", "ألمانيا": "germany|germans?",
    "إيطاليا": "italy|italians?", "إسبانيا": "spain|spanish", "بريطانيا": "britain|united kingdom|uk|british",
    "أمريكا": "america|united states|usa|americans?", "كندا": "canada|canadians?", "البرازيل": "brazil|brazilians?",
    "الأرجنتين": "argentina|argentinians?", "المكسيك": "mexico|mexicans?", "نيجيريا": "nigeria|nigerians?",
    "إثيوبيا": "ethiopia|ethiopians?", "كينيا": "kenya|kenyans?", "الصومال": "somalia|somalis?", "جيبوتي": "djibouti",
    "إندونيسيا": "indonesia|indonesians?", "ماليزيا": "malaysia|malaysians?", "أستراليا": "australia|australians?",
    "اليونان": "greece|greeks?", "هولندا": "netherlands|holland|dutch", "بلجيكا": "belgium|belgians?",
    "السويد": "sweden|swedish", "النرويج": "norway|norwegians?", "بولندا": "poland|polish", "أوكرانيا": "ukraine|ukrainians?",
    "القاهرة": "cairo", "الرياض": "riyadh", "الرباط": "rabat", "بغداد": "baghdad", "دمشق": "damascus", "بيروت": "beirut",
    "الدوحة": "doha", "دبي": "dubai", "أبوظبي": "abu dhabi", "الخرطوم": "khartoum", "طرابلس": "tripoli", "مسقط": "muscat",
    "صنعاء": "sanaa|sana'a", "المنامة": "manama", "القدس": "jerusalem", "غزة": "gaza", "إسطنبول": "istanbul",
    "طهران": "tehran", "باريس": "paris", "لندن": "london", "برلين": "berlin", "روما": "rome", "مدريد": "madrid",
    "موسكو": "moscow", "بكين": "beijing", "طوكيو": "tokyo", "واشنطن": "washington", "نيويورك": "new york",
    "الإسكندرية": "alexandria", "جدة": "jeddah", "مكة": "mecca|makkah", "مراكش": "marrakesh|marrakech", "فاس": "fez|fes",
    "وهران": "oran", "صفاقس": "sfax", "حلب": "aleppo", "الموصل": "mosul", "البصرة": "basra", "أوروبا": "europe|european",
    "أفريقيا": "africa|african", "آسيا": "asia|asian",
}
# ordinal roots (normalised) from three to ten, with their digits and English words
ORDINALS = {"ثالث": ("3", "third"), "رابع": ("4", "fourth"), "خامس": ("5", "fifth"), "سادس": ("6", "sixth"),
            "سابع": ("7", "seventh"), "ثامن": ("8", "eighth"), "تاسع": ("9", "ninth"), "عاشر": ("10", "tenth")}
# ministries (normalised portfolio) and their English names: «وزير الداخلية» over an article that names only the
# ministers of justice and of youth asks about someone it does not name
PORTFOLIOS = {
    "داخليه": "interior|home affairs", "خارجيه": "foreign affairs|foreign", "عدل": "justice", "صحه": "health",
    "تعليم": "education", "تربيه": "education", "ماليه": "finance", "دفاع": "defen[cs]e", "اقتصاد": "economy|economic affairs",
    "شباب": "youth", "ثقافه": "culture", "اعلام": "information|media", "تواصل": "communication", "عمل": "labou?r|employment",
    "اوقاف": "religious affairs|endowments", "زراعه": "agriculture", "فلاحه": "agriculture", "سياحه": "tourism",
    "نقل": "transport", "طاقه": "energy", "بيئه": "environment", "اسكان": "housing", "تجاره": "trade|commerce",
    "صناعه": "industry",
}
OFFICE = "وزير "  # how a named ministry is written among ``named`` items: «وزير عدل»
# international organisations: Arabic name as displayed (its first form), other Arabic forms, English names and
# acronyms (regex alternatives on lower-cased text; not «who», «un», «eu»: English and French words)
ORGANIZATIONS = {
    "المنظمة الدولية للهجرة": ((), "iom|oim|international organi[sz]ation for migration"),
    "اليونيسف": (("اليونيسيف", "منظمة الأمم المتحدة للطفولة"), "unicef|united nations children'?s fund"),
    "مكتب الأمم المتحدة المعني بالمخدرات والجريمة": ((), "unodc|united nations office on drugs and crime"),
    "منظمة العمل الدولية": ((), "ilo|international labou?r organi[sz]ation"),
    "مفوضية الأمم المتحدة لشؤون اللاجئين": (("مفوضية اللاجئين", "المفوضية السامية للأمم المتحدة لشؤون اللاجئين"),
                                            "unhcr|un refugee agency|united nations high commissioner for refugees"),
    "منظمة الصحة العالمية": ((), "world health organi[sz]ation"),
    "اليونسكو": ((), "unesco"),
    "برنامج الأغذية العالمي": ((), "wfp|world food programme"),
    "برنامج الأمم المتحدة الإنمائي": ((), "undp|united nations development programme"),
    "صندوق الأمم المتحدة للسكان": ((), "unfpa|united nations population fund"),
    "الأمم المتحدة": ((), "united nations"),
    "الاتحاد الأوروبي": ((), "european union"),
    "الاتحاد الأفريقي": (("الاتحاد الإفريقي",), "african union"),
    "جامعة الدول العربية": (("الجامعة العربية",), "arab league|league of arab states"),
    "مجلس التعاون الخليجي": (("مجلس التعاون لدول الخليج العربية",), "gcc|gulf cooperation council"),
    "البنك الدولي": ((), "world bank"),
    "صندوق النقد الدولي": ((), "imf|international monetary fund"),
    "حلف شمال الأطلسي": (("الناتو",), "nato"),
    "الإنتربول": (("الانتربول",), "interpol"),
    "الصليب الأحمر": ((), "red cross|icrc"),
    "منظمة العفو الدولية": ((), "amnesty international"),
    "هيومن رايتس ووتش": ((), "human rights watch"),
    "منظمة التجارة العالمية": ((), "wto|world trade organi[sz]ation"),
    "منظمة أنقذوا الأطفال": (("أنقذوا الأطفال",), "save the children"),
}
CLITICS = ("", "و", "ب", "ل", "ف", "وب", "ول", "وف")
_LETTERS = r"[^\W\d_]"
_NUMBER = re.compile(r"(?<![0-9.,])(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]{2,})(?![0-9]|[.,][0-9])")


@lru_cache(maxsize=1)
def places() -> dict[str, str]:
    """``PLACES`` by normalised form."""
    return {arabic.normalize(p): p for p in PLACES}


@lru_cache(maxsize=256)
def _pattern(place: str) -> re.Pattern:
    """A normalised place with clitics and article, or its nisba («مصر» → مصري، المصرية، والمصريين)."""
    core = place[2:] if place.startswith("ال") else place
    stem = core[:-1] if core.endswith(("ا", "ه")) else core
    stem = stem[:-1] if stem.endswith("ي") and core != stem else stem  # السعودية, سوريا: سعودي, سوري
    nisba = f"|{re.escape(stem)}(?:ي|يه|يين|يون|يات)" if len(stem) >= 3 else ""  # not «جدية» for جدة
    return _with_clitics(f"{re.escape(core)}{nisba}")


def _with_clitics(forms: str) -> re.Pattern:
    """Normalised word forms (regex alternatives, without their article) as whole words, after clitics and the
    article or ل («وبالمغرب», «للسعودية», «لليونيسف»)."""
    return re.compile(rf"(?<!{_LETTERS})[وفبلك]{{0,2}}(?:ال|ل)?(?:{forms})(?!{_LETTERS})")


@lru_cache(maxsize=1)
def _english() -> dict[str, re.Pattern]:
    """``ENGLISH`` by normalised place, as whole-word patterns on lower-cased text."""
    return {arabic.normalize(p): re.compile(rf"(?<![a-z])(?:{names})(?![a-z])") for p, names in ENGLISH.items()}


@lru_cache(maxsize=1)
def _ordinals() -> re.Pattern:
    """An ordinal of ``ORDINALS`` in normalised text: with clitics, article, feminine or nisba ending; not the
    first word of a compound («السابع عشر», «الرابعة والثلاثين»: another number, often written «17», «الـ34»)."""
    tens = "(?:عشر|ثلاث|اربع|خمس|ست|سبع|ثمان|تسع)(?:ين|ون)"
    return re.compile(rf"(?<!{_LETTERS})[وفبلك]{{0,2}}(?:ال)?({'|'.join(ORDINALS)})(?:ه|ي)?(?!{_LETTERS})"
                      rf"(?!\s+(?:عشر|عشره)(?!{_LETTERS})|\s+(?:و\s*)?(?:ال)?{tens})")


@lru_cache(maxsize=16)
def _ordinal_elsewise(root: str) -> re.Pattern:
    """The same ordinal as «الـ7» (normalised «ال7») or in English («seventh»)."""
    digits, english = ORDINALS[root]
    return re.compile(rf"ال\s?{digits}(?![0-9])|(?<![a-z-]){english}(?![a-z])")


@lru_cache(maxsize=1)
def _offices() -> tuple[re.Pattern, re.Pattern]:
    """A minister or ministry and its (first) portfolio, in Arabic and in English («Minister of Justice», «justice
    minister»), on normalised text; group 1 or the English name is the portfolio."""
    arabic_office = re.compile(rf"(?<!{_LETTERS})[وفبلك]{{0,2}}(?:ال)?(?:وزير|وزيره|وزاره|وزراء)\s+ال({'|'.join(PORTFOLIOS)})"
                               rf"(?!{_LETTERS})")
    names = "|".join(dict.fromkeys(n for v in PORTFOLIOS.values() for n in v.split("|")))
    english = re.compile(rf"(?<![a-z])(?:ministers?|ministry) (?:of|for) (?:the )?({names})(?![a-z])|"
                         rf"(?<![a-z])({names}) (?:ministers?|ministry)(?![a-z])")
    return arabic_office, english


def offices(normalized_text: str) -> list[str]:
    """The ministries a normalised text names, as ``OFFICE`` + portfolio."""
    arabic_office, english = _offices()
    found = [m.group(1) for m in arabic_office.finditer(normalized_text)]
    for m in english.finditer(normalized_text):
        name = m.group(1) or m.group(2)
        found += [p for p, names in PORTFOLIOS.items() if re.fullmatch(names, name)][:1]
    return [OFFICE + p for p in dict.fromkeys(found)]


@lru_cache(maxsize=1)
def organizations() -> dict[str, str]:
    """``ORGANIZATIONS``' display names by normalised name."""
    return {arabic.normalize(name): name for name in ORGANIZATIONS}


@lru_cache(maxsize=1)
def _organization_patterns() -> dict[str, tuple[re.Pattern, re.Pattern]]:
    """``ORGANIZATIONS`` by normalised name: (its Arabic forms, its English names) as patterns on normalised text."""
    def core(name: str) -> str:
        norm = arabic.normalize(name)
        return norm.removeprefix("ال")

    return {arabic.normalize(name): (_with_clitics("|".join(re.escape(core(f)) for f in (name, *others))),
                                     re.compile(rf"(?<![a-z])(?:{english})(?![a-z])"))
            for name, (others, english) in ORGANIZATIONS.items()}


def mentions(place: str, normalized_text: str) -> bool:
    """Does a normalised text mention a ``named`` item: a (normalised) place of ``PLACES`` in Arabic or by its English
    name, an ordinal root of ``ORDINALS``, a ministry (``OFFICE`` + portfolio) or an organisation of ``ORGANIZATIONS``?"""
    if place.startswith(OFFICE):  # the portfolio anywhere, with the article: «العدل», «وزيراً للدفاع»
        portfolio = place[len(OFFICE):]
        return re.search(rf"(?<!{_LETTERS})[وفبلك]{{0,2}}(?:ال|ل){portfolio}(?!{_LETTERS})", normalized_text) is not None or \
            place in offices(normalized_text)
    if place in organizations():
        return any(p.search(normalized_text) is not None for p in _organization_patterns()[place])
    if place in ORDINALS:
        return any(m.group(1) == place for m in _ordinals().finditer(normalized_text)) or \
            _ordinal_elsewise(place).search(normalized_text) is not None
    if _pattern(place).search(normalized_text) is not None or \
            any(alias in normalized_text for alias in ALIASES.get(place, ())):
        return True
    english = _english().get(place)
    return english is not None and english.search(normalized_text) is not None


def numbers(normalized_text: str) -> set[str]:
    """Numbers of two or more digits, thousands separators dropped."""
    return {m.group().replace(",", "") for m in _NUMBER.finditer(normalized_text)}


def named(text: str) -> tuple[str, ...]:
    """The places (normalised), ordinal roots, ministries, organisations and numbers a question names, in a stable
    order. An organisation whose name holds another's (the UN in «مكتب الأمم المتحدة المعني…») names only itself."""
    norm = arabic.normalize(text)
    orgs = [o for o in organizations() if mentions(o, norm)]
    orgs = [o for o in orgs if not any(o != other and o in other for other in orgs)]
    found = [p for p in places() if mentions(p, norm)] + [o for o in ORDINALS if mentions(o, norm)] + offices(norm) + orgs
    return tuple(dict.fromkeys(found)) + tuple(sorted(numbers(norm)))


def _place_tokens(text: str) -> list[tuple[re.Match, str, str]]:
    """The words of ``text`` that are a place of ``PLACES`` by itself (not its nisba): (word, clitics, place)."""
    out = []
    for m in re.finditer(r"\w+", text):
        norm = arabic.normalize(m.group())
        for clitic in sorted(CLITICS, key=len, reverse=True):
            rest = norm[len(clitic):] if norm.startswith(clitic) else None
            if rest is None:
                continue
            # «للسعودية»: the clitic ل takes the article's alef (the longest clitic is tried first, so one ل is left)
            place = next((f for f in (rest, "ال" + rest[1:] if rest.startswith("ل") else "") if f in places()), None)
            if place:
                out.append((m, clitic, place))
                break
    return out


def _english_spans(text: str) -> list[tuple[int, int, str]]:
    lower = text.lower()
    return [(m.start(), m.end(), place) for place, pattern in _english().items() for m in pattern.finditer(lower)]


# what an elliptic follow-up may hold besides places: «وفي …؟», «وماذا عن …؟», «And in …?», «What about …?»
_ELLIPSIS = frozenset("في عن ماذا ما بالنسبه الي علي ل و ف and in about what for the how with of".split())


def _only_places(text: str) -> bool:
    """Is ``text`` a place (or two) and the words of an ellipsis only?"""
    lower = text.lower()
    for a, b, _ in sorted(_english_spans(text), reverse=True):
        lower = lower[:a] + " " + lower[b:]
    taken = {m.start() for m, _, _ in _place_tokens(lower)}
    rest = [m.group() for m in re.finditer(r"\w+", lower) if m.start() not in taken]
    return all(arabic.normalize(w) in _ELLIPSIS or arabic.normalize(w)[1:] in _ELLIPSIS and w[0] in "وف"
               for w in rest)


def swap_place(previous: str, follow_up: str) -> str | None:
    """An elliptic follow-up that names one other place («وفي عمان؟», «And in Oman?») asks the previous question
    about that place: the previous question with its one place replaced (same script), else ``None``."""
    if not _only_places(follow_up):
        return None
    new = [p for p in named(follow_up) if p in places()]
    old = [p for p in named(previous) if p in places() and p not in new]
    if len(new) != 1 or len(old) != 1:
        return None
    if arabic.script_of(previous) == "ar":
        tokens = [(m, clitic) for m, clitic, place in _place_tokens(previous) if place == old[0]]
        if len(tokens) != 1:
            return None
        (m, clitic), new_word = tokens[0], places()[new[0]]
        prefix = m.group()[: len(clitic)]
        if prefix.endswith("ل") and new_word.startswith("ال"):
            new_word = new_word[1:]  # ل + الإمارات → للإمارات
        return previous[: m.start()] + prefix + new_word + previous[m.end():]
    spans = [s for s in _english_spans(previous) if s[2] == old[0]]
    new_spans = [s for s in _english_spans(follow_up) if s[2] == new[0]]
    if len(spans) != 1 or not new_spans:
        return None
    a, b, _ = spans[0]
    return previous[:a] + follow_up[new_spans[0][0]:new_spans[0][1]] + previous[b:]


def is_place_adjective(word: str) -> bool:
    """Is the word a place's nisba adjective («الأوروبية», «الخليجية», «European»), not the place itself?"""
    found = named(word)
    return bool(found) and all(f in places() for f in found) and not _place_tokens(word)


def without_english_names(text: str) -> str:
    """``text`` with the English names of places and organisations blanked out: ``arabic_names`` already gives
    their Arabic («Saudi Arabia», «UNODC»), so nothing else needs to translate them word by word."""
    lower = text.lower()
    spans = [(m.start(), m.end()) for _, english in _organization_patterns().values() for m in english.finditer(lower)]
    spans += [(a, b) for a, b, _ in _english_spans(text)]
    for a, b in sorted(spans, reverse=True):
        text = text[:a] + " " * (b - a) + text[b:]
    return text


def arabic_names(items: tuple[str, ...]) -> tuple[str, ...]:
    """The Arabic display names of the places, ordinals and organisations among ``named`` items («capital of Iraq» →
    العراق, «IOM» → المنظمة الدولية للهجرة)."""
    display = _display_names()
    return tuple(display[p] for p in items if p in display)


@lru_cache(maxsize=1)
def _display_names() -> dict[str, str]:
    return places() | organizations() | {o: "ال" + o for o in ORDINALS}


@lru_cache(maxsize=64)
def _normalized(text: str) -> tuple[str, frozenset[str]]:
    """A text normalised, with its numbers: the same documents are asked about again and again."""
    norm = arabic.normalize(text)
    return norm, frozenset(numbers(norm))


def missing(items: tuple[str, ...], text: str) -> float:
    """Share of ``named`` items that a text does not mention (0 when nothing is named)."""
    if not items:
        return 0.0
    norm, held = _normalized(text)
    absent = sum(not (item in held if item.isdigit() else mentions(item, norm)) for item in items)
    return absent / len(items)
