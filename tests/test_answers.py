import json

import pytest
from click.testing import CliRunner

from assistant import arabic
from assistant.cli import main
from assistant.extractive import counted_near, date_fit, number_fit, question_type, type_match
from assistant.pipeline import QuestionError
from assistant.settings import Settings


def _valid(answer, assistant):
    for c in answer.citations:
        assert assistant.index.document_text(c.source)[c.start : c.end] == c.quote
        assert f"[{c.n}]" in answer.answer


def test_extractive_answer_quotes_verbatim_with_exact_spans(fake_assistant):
    answer = fake_assistant.ask("كم مشاركا حضر حملات التوعية حول مخاطر الهجرة غير النظامية؟")
    assert not answer.refused and answer.citations
    assert "150" in answer.answer
    _valid(answer, fake_assistant)
    data = answer.to_dict()
    assert set(data) >= {"question", "answer", "refused", "citations", "passages", "latency_ms"}
    assert [p["n"] for p in data["passages"]] == list(range(1, len(data["passages"]) + 1))
    assert all(set(c) == {"n", "source", "chunk_id", "start", "end", "quote"} for c in data["citations"])


def test_unanswerable_question_is_refused_with_the_fixed_sentence(fake_assistant, settings):
    refusal = (settings.prompts_dir / "refusal.txt").read_text(encoding="utf-8").strip()
    answer = fake_assistant.ask("ما هي أفضل وصفة لتحضير الكسكس المغربي؟")
    assert answer.refused and answer.answer == refusal and not answer.citations


@pytest.mark.parametrize("question", ["", "   ", "س" * 5000])
def test_empty_or_huge_questions_get_a_clear_error(fake_assistant, question):
    with pytest.raises(QuestionError) as err:
        fake_assistant.ask(question)
    assert "السؤال" in str(err.value)


def test_stream_yields_text_before_the_final_answer(fake_assistant):
    items = list(fake_assistant.ask_stream("من هي سفيرة الاتحاد الأوروبي بالمغرب؟"))
    assert isinstance(items[0], str) and items[-1].answer.startswith(items[0])
    assert "".join(i for i in items if isinstance(i, str)) == items[-1].answer


def test_question_types_and_typed_sentences():
    assert question_type("كم عدد المشاركين؟") == "number"
    assert question_type("قديش كانت النسبة؟") == "number"  # dialect
    assert question_type("منين جاو الضحايا؟") == question_type("من أين جاء الضحايا؟") == "place"
    assert question_type("متى انطلقت الحملة؟") == "date"
    assert question_type("فين تختمت الحملة؟") == "place"
    assert question_type("Who is the coordinator?") == "person"
    assert type_match("number", "حضرها 150 مشاركا") == 1.0
    assert type_match("number", "في عام 2022 أنشئ الفريق") == 0.0  # a year is not a count
    assert type_match("date", "العراق، 30 تموز/ يوليو 2024") == 1.0


@pytest.mark.parametrize("span, fit", [
    ("أكثر من 750 مشاركًا", 1.0), ("١٢٥ ألف ضحية", 1.0),  # Arabic-Indic digits
    ("ثمان عشرة محافظة", 1.0), ("خمسِين وِلاية", 1.0), ("وسبعة أقاليم", 1.0), ("نحو ثلث الضحايا", 1.0),
    ("11 إلى 13 شباط/فبراير 2026", 0.5), ("عام 2012", 0.5), ("30 يوليو", 0.5),  # only a date's numbers
    ("تندرج ضمن الخطة الوطنية", 0.0), ("اللجنة الوطنية", 0.0), ("الستار", 0.0),
])
def test_number_fit_tells_a_count_from_a_date_and_from_no_number(span, fit):
    assert number_fit(span) == fit


@pytest.mark.parametrize("span, fit", [
    ("سنة 1453م،", 1.0), ("1157 هـ / 1744", 1.0), ("عام ٢٠١٢", 1.0), ("1900.", 1.0), ("سنة 622", 1.0),
    ("الأول من سبتمبر من عام 1939", 1.0), ("11 إلى 13 شباط/فبراير", 1.0),
    ("في سنِّ الخامسة والعشرين", 0.5), ("أواخر القرن السادس عشر الميلادي", 0.5), ("في شهر رمضان", 0.5),
    ("بعد وفاة أبيه", 0.5), ("3.5 مليون", 0.5),
    ("الدولة العباسية والحروب الصليبية", 0.0), ("وزير العدل", 0.0),
])
def test_date_fit_knows_historical_years_and_times_short_of_a_date(span, fit):
    assert date_fit(span) == fit


