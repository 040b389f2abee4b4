"""scripts/train_answerability.py: the selector and the refusal model fitted from reader records."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from assistant.answerability import (
    FEATURES,
    LATIN_SELECTOR_FEATURES,
    LATIN_SELECTOR_FILE,
    MODEL_FILE,
    SELECTOR_FILE,
    AnswerabilityModel,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import train_answerability


def records(folder: Path, seed: int, language: str = "ar") -> Path:
    """Full-run, probe and swap records whose named_missing_document separates answerable from not; the gold
    candidate has the highest e5 similarity, not always the highest evidence."""
    rng = random.Random(seed)
    rows = []
    for i in range(60):
        run = ("full", "probe", "swap")[i % 3]
        paragraph = rng.randrange(4)
        answerable = run == "full" or (run == "probe" and paragraph % 2 == 0)
        cands = []
        for k in range(3):
            feats = {name: rng.gauss(0, 1) for name in FEATURES}
            feats["named_missing_document"] = feats["named_missing_passage"] = 0.0 if answerable else 1.0
            feats["similarity_quote"] = rng.uniform(0.8, 0.9) if k == 0 else rng.uniform(0.7, 0.8)
            cands.append({"features": feats, "gold": k == 0, "f1": 1.0 if k == 0 else 0.0, "em": 0.0, "contained": 1.0})
        rows.append({"id": str(i), "run": run, "source": f"article{i % 5}#{paragraph}", "language": language,
                     "evidence": cands[0]["features"]["evidence"], "features": cands[0]["features"], "candidates": cands,
                     "f1": 1.0, "em": 0.0, "contained": 1.0})
    folder.mkdir()
    (folder / "records.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return folder


def test_the_refusal_model_and_the_selector_ask_the_document(tmp_path):
    """Both read whether the *document* names what the question names; the selector is fitted on the passage
    measure (on ARCD records a passage is its whole document) and saved to read the document's."""
    train, test, out = records(tmp_path / "train", 1), records(tmp_path / "test", 2), tmp_path / "model"
    out.mkdir()
    assert train_answerability.main(["--train", str(train), "--test", str(test), "--model-dir", str(out)]) == 0
    refusal = AnswerabilityModel.load(out / MODEL_FILE)
    selector = AnswerabilityModel.load(out / SELECTOR_FILE)
    assert "named_missing_document" in refusal.names and "named_missing_passage" not in refusal.names
    assert "named_missing_document" in selector.names and "named_missing_passage" not in selector.names
    fitted_as = dict(zip(selector.names, selector.weights, strict=True))["named_missing_document"]
    assert train_answerability.main(["--train", str(train), "--test", str(test), "--model-dir", str(out),
                                     "--selector-named-in-passage"]) == 0
    passage = AnswerabilityModel.load(out / SELECTOR_FILE)
    assert "named_missing_passage" in passage.names and "named_missing_document" not in passage.names
    assert dict(zip(passage.names, passage.weights, strict=True))["named_missing_passage"] == fitted_as  # same fit
    weight = dict(zip(refusal.names, refusal.weights, strict=True))["named_missing_document"]
    assert weight < 0  # a named place the document never mentions: refuse
    assert refusal.card["trained_on"]["near_miss"] > 0 and "--named-swaps" in refusal.card["command"]


def test_a_latin_selector_is_fitted_on_language_independent_features_and_measured_on_english_records(tmp_path, capsys):
    train, test, out = records(tmp_path / "train", 1), records(tmp_path / "test", 2), tmp_path / "model"
    en_train, en_test = records(tmp_path / "en-train", 3, "latin"), records(tmp_path / "en-test", 4, "latin")
    out.mkdir()
    assert train_answerability.main(["--train", str(train), "--test", str(test), "--model-dir", str(out),
                                     "--english", str(en_train), str(en_test)]) == 0
    latin = AnswerabilityModel.load(out / LATIN_SELECTOR_FILE)
    assert latin.names == LATIN_SELECTOR_FEATURES
    assert dict(zip(latin.names, latin.weights, strict=True))["similarity_quote"] > 0  # it learned what picks gold
    metrics = latin.card["metrics"]
    chosen = metrics["latin_selector"]["selection"]["test"]["gold_passage_chosen"]
    assert chosen > metrics["by_evidence"]["selection"]["test"]["gold_passage_chosen"] and chosen > 0.9
    assert "--english" in latin.card["command"]
    assert f"ASSISTANT_READER_LATIN_THRESHOLD={metrics['latin_selector']['threshold_from_train']}" in capsys.readouterr().out


def test_keep_selectors_refits_only_the_refusal_model_and_text_features_are_recomputed(tmp_path):
    train, test, out = records(tmp_path / "train", 1), records(tmp_path / "test", 2), tmp_path / "model"
    out.mkdir()
    assert train_answerability.main(["--train", str(train), "--test", str(test), "--model-dir", str(out)]) == 0
    selector_before = (out / SELECTOR_FILE).read_text(encoding="utf-8")
    refusal_before = (out / MODEL_FILE).read_text(encoding="utf-8")
    # records that hold their question, spans and quotes: counted_near and type_match come from that text, not
    # from the stored values
    for folder in (train, test):
        rows = [json.loads(line) for line in (folder / "records.jsonl").read_text(encoding="utf-8").splitlines()]
        for r in rows:
            r["question"] = "كم دولة شاركت في المؤتمر؟"
            for c in r["candidates"]:
                c["quote"] = "شارك في المؤتمر ممثلو 40 دولة." if r["run"] == "full" else "عقد المؤتمر في 11 شباط 2026."
                c["text"] = "40 دولة" if r["run"] == "full" else "11 شباط 2026"
                c["features"]["counted_near"] = c["features"]["type_match"] = 0.25  # stale
        (folder / "records.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    loaded = train_answerability.load(train)
    assert {c["features"]["counted_near"] for r in loaded if r["run"] == "full" for c in r["candidates"]} == {1.0}
    assert {c["features"]["counted_near"] for r in loaded if r["run"] == "swap" for c in r["candidates"]} == {0.0}
    assert {c["features"]["type_match"] for r in loaded if r["run"] == "full" for c in r["candidates"]} == {1.0}
    assert {c["features"]["type_match"] for r in loaded if r["run"] == "swap" for c in r["candidates"]} == {0.5}  # a date
    assert train_answerability.main(["--train", str(train), "--test", str(test), "--model-dir", str(out),
                                     "--keep-selectors"]) == 0
    assert (out / SELECTOR_FILE).read_text(encoding="utf-8") == selector_before
    refusal = AnswerabilityModel.load(out / MODEL_FILE)
    assert (out / MODEL_FILE).read_text(encoding="utf-8") != refusal_before
    assert "--keep-selectors" in refusal.card["command"] and "counted_near" in refusal.names
