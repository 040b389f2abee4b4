"""Dialect questions in MSA (``dialect.msa_question``): what the reader and the question type read."""

import pytest

from assistant.analysis import analyse, question_type
from assistant.dialect import msa_question


def test_dialect_question_words_become_msa_and_the_rest_stays_as_written():
    assert msa_question("فين تختمت الحملة الوطنية ديال التوعية؟") == "أين تختمت الحملة الوطنية التوعية؟"
    assert msa_question("قديش كانت نسبة ضحايا العمل القسري؟") == "كم كانت نسبة ضحايا العمل القسري؟"
    assert msa_question("شنو اسم المنصة اللي قدمتها المنظمة؟") == "ما اسم المنصة التي قدمتها المنظمة؟"
    assert msa_question("إيمتى انعقد المؤتمر؟") == "متى انعقد المؤتمر؟"  # hamza and alef maqsura variants
    assert msa_question("شلون تتم حماية الضحايا؟") == "كيف تتم حماية الضحايا؟"  # Gulf / Iraqi
    assert msa_question("شكد عدد الضحايا؟") == "كم عدد الضحايا؟"
    assert msa_question("اشنو هي التوصيات؟") == "ما هي التوصيات؟"  # Moroccan
    assert msa_question("وقديش عدد الضحايا؟") == "وكم عدد الضحايا؟"  # the conjunction stays
    assert msa_question("لأشمن قبيلة كان ينتمي عمر المختار؟") == "لأي قبيلة كان ينتمي عمر المختار؟"
    assert msa_question("في انهي سنة اتولد؟") == "في أي سنة ولد؟"  # Egyptian «انهي», «اتولد»
    assert msa_question("المساحة قد إيه؟") == "كم المساحة؟"  # two-word «قد إيه», then moved first


def test_the_egyptian_ayh_is_told_from_aya_as_typed():
    assert msa_question("الفيلم ده إيه؟") == "ما الفيلم؟"
    assert msa_question("في أي آية ذكر ذلك؟") == "في أي آية ذكر ذلك؟"  # «آية» normalises like «ايه»


@pytest.mark.parametrize("dialect, msa", [
    ("الأسود بتعيش فين؟", "أين الأسود تعيش؟"),  # Levantine / Egyptian b- prefix, question word last
    ("علاش كيتسمى هاد التقويم بهالاسم؟", "لماذا يتسمى هذا التقويم بهذا الاسم؟"),  # Maghrebi k-, «بهال»
    ("شحال من طفل كاين فالمغرب؟", "كم من طفل يوجد في المغرب؟"),  # «فال»: «في ال»
    ("بشار الأسد اتولد إمتى؟", "متى بشار الأسد ولد؟"),
    ("اللبوات بتعيش عادةً كام سنة؟", "كم سنة اللبوات تعيش عادةً؟"),  # «كم» with its noun
])
def test_dialect_verb_prefixes_and_word_order(dialect, msa):
    assert msa_question(dialect) == msa


def test_names_and_msa_words_that_look_prefixed_are_kept():
    # «بيروت» is a place, «بين» and «كتاب» are MSA; «شو» after an MSA question word is a name
    assert msa_question("شو بيصير بين بيروت وكندا؟") == "ما يصير بين بيروت وكندا؟"
    assert msa_question("شنو الكتاب اللي كتبه؟") == "ما الكتاب التي كتبه؟"
    assert msa_question("لماذا ظهرت في برنامج أوبرا وينفري شو؟") == "لماذا ظهرت في برنامج أوبرا وينفري شو؟"


@pytest.mark.parametrize("dialect, msa", [
    # a verb that starts like an MSA word is still a verb: «بين…», «بيت…», «بيع…», «بيل…», «كيف…», «كتب…»
    ("مين بينظم دوري رابطة ابطال افريقيا؟", "من ينظم دوري رابطة ابطال افريقيا؟"),
    ("الصوفيين بيتنسبوا لمين؟", "لمن الصوفيين يتنسبوا؟"),
    ("شو بيعني الاختصار؟", "ما يعني الاختصار؟"),
    ("وين بيلعب ميسي؟", "أين يلعب ميسي؟"),
    ("كيفاش كيفرق القانون بين الضحية والمتهم؟", "كيف يفرق القانون بين الضحية والمتهم؟"),
    ("علاش كتبعد الشمس فالصيف؟", "لماذا تبعد الشمس في الصيف؟"),
    ("متلازمة داون بشو بتتميز؟", "متلازمة داون بماذا تتميز؟"),  # a form-V verb, not a verbal noun
    # the MSA word itself, with its suffixes, a name, a preposition before a verbal noun, «بيهم» (with them)
    ("شو بيتهم اللي بيسكنوا فيه؟", "ما بيتهم التي يسكنوا فيه؟"),
    ("مين كتبوا التقرير؟", "من كتبوا التقرير؟"),
    ("بيتكوين شو اسمها بالانجليزي؟", "بيتكوين ما اسمها بالانجليزي؟"),
    ("مين اللي قام بتأسيس الدولة؟", "من الذي قام بتأسيس الدولة؟"),
    ("شنو السميات لي كتسمى بيهم الغزوة؟", "ما السميات التي تسمى بيهم الغزوة؟"),
])
def test_verb_prefixes_are_told_from_msa_words_that_start_the_same(dialect, msa):
    assert msa_question(dialect) == msa


