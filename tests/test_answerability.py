"""The learned refusal stage: features on normalised Arabic, the logistic model, and its use by the pipeline."""

from __future__ import annotations

import json
import random

import pytest

from assistant import answerability
from assistant.analysis import analyse
from assistant.answerability import FEATURES, MODEL_FILE, AnswerabilityModel, fit
from assistant.fakes import ScriptedReader
from assistant.pipeline import Assistant
from assistant.reading import Reading
from assistant.types import Chunk, Hit

PASSAGE = "وبلغ عدد المشاركين في المؤتمر الدولي للمياه 750 مشاركاً من أربعين دولة. وعقد المؤتمر في مدينة الرباط."


def reading_of(text: str, answer: str) -> tuple[Reading, list[Hit], dict[str, str]]:
    chunk = Chunk("doc.txt#0", "doc.txt", 0, len(text), text)
    hit = Hit(chunk, 1.0, dense_rank=1, lexical_rank=1)
    a = text.index(answer)
    return Reading(hit, a, a + len(answer), 6.0, 0, text.index(".") + 1, 3, 7.0, 1.0, 2.0, 0), [hit], {"doc.txt": text}


def test_coverage_matches_words_through_normalisation_and_light_stems():
    found, hits, texts = reading_of(PASSAGE, "750 مشاركاً")
    asked = analyse("كم عدد المشارِكين في المؤتمر الدولي للمياه؟")  # a diacritic, another case ending
    feats = answerability.features(asked, found, texts, lambda term: 1, 10)
    assert feats["coverage_passage"] == 1.0 and feats["coverage_quote"] == 1.0
    assert feats["type_match"] == 1.0 and feats["unknown_terms"] == 0.0 and feats["missing_idf_passage"] == 0.0
    assert feats["counted_near"] == 1.0  # «750 مشاركاً»: the counted noun beside the number
    other = analyse("كم عدد الصحفيين الذين غطوا مؤتمر المياه؟")
    feats2 = answerability.features(other, found, texts, lambda term: 0 if "صحف" in term else 1, 10)
    assert feats2["coverage_passage"] < 1.0 and feats2["unknown_terms"] > 0.0
    assert feats2["idf_coverage_passage"] < feats2["coverage_passage"]  # the missing word is the rarest
    assert feats2["missing_idf_passage"] == feats2["missing_idf_quote"] > 0.5
    assert set(feats) == set(FEATURES)


def test_candidate_features_carry_each_quote_similarity_and_its_gap_to_the_best_other():
    found, _, texts = reading_of(PASSAGE, "750 مشاركاً")
    asked = analyse("كم عدد المشاركين في المؤتمر؟")
    feats = answerability.candidate_features(asked, [found, found, found], texts, lambda term: 1, 10, [0.9, 0.7, 0.8])
    assert [f["similarity_quote"] for f in feats] == [0.9, 0.7, 0.8]
    assert [round(f["similarity_gap"], 6) for f in feats] == [0.1, -0.2, -0.1]
    alone = answerability.candidate_features(asked, [found], texts, lambda term: 1, 10, [0.85])
    assert alone[0]["similarity_gap"] == 0.0


def test_the_pipeline_measures_similarity_with_the_embedder(settings, fake_embedder):
    """The similarity feature is the embedder's cosine of the query and each candidate's quote."""
    import numpy as np

    script = ScriptedReader({"امتدت الدراسة": "عشرين عامًا"})
    assistant = Assistant(settings.with_(answer_mode="reader"), embedder=fake_embedder, reader=script)
    assistant.ingest(progress=False)
    analysis = analyse("كم سنة امتدت الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد؟")
    view = assistant.index.view()
    candidates = assistant.reader.candidates(analysis, assistant.retrieve(analysis, view=view), view.texts)
    assert candidates
    feats = assistant.candidate_features(analysis, candidates, view)
    q = np.asarray(fake_embedder.embed_query(analysis.query))
    for c, f in zip(candidates, feats, strict=True):
        quote = view.texts[c.hit.chunk.source][c.quote_start : c.quote_end]
        assert f["similarity_quote"] == pytest.approx(float(np.asarray(fake_embedder.embed_many([quote]))[0] @ q))


def _synthetic(n: int, seed: int = 3):
    rng = random.Random(seed)
    rows, labels = [], []
    for _ in range(n):
        label = rng.random() < 0.5
        feats = {name: rng.gauss(0, 1) for name in FEATURES}
        feats["coverage_quote"] = rng.gauss(0.8 if label else 0.4, 0.15)
        rows.append(feats)
        labels.append(int(label))
    return rows, labels