def test_counted_near_looks_for_the_counted_noun_beside_a_number():
    quote = "عُقد المؤتمر في مراكش من 11 إلى 13 شباط/فبراير 2026 بمشاركة 1000 شخص من 40 دولة."
    assert counted_near("كم دولة شاركت في المؤتمر؟", quote) == 1.0
    assert counted_near("شحال من دولة شاركت فالمؤتمر؟", quote) == 1.0  # dialect, «من» after the count word
    assert counted_near("كم طفلا حضر المؤتمر؟", quote) == 0.0  # children are not counted there
    assert counted_near("متى عقد المؤتمر؟", quote) == counted_near("كم؟", quote) == 0.5  # nothing counted


def test_empty_index_says_so(settings, fake_embedder, tmp_path):
    from assistant.pipeline import Assistant

    empty = Assistant(settings.with_(docs_dir=tmp_path / "none", index_dir=tmp_path / "empty"), embedder=fake_embedder)
    answer = empty.ask("ما هذا؟")
    assert answer.refused and "ingest" in answer.answer


def test_settings_from_environment():
    s = Settings.from_env({"ASSISTANT_TOP_K": "7", "ASSISTANT_EMBEDDING_MODEL": "/models/bge-m3", "ASSISTANT_QUERY_PREFIX": ""})
    assert s.top_k == 7 and s.embedding_model == "/models/bge-m3" and s.query_prefix == ""
    s = Settings.from_env({"ASSISTANT_PASSAGE_PREFIX": "passage: ", "ASSISTANT_MAX_DOCUMENT_MB": "2.5",
                           "ASSISTANT_INDEX_DIR": "~/idx"})
    assert s.passage_prefix == "passage: " and s.max_document_mb == 2.5 and not str(s.index_dir).startswith("~")
    with pytest.raises(ValueError, match="ASSISTANT_MAX_DOCUMENT_MB"):
        Settings.from_env({"ASSISTANT_MAX_DOCUMENT_MB": "big"})
    with pytest.raises(ValueError, match="ASSISTANT_TOP_K"):
        Settings.from_env({"ASSISTANT_TOP_K": "many"})


@pytest.fixture
def cli(fake_assistant, monkeypatch):
    """Run the CLI against the fake assistant (no model)."""
    import assistant.cli as cli_module

    monkeypatch.setattr(cli_module.Context, "assistant", property(lambda self: fake_assistant))
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def test_cli_ask_json_contract_and_history(cli, tmp_path):
    result = cli("ask", "--json", "من هي نائبة رئيسة المرصد الوطني لحقوق الطفل؟")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert "بنجلون" in arabic.normalize(data["answer"]) and data["citations"]
    history = tmp_path / "h.json"
    history.write_text(json.dumps([["من نظم اليوم التواصلي في الرباط بمناسبة اليوم العالمي لمكافحة الاتجار بالبشر؟", "اللجنة الوطنية"]], ensure_ascii=False))
    result = cli("ask", "--json", "--history", str(history), "وما كان شعاره؟")
    assert "السيبراني" in json.loads(result.output)["answer"]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = cli("ask", "--history", str(bad), "سؤال")
    assert result.exit_code == 1 and "history" in result.output


def test_cli_lookup_marks_the_span_and_unknown_ids_fail_cleanly(cli):
    result = cli("lookup", "004_86e43c809a7d70f4.txt#1")
    assert result.exit_code == 0 and ">>>" in result.output and "<<<" in result.output
    result = cli("lookup", "nope#9")
    assert result.exit_code == 1 and "no passage" in result.output and "Traceback" not in result.output


def test_cli_empty_question_is_a_friendly_error(cli):
    result = cli("ask", "  ")
    assert result.exit_code == 1 and "السؤال فارغ" in result.output


def test_missing_model_names_the_fix(tmp_path):
    from assistant.embeddings import ModelNotFoundError, resolve_model

    with pytest.raises(ModelNotFoundError, match="ASSISTANT_EMBEDDING_MODEL"):
        resolve_model(Settings(embedding_model="org/not-here", model_cache=tmp_path))
