"""The reader stage: span → short answer + verbatim quote, refusal by evidence, fallback, UI and eval wiring.

Fast tests use ``ScriptedReader`` (a fake with the real ``read`` interface); the real trained reader is
exercised in ``test_reader_real.py``.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from assistant import metrics
from assistant import ui_render as ui
from assistant.analysis import analyse, has_content, is_list_question
from assistant.eval_io import load_squad
from assistant.fakes import ScriptedReader
from assistant.pipeline import DEFAULT_LATIN_THRESHOLD, Assistant, QuestionError
from assistant.reader import ReaderConfig, Window, best_spans
from assistant.reading import balanced, supporting_quote

Q_YEARS = "كم سنة امتدت الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد؟"
Q_COORD = "من هو المنسق المقيم ومنسق الشؤون الإنسانية في العراق؟"


@pytest.fixture
def reader_assistant(settings, fake_embedder):
    script = ScriptedReader({"امتدت الدراسة": "عشرين عامًا", "المنسق المقيم": "غلام محمد إسحق زى"})
    assistant = Assistant(settings.with_(answer_mode="reader"), embedder=fake_embedder, reader=script)
    assistant.ingest(progress=False)
    return assistant, script


def test_short_answer_is_exact_document_text_inside_its_quote(reader_assistant):
    assistant, _ = reader_assistant
    answer = assistant.ask(Q_YEARS)
    short = answer.short_answer
    assert not answer.refused and answer.mode == "reader"
    doc = assistant.index.document_text(short.source)
    assert short.text == "عشرين عامًا" == doc[short.start : short.end]
    cite = answer.citations[0]
    assert cite.n == short.n == 1 and cite.source == short.source
    assert cite.start <= short.start < short.end <= cite.end and doc[cite.start : cite.end] == cite.quote
    assert answer.answer.startswith(f"{short.text} [1]\n") and answer.answer.endswith(f"{cite.quote} [1]")
    data = answer.to_dict()
    assert data["short_answer"] == {"text": short.text, "n": 1, "source": short.source, "start": short.start, "end": short.end}
    # the metrics judge the short answer for EM/F1 and the whole answer for containment
    assert metrics.citation_validity(data["citations"], assistant.index.document_text)
    recall, precision = metrics.citation_recall_precision(data["answer"], data["citations"])
    assert recall == 1.0 and precision == 1.0


def test_no_span_with_positive_evidence_is_a_refusal_with_empty_short_answer(reader_assistant):
    assistant, _ = reader_assistant
    answer = assistant.ask("ما هي عاصمة أستراليا؟")
    assert answer.refused and answer.citations == () and answer.to_dict()["short_answer"]["text"] == ""
    assert answer.answer == assistant.text("refusal")


def test_threshold_from_settings_decides_refusal(reader_assistant):
    assistant, _ = reader_assistant
    assert not assistant.ask(Q_COORD).refused
    strict = Assistant(assistant.settings.with_(reader_threshold=50.0), embedder=assistant.embedder,
                       reader=assistant.reader.reader)
    assert strict.ask(Q_COORD).refused


def test_follow_up_feeds_the_reader_the_completed_question(reader_assistant):
    assistant, script = reader_assistant
    first = "ما الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد؟"
    assistant.ask("وكم سنة امتدت؟", history=[(first, "دراسة عن الهجرة")])
    assert script.questions[-1] == "كم سنة امتدت؟ الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد"
    assert analyse("وكم سنة امتدت؟", [(first, "x")]).follow_up


def test_missing_weights_fall_back_to_the_sentence_engine_with_a_notice(settings, fake_embedder, tmp_path):
    assistant = Assistant(settings.with_(answer_mode="reader", reader_dir=tmp_path / "nothing"), embedder=fake_embedder)
    assistant.ingest(progress=False)
    answer = assistant.ask(Q_YEARS)
    assert answer.mode == "extractive" and "train-reader" in answer.notice and "عشرين" in answer.answer
    assert "nothing" in assistant.reader_error


@pytest.mark.parametrize("question", ["؟؟؟!!!", "🙂🙂", "\u200b", "...", "\u202e\u202c"])
def test_content_free_questions_get_a_clear_message(reader_assistant, question):
    assistant, _ = reader_assistant
    assert not has_content(question)
    with pytest.raises(QuestionError, match="لا يحتوي على كلمات"):
        assistant.ask(question)


def test_best_spans_uses_null_score_and_respects_order_and_length():
    offsets = (None, None, None, (0, 4), (5, 9), (10, 14), None)
    window = Window(0, tuple(range(7)), offsets)
    start = np.array([5.0, 0, 0, 1.0, 4.0, 0.0, 9.0])  # token 6 is not passage text: never a span
    end = np.array([1.0, 0, 0, 0.0, 0.5, 3.0, 9.0])
    spans = best_spans(start, end, window, max_answer_tokens=3)
    best = spans[0]
    assert (best.start, best.end) == (5, 14) and best.score == pytest.approx(7.0) and best.null == pytest.approx(6.0)
    assert best.evidence == pytest.approx(1.0)
    assert all(s.end > s.start for s in spans)
    assert best_spans(start, end, window, max_answer_tokens=1)[0].end - best_spans(start, end, window, 1)[0].start == 4


def test_spans_stay_on_one_line_when_lines_are_given():
    from assistant.reader import token_lines

    text = "عنوان الخبر 2024\nالعراق، 30 يوليو 2024"  # a headline and a dateline
    offsets = (None, *((m.start(), m.end()) for m in re.finditer(r"\S+", text)))
    window = Window(0, tuple(range(8)), offsets)
    lines = token_lines(window, [i for i, ch in enumerate(text) if ch == "\n"])
    assert lines == (-1, 0, 0, 0, 1, 1, 1, 1)
    assert token_lines(window, []) is None  # one line: nothing to keep apart
    start = np.array([0.0, 0, 0, 6.0, 0, 0, 0, 1.0])  # the reader's best run starts on the headline's «2024» ...
    end = np.array([0.0, 0, 0, 1.0, 0, 0, 0, 6.0])  # ... and ends on the dateline's
    across = best_spans(start, end, window, max_answer_tokens=10, top=1)[0]
    assert text[across.start : across.end] == "2024\nالعراق، 30 يوليو 2024"
    kept = best_spans(start, end, window, max_answer_tokens=10, top=3, lines=lines)
    assert {text[s.start : s.end] for s in kept[:2]} == {"2024"} and all("\n" not in text[s.start : s.end] for s in kept)


def test_the_answerer_keeps_spans_to_one_line_except_for_list_questions():
    from assistant.reading import ReaderAnswerer
    from assistant.types import Chunk, Hit

    text = "المنظمات المشاركة:\n- المنظمة الدولية للهجرة\n- مفوضية اللاجئين"
    hits = [Hit(Chunk("d#0", "d", 0, len(text), text), 1.0, dense_rank=1, lexical_rank=1)]
    reader = ScriptedReader({"المنظمات": "المنظمة الدولية للهجرة"})
    answerer = ReaderAnswerer(reader)
    answerer.candidates(analyse("من نظم الحملة مع المنظمات؟"), hits, {"d": text})
    answerer.candidates(analyse("ما المنظمات المشاركة؟"), hits, {"d": text})
    assert reader.one_line == [True, False]


def test_supporting_quote_covers_the_span_and_cuts_long_sentences_at_words():
    text = "مقدمة قصيرة. " + "كلمة " * 200 + "الجواب هنا " + "كلمة " * 200 + ". خاتمة."
    a = text.index("الجواب")
    b = a + len("الجواب هنا")
    qa, qb = supporting_quote(text, a, b, limit=120)
    assert qa <= a and b <= qb and qb - qa <= 120
    assert text[qa - 1] == " " and text[qb] == " "  # whole words
    short_text = "الجملة الأولى. الجواب في الجملة الثانية. الثالثة."
    x = short_text.index("الجواب")
    assert short_text[slice(*supporting_quote(short_text, x, x + 6))] == "الجواب في الجملة الثانية."


def test_a_cut_quote_shows_where_it_was_cut_and_stays_verbatim():
    from assistant.reading import elided

    text = "مقدمة قصيرة. " + "كلمة " * 100 + "الجواب هنا " + "كلمة " * 100 + "نهاية. خاتمة."
    a = text.index("الجواب")
    qa, qb = supporting_quote(text, a, a + len("الجواب هنا"), limit=120)
    shown = elided(text, qa, qb)
    assert shown == f"…{text[qa:qb]}…"  # cut on both sides: marked outside the verbatim quote
    first = text.index(".") + 1
    assert elided(text, 0, first) == text[:first]  # a whole sentence: nothing added
    end = text.index("نهاية.") + len("نهاية.")
    assert elided(text, qa, end) == f"…{text[qa:end]}"  # cut before only
    last = text.rindex("خاتمة")
    assert elided(text, last, len(text)) == "خاتمة."


def test_list_questions_are_recognised():
    assert is_list_question("ما مكونات البرنامج؟") and is_list_question("ما المدن التي زارتها القافلة؟")
    assert is_list_question("What are the goals of the campaign?")
    assert not is_list_question("كم عدد المشاركين؟")
    assert ReaderConfig().max_answer_tokens < 80  # lists get the longer limit (ReaderAnswerer.list_answer_tokens)


def test_squad_v2_impossible_questions_are_expected_refusals(tmp_path):
    data = {"data": [{"title": "T", "paragraphs": [{"context": "Paris is in France.", "qas": [
        {"id": "1", "question": "Where is Paris?", "answers": [{"text": "France", "answer_start": 12}], "is_impossible": False},
        {"id": "2", "question": "Where is Lyon?", "answers": [], "plausible_answers": [{"text": "France", "answer_start": 12}],
         "is_impossible": True}]}]}]}
    path = tmp_path / "v2.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    docs, rows, errors = load_squad(path)
    assert not errors and [r.answerable for r in rows] == [True, False] and rows[1].expected_answers == ()


def test_em_and_f1_use_the_short_answer_containment_the_whole_answer():
    from assistant.eval_io import EvalRow

    row = EvalRow(id="x", question="q", expected_answers=("عشرين عامًا",))
    result = {"answer": "عشرين عامًا [1]\nامتدت على مدى عشرين عامًا، أظهرت [1]", "refused": False, "citations": [],
              "passages": [], "short_answer": {"text": "عشرين عامًا", "n": 1, "source": "s", "start": 0, "end": 11}}
    ev = metrics.score_row(row, result, lambda s: None, 5)
    assert ev["exact_match"] == 1.0 and ev["f1"] == 1.0 and ev["contained"] == 1.0
    result["short_answer"]["text"] = "مدى عشرين"
    ev = metrics.score_row(row, result, lambda s: None, 5)
    assert ev["exact_match"] == 0.0 and 0 < ev["f1"] < 1 and ev["contained"] == 1.0


def test_ui_shows_short_answer_bold_and_viewer_marks_it_inside_the_sentence(reader_assistant):
    assistant, _ = reader_assistant
    data = assistant.ask(Q_YEARS).to_dict()
    html = ui.render_answer(data)
    assert '<div class="short-answer"><strong>' in html and "عشرين عامًا" in html
    s = data["short_answer"]
    c = data["citations"][0]
    ref = ui.cite_ref(c["chunk_id"], c["start"], c["end"], (s["start"], s["end"]))
    assert f'data-cite="{ui.esc(ref)}"' in html
    assert ui.parse_cite_ref(ref) == (c["chunk_id"], c["start"], c["end"]) and ui.answer_span_of(ref) == (s["start"], s["end"])
    doc = assistant.index.document_text(c["source"])
    viewer = ui.render_viewer("t", c["source"], doc, (c["start"], c["end"]), answer=ui.answer_span_of(ref))
    mark = viewer[viewer.index('<mark class="hl">') : viewer.index("</mark>")]
    assert '<strong class="answer-span">عشرين عامًا</strong>' in mark


def test_user_bubble_isolates_its_direction():
    html = ui.render_turn({"question": "Who is the Moroccan Minister of Justice?", "partial": ""})
    assert 'dir="auto"' in html and "<bdi>Who is the Moroccan Minister of Justice?</bdi>" in html


def test_passages_merge_overlapping_chunks_of_one_document_in_rank_order():
    from assistant.reading import passages_of
    from assistant.types import Chunk, Hit

    def hit(source, start, end):
        return Hit(Chunk(f"{source}#{start}", source, start, end, "x" * (end - start)), 1.0)

    hits = [hit("a", 500, 1100), hit("b", 0, 600), hit("a", 0, 600), hit("a", 2000, 2600), hit("a", 1000, 1600)]
    passages = passages_of(hits)
    assert [(p.source, p.start, p.end, p.rank) for p in passages] == [("a", 0, 1600, 0), ("b", 0, 600, 1), ("a", 2000, 2600, 3)]
    assert [h.chunk.start for h in passages[0].hits] == [500, 0, 1000]
    # a later chunk bridging two earlier passages of one document joins them
    bridged = passages_of([hit("a", 0, 600), hit("a", 1000, 1600), hit("a", 500, 1100)])
    assert [(p.start, p.end) for p in bridged] == [(0, 1600)] and len(bridged[0].hits) == 3


def test_a_follow_up_is_read_first_with_the_previous_question_as_its_topic():
    history = [("من نظم اليوم التواصلي في الرباط؟", "نظمته اللجنة الوطنية.")]
    a = analyse("وما كان شعاره؟", history)
    # one question, without the leading «و» (the reader was trained on questions that start with their question word)
    assert a.follow_up and a.reader_question == "ما كان شعاره؟ نظم اليوم التواصلي في الرباط"
    assert a.query.startswith("من نظم اليوم التواصلي")  # retrieval still searches with the whole last turn
    # answerability judges what is asked, not the last answer's words
    assert a.asked == a.reader_question and "اللجنة" not in a.asked and "اللجنة" in a.query


@pytest.mark.parametrize("question, previous, expected", [
    # the asked category of the last question («في أي دورة») is not the topic of the next one
    ("وأين عقدت؟", "في أي دورة للجنة منع الجريمة عقدت الفعالية الجانبية؟", "أين عقدت؟ للجنة منع الجريمة عقدت الفعالية الجانبية"),
    # dialect in MSA
    ("وإمتى؟", "وين انعقد المؤتمر العالمي السادس؟", "متى؟ انعقد المؤتمر العالمي السادس"),
    ("And when?", "Where was the sixth global conference held?", "when? sixth global conference held"),
    ("وفي أي عام؟", "من أطلق المنصة؟", "في أي عام؟ أطلق المنصة"),
    ("وفي أي سنة صدر؟", "ما رقم قانون مكافحة الاتجار؟", "في أي سنة صدر؟ رقم قانون مكافحة الاتجار"),  # «وفي» is no content word
    ("What was its slogan?", "Who organized the day in Rabat?", "What was its slogan? organized day in Rabat"),
    # a follow-up that is a question of its own is read alone
    ("وما عدد ضحايا الاتجار في العراق؟", "من أطلق المنصة؟", "ما عدد ضحايا الاتجار في العراق؟"),
    # three content words and the last a verb whose subject or object the conversation holds
    ("ومع أي منظمات أممية نُظّمت؟", "متى بدأت الحملة الوطنية؟", "مع أي منظمات أممية نُظّمت؟ بدأت الحملة الوطنية"),
    ("وكم عدد الدول التي شاركت؟", "أين عقد المؤتمر العالمي السادس؟", "كم عدد الدول التي شاركت؟ عقد المؤتمر العالمي السادس"),
    # … not when the last word is a plural, a place or a noun in «ت», nor when the question names more
    ("وكم عدد المنظمات الأممية المشاركات؟", "من أطلق المنصة؟", "كم عدد المنظمات الأممية المشاركات؟"),
    ("ومتى عقد المؤتمر في بيروت؟", "من أطلق المنصة؟", "متى عقد المؤتمر في بيروت؟"),
    ("ومتى زار الرئيس عُمان؟", "من أطلق المنصة؟", "متى زار الرئيس عُمان؟"),  # a place marked like a passive
    ("ومن يملك أكبر بيت؟", "من أطلق المنصة؟", "من يملك أكبر بيت؟"),
    ("ومتى أطلقت المنظمة الحملة الوطنية؟", "من أطلق المنصة؟", "متى أطلقت المنظمة الحملة الوطنية؟"),
])
def test_follow_up_question_drops_the_conjunction_and_adds_the_topic_only_when_elliptic(question, previous, expected):
    from assistant.analysis import follow_up_question

    assert follow_up_question(question, previous) == expected


def test_short_answer_of_reads_only_answers_that_have_one():
    from assistant.analysis import short_answer_of

    assert short_answer_of("آمي بوب [1]\nقالت المديرة العامة آمي بوب إن … [1]") == "آمي بوب"
    assert short_answer_of("قالت المديرة العامة آمي بوب إن … [1]") == ""  # the quote alone: no short answer
    assert short_answer_of("لا تتضمن الوثائق إجابة عن هذا السؤال.") == ""
    assert short_answer_of("") == ""


@pytest.mark.parametrize("top, expected", [("عشرين عامًا", "جامعة هارفارد"), ("عشرين", "عشرين")])
def test_a_follow_up_is_not_answered_with_the_last_short_answer(settings, fake_embedder, top, expected):
    """«وشو قالت في رسالتها؟» after «مين المديرة العامة؟» must not answer «آمي بوب» again: a span that repeats the
    whole last short answer is skipped and the passage's next span answers; a part of it may answer («وفي أي سنة
    صدر؟» after «28 لعام 2012»)."""
    from assistant.reader import Span

    class Spans(ScriptedReader):
        def __init__(self, texts):
            super().__init__({})
            self.texts = texts

        def read(self, question, passages, max_answer_tokens=None, per_sentence=False, one_line=False):
            self.questions.append(question)
            out = []
            for i, p in enumerate(passages):
                for text, ev in self.texts:
                    if (at := p.find(text)) >= 0:
                        out.append(Span(i, at, at + len(text), ev - i, 0.0))
            return sorted(out, key=lambda s: -s.evidence)

    reader = Spans([("عشرين عامًا", 9.0), ("جامعة هارفارد", 5.0)])
    assistant = Assistant(settings.with_(answer_mode="reader"), embedder=fake_embedder, reader=reader)
    assistant.ingest(progress=False)
    first = assistant.ask(Q_YEARS)
    assert first.short_answer.text == "عشرين عامًا"
    reader.texts = [(top, 9.0), ("جامعة هارفارد", 5.0)]
    follow = assistant.ask("ومع من أجريت؟", history=[(Q_YEARS, first.answer)])
    assert follow.short_answer.text == expected


def test_reader_reads_unmarked_text_and_maps_spans_back_to_the_marked_original():
    from assistant.arabic import marked_span, unmarked

    text = "تعزيز قدرات دور الإيواء في عُمان والقُصوى."
    clean, kept = unmarked(text)
    assert clean == "تعزيز قدرات دور الإيواء في عمان والقصوى."
    a = clean.index("عمان")
    start, end = marked_span(text, kept, a, a + len("عمان"))
    assert text[start:end] == "عُمان"
    a = clean.index("والقصوى")
    start, end = marked_span(text, kept, a, a + len("والقصوى"))
    assert text[start:end] == "والقُصوى"
    assert unmarked("بلا تشكيل") == ("بلا تشكيل", None)
    assert marked_span("بلا تشكيل", None, 0, 3) == (0, 3)


def test_sentence_best_spans_offers_the_best_span_of_each_sentence():
    from assistant.reader import sentence_best_spans

    # passage «aaaa bbbb. cccc dddd» — the second sentence starts at character 11
    offsets = (None, None, (0, 4), (5, 10), (11, 15), (16, 20), None)
    window = Window(0, tuple(range(7)), offsets)
    start = np.array([0.0, 0, 6.0, 0.0, 2.0, 0.0, 0])
    end = np.array([0.0, 0, 0.0, 5.0, 0.0, 1.0, 0])
    overall = best_spans(start, end, window, max_answer_tokens=10, top=1)
    assert [(s.start, s.end) for s in overall] == [(0, 10)]
    per = sorted(sentence_best_spans(start, end, window, 10, [0, 11]), key=lambda s: s.start)
    assert [(s.start, s.end) for s in per] == [(0, 10), (11, 20)] and per[1].score == pytest.approx(3.0)


def test_consensus_span_takes_the_span_the_readers_top_spans_agree_on_with_the_best_evidence():
    from assistant.reader import Span, consensus_span

    text = "بلغ عدد المشاركين 750 مشاركاً من 40 دولة"

    def span(words: str, score: float) -> Span:
        a = text.index(words)
        return Span(0, a, a + len(words), score, 1.0)

    top = span("40 دولة", 4.0)
    others = [span("750 مشاركاً", 3.9), span("750", 3.8), span("750 مشاركاً من 40 دولة", 3.7)]
    spans = [top, *others]
    chosen = consensus_span(spans, [text[s.start : s.end] for s in spans])
    # the long span shares words with every other: highest expected F1; the top span's evidence is kept
    assert text[chosen.start : chosen.end] == "750 مشاركاً من 40 دولة"
    assert (chosen.score, chosen.null, chosen.evidence) == (top.score, top.null, top.evidence)
    # a top span far more likely than the rest stays; one span is its own consensus
    sure = [span("40 دولة", 14.0), *others]
    assert consensus_span(sure, [text[s.start : s.end] for s in sure]) == sure[0]
    assert consensus_span([others[0]], ["750 مشاركاً"]) == others[0]


def test_with_consensus_moves_only_each_passages_best_span():
    from assistant.reader import Span, with_consensus

    texts = ["في عام 2019 في الرياض", "بلغ عددهم 750 مشاركاً"]

    def span(passage: int, words: str, score: float) -> Span:
        a = texts[passage].index(words)
        return Span(passage, a, a + len(words), score, 1.0)

    best0, other0 = span(0, "الرياض", 5.0), span(0, "عام 2019", 4.9)
    best1 = span(1, "750", 3.0)
    duplicate = span(0, "عام 2019", 4.0)  # again, from an overlapping window: the better score counts
    pool = [best0, other0, duplicate, span(0, "2019", 4.9), span(0, "في عام 2019", 4.9), best1]
    out = with_consensus([best0, other0, best1], pool, texts, top=20)
    assert out[1:] == [other0, best1]  # not a passage's best, or its only span: unchanged
    assert texts[0][out[0].start : out[0].end] == "عام 2019" and out[0].evidence == best0.evidence
    assert with_consensus([best0, other0, best1], pool, texts, top=1) == [best0, other0, best1]


class TwoSentenceReader:
    """A fake reader: the best span in the first sentence, a weaker one in the second (with ``per_sentence``)."""

    def read(self, question, passages, max_answer_tokens=None, per_sentence=False, one_line=False):
        from assistant.reader import Span

        spans = []
        for i, p in enumerate(passages):
            first = p.find("بلغ ") + 4  # the figure after «بلغ»: not a word of the question
            spans.append(Span(i, first, first + 5, 8.0, 1.0))
            second = p.find("بلغ ", p.find(". ") + 2) + 4
            if per_sentence and second > first:
                spans.append(Span(i, second, second + 5, 5.0, 1.0))
        return sorted(spans, key=lambda s: -s.evidence)


def test_each_passage_offers_its_best_span_and_the_best_of_its_other_sentences():
    from assistant.reading import ReaderAnswerer
    from assistant.types import Chunk, Hit

    text = "نمو الاقتصاد في السعودية بلغ ثلاثة بالمئة. نمو الاقتصاد في الإمارات بلغ أربعة بالمئة."
    hits = [Hit(Chunk("d#0", "d", 0, len(text), text), 1.0, dense_rank=1, lexical_rank=1)]
    analysis = analyse("كم بلغ نمو الاقتصاد في الإمارات؟")
    one = ReaderAnswerer(TwoSentenceReader()).candidates(analysis, hits, {"d": text})
    assert len(one) == 1 and one[0].sentence_gap == 0.0
    two = ReaderAnswerer(TwoSentenceReader(), sentences=3).candidates(analysis, hits, {"d": text})
    assert [text[c.quote_start : c.quote_end].split()[3] for c in two] == ["السعودية", "الإمارات"]
    assert two[0].sentence_gap == 0.0 and two[1].sentence_gap == pytest.approx(-3.0)
    assert two[1].quote_end <= len(text) and two[0].quote_end <= two[1].quote_start  # distinct sentences


def test_a_span_that_only_repeats_the_question_is_never_the_answer(settings, fake_embedder):
    """«العراق» for «… في العراق؟» points back at the question: the passage offers nothing rather than that."""
    script = ScriptedReader({"المنسق المقيم": "العراق"})
    assistant = Assistant(settings.with_(answer_mode="reader"), embedder=fake_embedder, reader=script)
    assistant.ingest(progress=False)
    answer = assistant.ask(Q_COORD)
    assert answer.short_answer.text != "العراق"
    assert answer.refused  # the scripted reader offers nothing else with positive evidence
    kept = Assistant(settings.with_(answer_mode="reader"), embedder=fake_embedder,
                     reader=ScriptedReader({"المنسق المقيم": "غلام محمد إسحق زى"}))
    assert kept.ask(Q_COORD).short_answer.text == "غلام محمد إسحق زى"  # a name the question does not hold stays


def test_a_span_that_only_names_again_what_the_question_names_is_never_the_answer():
    """«IOM» for «… مع من أنشأت المنظمة الدولية للهجرة فريق العمل؟» is the asker itself, under another name."""
    from assistant.fakes import ScriptedReader
    from assistant.reading import ReaderAnswerer
    from assistant.types import Chunk, Hit

    text = "في عام 2022، أنشأت المنظمة الدولية للهجرة (IOM) ومكتب الأمم المتحدة (UNODC) فريق عمل في العراق."
    hits = [Hit(Chunk("d#0", "d", 0, len(text), text), 1.0, dense_rank=1, lexical_rank=1)]
    question = "مع من أنشأت المنظمة الدولية للهجرة فريق العمل في العراق؟"

    def spans_of(answer: str) -> list[str]:
        found = ReaderAnswerer(ScriptedReader({"فريق العمل": answer})).candidates(analyse(question), hits, {"d": text})
        return [text[c.start : c.end] for c in found if c.evidence > 0]

    assert spans_of("IOM") == []  # another name of the organisation the question names
    assert spans_of("UNODC") == ["UNODC"]  # an organisation the question does not name stays
    assert spans_of("2022") == ["2022"]


_LAW = 'وتدعو مجموعة UNNM حكومة العراق إلى تعزيز قانونها (رقم 28 لعام 2012) لضمان احترام الحقوق.\n' \
       'أنشأت المنظمة الدولية للهجرة (IOM) ومكتب الأمم المتحدة المعني بالمخدرات والجريمة (UNODC) فريق عمل.\n' \
       'وتهدف الحملة "عدم ترك أي طفل خلف الركب" إلى تسريع العمل، تحت شعار “لنجعل حماية أطفالنا أولويتنا”.\n' \
       'وأكدت التوصيات مقترح “تطوير مبادرات تكوينية لفائدة المتدخلين في مجال حماية الأطفال المهاجرين غير ' \
       'المصحوبين والمنفصلين عن ذويهم في كل الجهات”.'


@pytest.mark.parametrize("span, expected", [
    # a mark reaches its partner when it is near: nothing the reader chose is lost
    ("IOM) ومكتب الأمم المتحدة المعني بالمخدرات والجريمة (UNODC", "(IOM) ومكتب الأمم المتحدة المعني بالمخدرات والجريمة (UNODC)"),
    ("قانونها (رقم 28", "قانونها (رقم 28 لعام 2012)"),
    ('الركب" إلى تسريع العمل', '"عدم ترك أي طفل خلف الركب" إلى تسريع العمل'),  # straight quotes paired by their count
    # a span that is one bracketed or quoted run loses the pair
    ("رقم 28 لعام 2012)", "رقم 28 لعام 2012"),
    ('عدم ترك أي طفل خلف الركب"', "عدم ترك أي طفل خلف الركب"),
    ("“لنجعل حماية أطفالنا", "لنجعل حماية أطفالنا أولويتنا"),
    # a partner too far away: the mark is cut off with the shorter side
    ("مقترح “تطوير مبادرات تكوينية", "تطوير مبادرات تكوينية"),
    ("(IOM) ومكتب الأمم المتحدة المعني بالمخدرات والجريمة (UNODC)", "(IOM) ومكتب الأمم المتحدة المعني بالمخدرات والجريمة (UNODC)"),
    ("لضمان احترام الحقوق", "لضمان احترام الحقوق"),
])
def test_a_short_answer_keeps_its_brackets_and_quotes_paired(span, expected):
    a = _LAW.index(span)
    start, end = balanced(_LAW, a, a + len(span))
    assert _LAW[start:end] == expected


class FigureReader:
    """A fake reader: the figure after each «بلغ», the first best (8, 5, 2, …); with ``per_sentence`` all of
    them, else only the first."""

    def read(self, question, passages, max_answer_tokens=None, per_sentence=False, one_line=False):
        import re

        from assistant.reader import Span

        spans = [Span(i, m.end(), m.end() + 5, 8.0 - 3 * k, 1.0) for i, p in enumerate(passages)
                 for k, m in enumerate(re.finditer("بلغ ", p))]
        return spans if per_sentence else [s for s in spans if s.score == 8.0]


def test_a_list_item_about_another_country_gives_way_to_the_item_naming_the_asked_one():
    """A list that gives one fact per country: the passage's best span may sit in another country's item
    («• … في السعودية بلغ ثلاثة …» for «… في الإمارات؟»); the best span of the item that names the asked
    country answers instead, without asking for more candidates (``sentences`` = 1). Prose is left alone:
    an encyclopedia's sentence about a country's neighbours answers questions about the country."""
    from assistant.reading import ReaderAnswerer
    from assistant.types import Chunk, Hit

    listed = "أرقام النمو:\n• نمو الاقتصاد في السعودية بلغ ثلاثة بالمئة.\n• نمو الاقتصاد في الإمارات بلغ أربعة بالمئة."
    prose = "نمو الاقتصاد في السعودية بلغ ثلاثة بالمئة. نمو الاقتصاد في الإمارات بلغ أربعة بالمئة."

    def answer(text, question):
        hits = [Hit(Chunk("d#0", "d", 0, len(text), text), 1.0, dense_rank=1, lexical_rank=1)]
        found = ReaderAnswerer(FigureReader()).candidates(analyse(question), hits, {"d": text})
        assert len(found) == 1 and found[0].sentence_gap == 0.0
        return text[found[0].start : found[0].end], found[0].evidence

    assert answer(listed, "كم بلغ نمو الاقتصاد في الإمارات؟") == ("أربعة", pytest.approx(4.0))  # its own evidence
    assert answer(listed, "كم بلغ نمو الاقتصاد في السعودية؟") == ("ثلاثة", pytest.approx(7.0))
    assert answer(listed, "كم بلغ نمو الاقتصاد؟") == ("ثلاثة", pytest.approx(7.0))  # no place asked: the best span
    assert answer(listed, "كم بلغ نمو الاقتصاد في الرياض؟") == ("ثلاثة", pytest.approx(7.0))  # no item names it
    assert answer(prose, "كم بلغ نمو الاقتصاد في الإمارات؟") == ("ثلاثة", pytest.approx(7.0))  # not a list


class RunOnReader:
    """A fake reader whose best span starts in a region's sentence and whose next best one starts in a bullet and
    runs on through the next bullet (as the real reader does over a list)."""

    def read(self, question, passages, max_answer_tokens=None, per_sentence=False, one_line=False):
        from assistant.reader import Span

        p = passages[0]
        spans = [Span(0, p.find("دعم دول"), p.find("الخليج") + 6, 9.0, 1.0)]
        if per_sentence:
            start = p.find("دعم التشريعات")
            spans.append(Span(0, start, p.find("مئات") + 4, 4.0, 1.0))  # into the Kuwait bullet
        return spans


def test_the_asked_country_s_span_is_kept_to_its_sentence():
    from assistant.reading import ReaderAnswerer
    from assistant.types import Chunk, Hit

    text = ("سيواصل المكتب دعم دول الخليج في بناء أنظمة العدالة.\n• دعم التشريعات الحديثة في الإمارات.\n"
            "• تدريب مئات المسؤولين في الكويت.")
    hits = [Hit(Chunk("d#0", "d", 0, len(text), text), 1.0, dense_rank=1, lexical_rank=1)]
    found = ReaderAnswerer(RunOnReader()).candidates(analyse("ما الدعم الذي قدمه المكتب للإمارات؟"), hits, {"d": text})
    assert [text[c.start : c.end] for c in found] == ["دعم التشريعات الحديثة في الإمارات"]
    assert text[found[0].quote_start : found[0].quote_end] == "• دعم التشريعات الحديثة في الإمارات."
    kept = ReaderAnswerer(RunOnReader()).candidates(analyse("ما الدعم الذي قدمه المكتب؟"), hits, {"d": text})
    assert [text[c.start : c.end] for c in kept] == ["دعم دول الخليج"]  # nothing asked about a country: unchanged


@pytest.mark.parametrize("sentence, item", [
    ("• تعزيز قدرات دور الإيواء في عُمان.", True), ("- دعم التشريعات.", True), ("2. لا يتم تجريم الضحايا.", True),
    ("2022 كان عاماً صعباً.", False), ("-5 درجات تحت الصفر.", False), ("وأكد المدير أهمية الشراكة.", False),
])
def test_is_list_item(sentence, item):
    from assistant.arabic import is_list_item

    assert is_list_item(sentence) is item


@pytest.mark.parametrize("question, quote, off", [
    ("ما الذي تم تعزيزه في سلطنة عمان؟", "• تطوير آلية الإحالة الوطنية في السعودية.", True),  # another country
    ("ما الدعم الذي قدم للإمارات؟", "سيواصل دعم دول الخليج في بناء أنظمة فعالة.", True),  # a region
    ("ما الدعم الذي قدم للإمارات؟", "وأشاد بالتجربة الإماراتية في دعم التشريعات.", False),  # the asked one (nisba)
    ("ما عاصمة المغرب؟", "وعاصمتها الرباط وأكبر مدنها الدار البيضاء.", False),  # a city may lie in the asked country
    ("ما الذي عقد في مراكش؟", "استضاف المغرب المؤتمر العالمي.", False),  # a city asked: its country is not another
    ("ما الدعم الذي قدم للإمارات؟", "وأكد المدير أهمية الشراكة.", False),  # no place at all
])
def test_off_place_tells_a_sentence_about_another_country(question, quote, off):
    from assistant.reading import asked_places, off_place

    assert off_place(quote, (None, 0, 1, 0, len(quote)), asked_places(analyse(question))) is off


_LISTED = ("وتدعو الشبكة الحكومة إلى تعزيز قانونها. وبشكل أكثر تحديداً، ينبغي العمل لضمان ما يلي:\n"
           "1. الحصول على مأوى حق غير مشروط للضحية.\n2. لا يتم تجريم الضحايا بموجب قوانين أخرى.\n"
           "3. تحليل عوامل الاتجار بالأطفال.\nوتجدد الشبكة دعمها للعراق.")


@pytest.mark.parametrize("inside, listed", [
    ("لا يتم تجريم", True),  # an item: the whole list
    ("لضمان ما يلي", True),  # the sentence that opens it with «:»
    ("تعزيز قانونها", True),  # the same line, before the sentence that opens the list
    ("دعمها للعراق", False),  # after the list
])
def test_list_items_finds_the_list_a_span_belongs_to(inside, listed):
    from assistant.reading import list_items

    at = _LISTED.find(inside)
    found = list_items(_LISTED, at, at + len(inside))
    if not listed:
        assert found is None
        return
    a, b = found
    assert _LISTED[a:b].startswith("1. الحصول") and _LISTED[a:b].endswith("تحليل عوامل الاتجار بالأطفال")
    assert list_items("نص بلا قائمة: فقط جملة.", 0, 5) is None


def test_a_list_question_is_answered_with_the_whole_list(settings, fake_embedder, tmp_path):
    """«ما الضمانات …؟» asks for a list: the reader's span in one item (or in the sentence that opens the list)
    answers with every item, once (short answer and quote are the same text); another question keeps its span."""
    from assistant.analysis import is_list_question

    assert is_list_question("ما الضمانات التي تطالب بها الشبكة؟") and is_list_question("وما هي المنظمات المشاركة؟")
    assert not is_list_question("ما الدعم الذي قدمه المكتب؟")
    docs = tmp_path / "listed"
    docs.mkdir()
    (docs / "list.txt").write_text(_LISTED, encoding="utf-8")
    reader = ScriptedReader({"الضمانات": "لا يتم تجريم الضحايا", "ما الذي لا يتم": "لا يتم تجريم الضحايا"})
    assistant = Assistant(settings.with_(answer_mode="reader", docs_dir=docs, index_dir=tmp_path / "listed-index"),
                          embedder=fake_embedder, reader=reader)
    assistant.ingest(progress=False)
    answer = assistant.ask("ما الضمانات التي تطالب بها الشبكة الحكومة؟")
    short = answer.short_answer
    assert short.text == _LISTED[short.start : short.end] and short.text.startswith("1. الحصول")
    assert short.text.endswith("تحليل عوامل الاتجار بالأطفال") and answer.answer == f"{short.text} [1]"
    assert answer.citations[0].quote == short.text
    single = assistant.ask("ما الذي لا يتم بحق الضحايا؟")
    assert single.short_answer.text == "لا يتم تجريم الضحايا"


def test_a_list_too_long_to_read_at_a_glance_leaves_the_reader_s_span(monkeypatch):
    from assistant import reading
    from assistant.types import Chunk, Hit

    hit = Hit(Chunk("d#0", "d", 0, len(_LISTED), _LISTED), 1.0, dense_rank=1, lexical_rank=1)
    at = _LISTED.find("لا يتم تجريم")
    found = reading.Reading(hit, at, at + 13, 5.0, at, at + 40)
    assert reading.as_list(found, {"d": _LISTED}).start < at  # the whole list
    monkeypatch.setattr(reading, "MAX_LIST_CHARS", 50)
    assert reading.as_list(found, {"d": _LISTED}) == found


def test_english_questions_are_read_by_the_latin_reader_and_arabic_ones_by_the_main_reader(settings, fake_embedder):
    script = {"امتدت الدراسة": "عشرين عامًا", "how many years": "عام"}  # «عام» is in many passages
    arabic_reader, latin_reader = ScriptedReader(script), ScriptedReader(script)
    assistant = Assistant(settings.with_(answer_mode="reader", reader_latin_threshold=-20.0), embedder=fake_embedder,
                          reader=arabic_reader, latin_reader=latin_reader)
    assistant.ingest(progress=False)
    english = assistant.ask("How many years did the joint study last?")
    assert not english.refused and english.short_answer.text == "عام"
    assert latin_reader.questions and not arabic_reader.questions
    arabic = assistant.ask(Q_YEARS)
    assert not arabic.refused and len(arabic_reader.questions) == 1 and len(latin_reader.questions) == 1


def test_the_latin_threshold_comes_from_the_card_of_the_reader_that_reads_english(settings, fake_embedder):
    script = {"how many years": "عام"}  # a scripted span has evidence 10 (first passage) or less
    latin_reader = ScriptedReader(script)
    latin_reader.card = {"latin_threshold": {"value": 50.0}}  # stricter than any scripted span
    strict = Assistant(settings.with_(answer_mode="reader"), embedder=fake_embedder, reader=ScriptedReader(script),
                       latin_reader=latin_reader)
    strict.ingest(progress=False)
    assert strict.latin_threshold() == 50.0 and strict.ask("How many years did the joint study last?").refused
    latin_reader.card = {"latin_threshold": {"value": -20.0}}
    assert not strict.ask("How many years did the joint study last?").refused
    # the setting, when given, overrides the card; a card without one gives the main reader's value
    assert Assistant(settings.with_(reader_latin_threshold=3.5), reader=latin_reader).latin_threshold() == 3.5
    assert Assistant(settings, reader=ScriptedReader(script)).latin_threshold() == DEFAULT_LATIN_THRESHOLD


def test_the_latin_threshold_setting_is_read_from_the_environment():
    from assistant.settings import Settings

    assert Settings.from_env({}).reader_latin_threshold is None
    assert Settings.from_env({"ASSISTANT_READER_LATIN_THRESHOLD": "-9.5"}).reader_latin_threshold == -9.5
    with pytest.raises(ValueError, match="ASSISTANT_READER_LATIN_THRESHOLD='x' is not a valid float"):
        Settings.from_env({"ASSISTANT_READER_LATIN_THRESHOLD": "x"})


def test_without_a_latin_reader_the_main_reader_reads_english_questions(settings, fake_embedder, tmp_path):
    script = ScriptedReader({"how many years": "عام"})
    # a Latin reader folder with weights exists by default; a given main reader with no Latin one still reads all
    assistant = Assistant(settings.with_(answer_mode="reader", reader_latin_threshold=-20.0,
                                         latin_reader_dir=tmp_path / "none"), embedder=fake_embedder, reader=script)
    assistant.ingest(progress=False)
    answer = assistant.ask("How many years did the joint study last?")
    assert not answer.refused and script.questions and assistant.latin_reader is assistant.reader
    again = Assistant(settings.with_(answer_mode="reader"), embedder=fake_embedder, reader=script)
    assert again.latin_reader is again.reader
