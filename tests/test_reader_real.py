"""The shipped reader with the real e5 model and real Chroma over the seeds (slow)."""

from __future__ import annotations

import json
import shutil

import pytest

from assistant import arabic
from assistant.analysis import analyse
from assistant.reader import CARD_FILE, READER_DIR, WEIGHTS_FILE
from assistant.settings import PROJECT_ROOT, Settings

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (READER_DIR / WEIGHTS_FILE).exists(), reason="reader weights not shipped")]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    from assistant.pipeline import Assistant

    tmp = tmp_path_factory.mktemp("reader-real")
    shutil.copytree(PROJECT_ROOT / "seeds", tmp / "docs")
    assistant = Assistant(Settings.from_env(docs_dir=tmp / "docs", index_dir=tmp / "index", answer_mode="reader"))
    assistant.ensure_index(progress=False)
    assert assistant.reader is not None, assistant.reader_error
    return assistant


def test_weights_are_small_and_the_card_names_data_and_metrics():
    assert (READER_DIR / WEIGHTS_FILE).stat().st_size <= 60 * 1024 * 1024
    card = json.loads((READER_DIR / CARD_FILE).read_text(encoding="utf-8"))
    assert "arcd" in json.dumps(card["data"]).lower() and "CC BY-SA 4.0" in json.dumps(card["data"])
    assert card["train"]["seed"] is not None and card["heldout_gold_paragraph"]["f1"] > 0.4


@pytest.mark.parametrize(("question", "facts"), [
    ("كم سنة امتدت الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد؟", ["عشرين", "20"]),
    ("How many years did the joint study by the IOM and Harvard University last?", ["عشرين", "20"]),
])
def test_short_answers_are_the_fact_itself_with_a_verbatim_quote(real, question, facts):
    answer = real.ask(question)
    short = answer.short_answer
    assert not answer.refused, answer.debug
    assert any(arabic.normalize(f) in arabic.normalize(short.text) for f in facts), short.text
    assert len(arabic.words(short.text)) <= 12
    doc = real.index.document_text(short.source)
    assert doc[short.start : short.end] == short.text
    cite = answer.citations[0]
    assert doc[cite.start : cite.end] == cite.quote and cite.start <= short.start and short.end <= cite.end


def test_follow_up_reaches_the_reader(real):
    first = "ما الدراسة التي أجرتها المنظمة الدولية للهجرة مع جامعة هارفارد؟"
    answer = real.ask("وكم سنة امتدت؟", history=[(first, real.ask(first).answer)])
    assert not answer.refused and any(f in arabic.normalize(answer.short_answer.text) for f in ("عشرين", "20"))


def test_e5_glosses_an_english_question_with_the_passages_own_words_and_the_reader_finds_the_count(real):
    """«officials», «trained» → the seed's «المسؤولين», «تدريب…» (nearest e5 word vectors), not guessed for the rest;
    with them the reader answers the count from the Saudi line (without: «مئات المسؤولين في الكويت», refused)."""
    from assistant.analysis import analyse

    question = "How many officials were trained in Saudi Arabia as part of developing its national referral mechanism?"
    glossed, hits = real.find(analyse(question))
    words = glossed.gloss.split()
    assert any(arabic.normalize(w).endswith("تدريب") for w in words), words
    read = " ".join(arabic.unmarked(real.index.texts[h.chunk.source][h.chunk.start : h.chunk.end])[0] for h in hits)
    assert words and all(w in read for w in words)  # words of the retrieved passages, as written there
    answer = real.ask(question)
    assert not answer.refused, answer.debug
    assert "1700" in answer.short_answer.text


def test_shared_layers_give_the_same_spans_as_a_standalone_reader(real):
    from assistant.embeddings import resolve_model
    from assistant.reader import Reader

    alone = Reader(resolve_model(real.settings).path, READER_DIR)
    passages = [c.text for c in real.index.chunks[:4]]
    question = "أين عقد المؤتمر العالمي السادس للقضاء على عمل الأطفال؟"
    a, b = real.reader.reader.read(question, passages)[:3], alone.read(question, passages)[:3]
    assert [(s.passage, s.start, s.end) for s in a] == [(s.passage, s.start, s.end) for s in b]
    assert all(abs(x.evidence - y.evidence) < 1e-3 for x, y in zip(a, b, strict=True))


def test_the_reader_shares_the_embedders_tokenizer_safely_across_threads(real):
    """One XLM-R tokenizer (~290 MB) for both, and answers unchanged while other threads embed."""
    from tests.conftest import run_threads

    assert real.reader.reader.tokenizer is real.embedder.tokenizer
    question = "كم مشاركا حضر حملات التوعية حول مخاطر الهجرة غير النظامية؟"
    expected = real.ask(question).short_answer.text
    errors: list[str] = []

    def embed():
        for i in range(30):
            real.embedder.embed_many([f"جملة اختبار رقم {i} عن الهجرة"] * 8)

    def ask():
        for _ in range(4):
            try:
                assert real.ask(question).short_answer.text == expected
            except Exception as exc:  # "Already borrowed" or a different answer
                errors.append(repr(exc))

    run_threads(embed, embed, ask, ask)
    assert not errors, errors[:2]