@pytest.mark.parametrize("text", [
    "متى عُقد المؤتمر إلى جانب الدورة؟", "Where was it held?", "من هو وزير العدل؟", "قل لي ما هي عاصمة لبنان؟",
    "ماذا يعني اسم النمسا في لغته الأصلية؟", "من أين يأتي معظم ضحايا العمل القسري؟", "بيروت عاصمة أي دولة؟",
    "كيف تتم حماية الضحايا؟", "",
])
def test_msa_and_english_questions_come_back_unchanged(text):
    assert msa_question(text) == text


def test_the_reader_and_the_question_type_read_the_msa_form():
    a = analyse("الأسود بتعيش فين؟")
    assert a.reader_question == "أين الأسود تعيش؟" and a.question == "الأسود بتعيش فين؟"
    assert a.kind == "place" and question_type("المؤتمر اتعمل إمتى؟") == "date"
    assert question_type("في انهي سنة اتولد؟") == "date" and question_type("قد إيه عدد الضحايا؟") == "number"


def test_a_dialect_question_is_searched_as_asked_and_in_msa_and_judged_in_msa():
    a = analyse("الأسود بتعيش فين؟")
    assert a.query == "الأسود بتعيش فين؟" and a.also_search == ("أين الأسود تعيش؟",)
    assert a.asked == "أين الأسود تعيش؟"  # «بتعيش», «فين» are in no document: not unknown question words
    msa = analyse("أين تعيش الأسود؟")
    assert msa.also_search == () and msa.asked == msa.query == msa.question


def test_a_dialect_follow_up_of_its_own_is_searched_as_typed_and_in_msa(fake_assistant):
    """A follow-up that changes topic is searched as asked, not completed from the last turn; typed in dialect, its
    MSA form is searched beside it, as a dialect question asked alone is."""
    previous = ("كم عدد المشاركين في الحملة الوطنية؟", "240 [1]")
    question = "وشكون اللي افتتح اليوم التواصلي فالرباط؟"
    a = analyse(question, [previous])
    assert a.follow_up and a.query == question
    assert a.also_search == (a.reader_question,) and "من" in a.reader_question.split()
    assert fake_assistant.retrieve(a)[0].chunk.source.startswith("003_")
    # in MSA nothing more is searched; a short follow-up naming something new is searched in its MSA form
    assert analyse("ومن افتتح اليوم التواصلي في الرباط؟", [previous]).also_search == ()
    assert analyse("وشكون آمي بوب؟", [previous]).also_search == ("ومن آمي بوب؟",)


def test_a_topic_put_first_keeps_its_and_after_the_question_word_moves_to_the_front():
    assert msa_question("والهند فيها كام إقليم؟") == "وكم إقليم الهند فيها؟"
    assert msa_question("والصوفية بتاخد أصولها منين؟") == "ومن أين الصوفية تاخد أصولها؟"
    assert msa_question("وسوريا اتأسست إمتى؟") == "ومتى سوريا تأسست؟"  # a known place
    assert msa_question("والده اتولد إمتى؟") == "متى والده ولد؟"  # «والد» is a word
    assert msa_question("بشار الأسد اتولد إمتى؟") == "متى بشار الأسد ولد؟"


def test_year_how_many_asks_which_year():
    """Egyptian «سنة كام» («year how-many») asks for a date, not a count."""
    assert msa_question("سوريا خدت استقلالها سنة كام؟") == "في أي سنة سوريا أخذت استقلالها؟"
    assert msa_question("في سنة كام اتأسست الشركة؟") == "في أي سنة تأسست الشركة؟"
    assert question_type("الحرب خلصت عام كام؟") == "date" and question_type("اللبوات بتعيش كام سنة؟") == "number"