def test_fit_learns_the_signal_and_round_trips(tmp_path):
    rows, labels = _synthetic(400)
    model = fit(rows, labels, card={"data": "synthetic"})
    accuracy = sum((model.probability(r) >= 0.5) == bool(y) for r, y in zip(rows, labels, strict=True)) / len(rows)
    assert accuracy > 0.85
    weights = dict(zip(model.names, model.weights, strict=True))
    assert max(weights, key=lambda n: abs(weights[n])) == "coverage_quote" and weights["coverage_quote"] > 0
    path = tmp_path / MODEL_FILE
    model.save(path)
    again = AnswerabilityModel.load(path)
    assert again.card == {"data": "synthetic"}
    assert again.probability(rows[0]) == pytest.approx(model.probability(rows[0]))


def test_load_rejects_a_file_that_does_not_fit(tmp_path):
    path = tmp_path / MODEL_FILE
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="could not be read"):
        AnswerabilityModel.load(path)
    path.write_text(json.dumps({"names": ["unknown"], "mean": [0], "scale": [1], "weights": [1], "bias": 0}), encoding="utf-8")
    with pytest.raises(ValueError, match="does not match"):
        AnswerabilityModel.load(path)


def _coverage_model(tmp_path, bias: float = -6.0) -> None:
    """Answer only when the quote covers the question (a model that weighs nothing else)."""
    names = tuple(FEATURES)
    weights = tuple(8.0 if n == "coverage_quote" else 0.0 for n in names)
    AnswerabilityModel(names, (0.0,) * len(names), (1.0,) * len(names), weights, bias, {}).save(tmp_path / MODEL_FILE)


def test_pipeline_refuses_an_arabic_near_miss_the_model_rejects_and_keeps_english_on_evidence(settings, fake_embedder, tmp_path):
    folder = tmp_path / "reader"
    folder.mkdir()
    _coverage_model(folder)
    script = ScriptedReader({"امتدت الدراسة": "عشرين عامًا", "how many years": "عشرين عامًا",
                             "بميزانية": "عشرين عامًا"})  # a confident span for a question the passage does not cover
    assistant = Assistant(settings.with_(answer_mode="reader", reader_dir=folder), embedder=fake_embedder, reader=script)
    assistant.ingest(progress=False)
    ok = assistant.ask("كم سنة امتدت الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد؟")
    assert not ok.refused and ok.debug["answerable"] >= 0.5 and ok.short_answer.text == "عشرين عامًا"
    near = assistant.ask("كم بلغت قيمة الجائزة المالية للفائزين بميزانية المسابقة الرياضية؟")
    assert near.refused and near.debug["answerable"] < 0.5 and near.short_answer.text == ""
    # coverage means nothing across scripts: an English question is judged by the reader's evidence alone
    lenient = Assistant(assistant.settings.with_(reader_latin_threshold=-20.0), embedder=fake_embedder, reader=script)
    english = lenient.ask("How many years did the joint study last?", top_k=200)
    assert not english.refused and "answerable" not in english.debug
    # … and a place it names must be in the document: the study's article names Africa, never Brazil
    assert not lenient.ask("How many years did the joint study in Africa last?", top_k=200).refused
    brazil = lenient.ask("How many years did the joint study in Brazil last?", top_k=200)
    assert brazil.refused and brazil.debug["named_missing_document"] == 1.0
    strict = Assistant(assistant.settings.with_(reader_min_confidence=0.9999), embedder=fake_embedder, reader=script)
    assert strict.ask("كم سنة امتدت الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد؟").refused


def test_an_unreadable_model_file_falls_back_to_the_evidence_threshold(settings, fake_embedder, tmp_path):
    folder = tmp_path / "reader"
    folder.mkdir()
    (folder / MODEL_FILE).write_text("garbage", encoding="utf-8")
    script = ScriptedReader({"امتدت الدراسة": "عشرين عامًا"})
    assistant = Assistant(settings.with_(answer_mode="reader", reader_dir=folder), embedder=fake_embedder, reader=script)
    assistant.ingest(progress=False)
    answer = assistant.ask("كم سنة امتدت الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد؟")
    assert not answer.refused and "answerable" not in answer.debug
    assert assistant.answerability is None and "could not be read" in assistant.answerability_error


def test_fit_choice_learns_which_candidate_answers():
    rng = random.Random(5)
    groups, targets = [], []
    for _ in range(350):
        n = rng.randint(2, 5)
        cands = [{name: rng.gauss(0, 1) for name in FEATURES} for _ in range(n)]
        t = rng.randrange(n)
        cands[t]["idf_coverage_passage"] += 2.5  # the answering passage covers the question better ...
        for c in cands:
            c["evidence"] = rng.gauss(0, 3)  # ... while the reader's evidence is noise here
        groups.append(cands)
        targets.append(t)
    model = answerability.fit_choice(groups[:250], targets[:250])
    right = sum(max(range(len(g)), key=lambda i: model.logit(g[i])) == t for g, t in zip(groups[250:], targets[250:], strict=True))
    assert right / 100 > 0.8 and model.bias == 0.0
    weights = dict(zip(model.names, model.weights, strict=True))
    assert max(weights, key=lambda n: abs(weights[n])) == "idf_coverage_passage"