def _damaged_copy(reader_dir, to):
    """A copy of a reader folder whose weights file is cut to a third (a download or disk failure)."""
    shutil.copytree(reader_dir, to)
    data = (to / WEIGHTS_FILE).read_bytes()
    (to / WEIGHTS_FILE).write_bytes(data[: len(data) // 3])
    return to


def test_damaged_weights_give_a_clear_message_and_the_sentence_engine_answers(real, tmp_path):
    from assistant.pipeline import Assistant

    broken = _damaged_copy(READER_DIR, tmp_path / "reader")
    assistant = Assistant(real.settings.with_(reader_dir=broken), embedder=real.embedder)
    answer = assistant.ask("كم سنة امتدت الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد؟")
    assert answer.mode == "extractive" and "could not be loaded" in answer.notice and "عشرين" in answer.answer


def test_english_questions_have_a_reader_of_their_own_on_the_same_e5(real):
    """The shipped Latin reader reads English questions (Arabic ones keep the main reader); it shares the embedder's
    embeddings, frozen layers and tokenizer, and was trained reading questions as the pipeline reads them."""
    latin_dir = real.settings.latin_reader_dir
    if not (latin_dir / WEIGHTS_FILE).exists():
        pytest.skip("no Latin reader shipped")
    card = json.loads((latin_dir / CARD_FILE).read_text(encoding="utf-8"))
    assert (latin_dir / WEIGHTS_FILE).stat().st_size <= 60 * 1024 * 1024
    assert card["train"]["gloss"] == real.settings.gloss_similarity and card["data"]["rewrites"]["paths"]
    assert "arcd-test" not in json.dumps(card["data"]) and card["heldout_gold_paragraph"]["f1"] > 0.4
    latin, main = real.latin_reader, real.reader
    assert latin is not main and latin.reader.name == card["name"] != main.reader.name
    assert latin.reader.tokenizer is real.embedder.tokenizer
    assert latin.reader.encoder.embeddings is main.reader.encoder.embeddings
    assert latin.reader.encoder.encoder.layer[0] is main.reader.encoder.encoder.layer[0]
    assert real.reader_for(analyse("كم عدد المشاركين في الحملة؟")) is main
    assert real.reader_for(analyse("How many people took part in the campaign?")) is latin
    assert real.latin_threshold() == card["latin_threshold"]["value"]  # its own threshold, beside its weights


def test_damaged_latin_weights_leave_english_questions_to_the_main_reader(real, tmp_path):
    from assistant.pipeline import Assistant

    latin_dir = real.settings.latin_reader_dir
    if not (latin_dir / WEIGHTS_FILE).exists():
        pytest.skip("no Latin reader shipped")
    broken = _damaged_copy(latin_dir, tmp_path / "reader-latin")
    assistant = Assistant(real.settings.with_(latin_reader_dir=broken), embedder=real.embedder)
    answer = assistant.ask("How many years did the joint study by the IOM and Harvard University last?")
    assert answer.mode == "reader" and assistant.latin_reader is assistant.reader
    assert "could not be loaded" in assistant.latin_reader_error
    assert assistant.latin_threshold() == assistant.reader.reader.card["latin_threshold"]["value"] == -14.172
    assert not answer.refused and any(f in answer.short_answer.text for f in ("عشرين", "20"))


def test_a_latin_reader_folder_that_lost_its_weights_says_so(real, tmp_path):
    """A folder with the Latin reader's card but none of the weights it names is a reader gone missing, not «no
    Latin reader»: the reason is kept for the start-up message and the main reader reads English questions."""
    from assistant.pipeline import Assistant

    latin_dir = real.settings.latin_reader_dir
    if not (latin_dir / WEIGHTS_FILE).exists():
        pytest.skip("no Latin reader shipped")
    card_only = tmp_path / "reader-latin"
    card_only.mkdir()
    shutil.copy(latin_dir / "card.json", card_only / "card.json")
    assistant = Assistant(real.settings.with_(latin_reader_dir=card_only), embedder=real.embedder)
    assert assistant.latin_reader is assistant.reader
    assert "not found" in assistant.latin_reader_error and WEIGHTS_FILE in assistant.latin_reader_error
    empty = tmp_path / "no-reader"
    empty.mkdir()
    quiet = Assistant(real.settings.with_(latin_reader_dir=empty), embedder=real.embedder)
    assert quiet.latin_reader is quiet.reader and quiet.latin_reader_error == ""  # no reader there: nothing to say


def test_bfloat16_arithmetic_finds_the_same_span_as_float32(real):
    """ASSISTANT_READER_DTYPE=bfloat16 (about twice as fast): the same answer, its evidence nearly the same."""
    reader = real.reader.reader
    text = next(t for t in (p.read_text(encoding="utf-8") for p in sorted((PROJECT_ROOT / "seeds").iterdir())) if "هارفارد" in t)
    question = "كم سنة امتدت الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد؟"
    assert reader.dtype == "float32"  # the default: the thresholds were set on it
    exact = reader.read(question, [text])
    reader.dtype = "bfloat16"
    try:
        fast = reader.read(question, [text])
    finally:
        reader.dtype = "float32"
    assert (fast[0].start, fast[0].end) == (exact[0].start, exact[0].end)
    assert abs(fast[0].evidence - exact[0].evidence) < 0.5
