from assistant import arabic


def test_normalize_folds_what_should_not_matter():
    assert arabic.normalize("أَطْفَالٌ") == "اطفال"  # diacritics, hamza forms
    assert arabic.normalize("إسلام آمن ٱلله") == "اسلام امن الله"
    assert arabic.normalize("مصطفى") == "مصطفي"  # alef maqsura
    assert arabic.normalize("المنظمة") == "المنظمه"  # teh marbuta
    assert arabic.normalize("الاتجـــار") == "الاتجار"  # tatweel
    assert arabic.normalize("٢٠٢٤ و۱۲") == "2024 و12"  # Arabic-Indic and Persian digits
    assert arabic.normalize("ﻻ") == "لا"  # NFKC presentation form


def test_terms_add_light_stems_for_arabic_only():
    terms = arabic.terms("والأطفال في Nador 2024")
    assert "والاطفال" in terms and "~اطفال" in terms
    assert "في" not in terms  # stopword
    assert "nador" in terms and "2024" in terms
    # clitics and articles fold to the same stem
    assert arabic.light_stem("بالمغرب") == arabic.light_stem("المغرب") == "مغرب"


def test_sentence_spans_know_arabic_punctuation_and_keep_offsets():
    text = "قال الوزير: الوضع صعب. هل من حل؟ نعم؛ هناك خطة!\nسطر جديد بلا نقطة"
    spans = list(arabic.sentence_spans(text))
    sentences = [text[a:b] for a, b in spans]
    assert sentences == ["قال الوزير: الوضع صعب.", "هل من حل؟", "نعم؛", "هناك خطة!", "سطر جديد بلا نقطة"]


def test_sentence_splitter_does_not_cut_decimal_numbers():
    assert arabic.split_sentences("بلغت النسبة 3.5 بالمئة. ثم ارتفعت.") == ["بلغت النسبة 3.5 بالمئة.", "ثم ارتفعت."]


def test_display_text_is_never_altered():
    text = "الأَطفالُ  ٢٠٢٤"
    assert [text[a:b] for a, b in arabic.sentence_spans(text)] == [text]


def test_script_detection():
    assert arabic.script_of("ما هي عاصمة المغرب؟") == "ar"
    assert arabic.script_of("Where did the campaign end?") == "latin"


def test_the_reader_reads_the_msa_form_of_a_dialect_question():
    from assistant.analysis import analyse

    analysis = analyse("وين عقدت الفعالية الجانبية؟")
    assert analysis.reader_question == "أين عقدت الفعالية الجانبية؟" and analysis.kind == "place"
    assert analysis.question == "وين عقدت الفعالية الجانبية؟"  # shown and searched as asked
    follow = analyse("وقديش عدد المشاركين فيها؟", [("وين عقدت الفعالية الجانبية؟", "في فيينا [1]")])
    assert follow.reader_question == "كم عدد المشاركين فيها؟ عقدت الفعالية الجانبية"


def test_an_english_question_also_searches_and_reads_the_arabic_names_of_the_places_it_names():
    from assistant.analysis import analyse

    english = analyse("What support did the UN office give the United Arab Emirates and Oman?")
    assert english.language == "latin" and english.named == ("الامارات", "عمان")
    assert english.query.endswith(" الإمارات عمان") and english.reader_question.endswith(" (الإمارات عمان)")
    assert english.question == "What support did the UN office give the United Arab Emirates and Oman?"  # shown as asked
    plain_engine = english.without_hint()  # the sentence engine searches the question's own words
    assert plain_engine.query == plain_engine.reader_question == english.question and plain_engine.named == english.named
    plain = analyse("What support did the UN office give the region?")
    assert plain.query == plain.reader_question == plain.question  # nothing named: nothing added
    arabic_question = analyse("ما الدعم الذي قدمه المكتب لعمان؟")
    assert arabic_question.named == ("عمان",) and arabic_question.query == arabic_question.question
    # a follow-up keeps its completed query, then the hint
    follow = analyse("And in Egypt?", [("How many victims were there?", "ثلاثون ضحية [1]")])
    assert follow.follow_up and follow.query.startswith("How many victims") and follow.query.endswith(" مصر")