def test_the_pipeline_answers_from_the_passage_the_selector_prefers(settings, fake_embedder, tmp_path):
    """Two passages hold a confident span; without a selector the higher evidence wins, with one the better
    covered passage does, and its features feed the refusal decision."""
    folder = tmp_path / "reader"
    folder.mkdir()
    question = "كم سنة امتدت الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد؟"
    script = ScriptedReader({"امتدت الدراسة": "عام"})  # «عام» occurs in many passages: the first one read scores best
    assistant = Assistant(settings.with_(answer_mode="reader", reader_dir=folder), embedder=fake_embedder, reader=script)
    assistant.ingest(progress=False)
    plain = assistant.ask(question)
    assert not plain.refused
    names = tuple(FEATURES)
    prefer_rank = tuple(8.0 if n == "passage_rank" else 0.0 for n in names)  # the lowest-ranked passage wins
    AnswerabilityModel(names, (0.0,) * len(names), (1.0,) * len(names), prefer_rank, 0.0, {}).save(
        folder / answerability.SELECTOR_FILE)
    chosen = Assistant(assistant.settings, embedder=fake_embedder, reader=script).ask(question)
    assert not chosen.refused and "features" not in chosen.debug  # no refusal model: evidence threshold
    assert chosen.short_answer.source != plain.short_answer.source or chosen.short_answer.start != plain.short_answer.start
    ranks = [h.chunk.source for h in chosen.passages]
    assert ranks.index(chosen.short_answer.source) >= ranks.index(plain.short_answer.source)


def test_the_quote_feature_tells_which_sentence_names_the_asked_place():
    text = "نمو الاقتصاد في السعودية بلغ ثلاثة بالمئة. ونمو الاقتصاد في الإمارات بلغ أربعة بالمئة."
    asked = analyse("كم بلغ نمو الاقتصاد في الإمارات؟")
    saudi, _, texts = reading_of(text, "ثلاثة بالمئة")
    second = text.index(".") + 2
    uae = Reading(saudi.hit, text.index("أربعة"), text.index("أربعة") + 12, 5.0, second, len(text), 3, 6.0, 1.0,
                  2.0, 0, None, -1.0)
    f_saudi = answerability.features(asked, saudi, texts, lambda term: 1, 10)
    f_uae = answerability.features(asked, uae, texts, lambda term: 1, 10)
    assert f_saudi["named_missing_quote"] == 1.0 and f_uae["named_missing_quote"] == 0.0
    assert f_saudi["named_missing_passage"] == f_uae["named_missing_passage"] == 0.0
    assert f_saudi["sentence_gap"] == 0.0 and f_uae["sentence_gap"] == -1.0


def test_english_questions_are_chosen_by_the_latin_selector_on_language_independent_features(settings, fake_embedder,
                                                                                               tmp_path):
    """The Arabic selector never sees an English question; the Latin one (its own file) does, and only through
    features that mean something across scripts."""
    folder = tmp_path / "reader"
    folder.mkdir()
    script = ScriptedReader({"which year": "عام", "امتدت الدراسة": "عام"})  # «عام» is in many passages: the first read scores best
    assistant = Assistant(settings.with_(answer_mode="reader", reader_dir=folder, reader_latin_threshold=-20.0),
                          embedder=fake_embedder, reader=script)
    assistant.ingest(progress=False)
    question = "In which year did the joint study start?"
    plain = assistant.ask(question)
    assert not plain.refused and assistant.latin_selector is None
    names = answerability.LATIN_SELECTOR_FEATURES
    assert not {"coverage_quote", "idf_coverage_passage", "type_match", "lexical_rank"} & set(names)
    prefer_rank = tuple(8.0 if n == "passage_rank" else 0.0 for n in names)  # the lowest-ranked passage wins
    AnswerabilityModel(names, (0.0,) * len(names), (1.0,) * len(names), prefer_rank, 0.0, {}).save(
        folder / answerability.LATIN_SELECTOR_FILE)
    chosen = Assistant(assistant.settings, embedder=fake_embedder, reader=script)
    answer = chosen.ask(question)
    assert not answer.refused and chosen.latin_selector is not None and chosen.selector is None
    ranks = [h.chunk.source for h in answer.passages]
    assert (ranks.index(answer.short_answer.source), answer.short_answer.start) != \
        (ranks.index(plain.short_answer.source), plain.short_answer.start)
    assert ranks.index(answer.short_answer.source) >= ranks.index(plain.short_answer.source)
    # … which never chooses for an Arabic question (no Arabic selector here: the highest evidence wins)
    arabic_question = "متى امتدت الدراسة المشتركة؟"
    before, after = assistant.ask(arabic_question), chosen.ask(arabic_question)
    assert not after.refused and after.short_answer == before.short_answer
