"""scripts/rewrite_squad.py: a SQuAD file asked another way keeps every paragraph and only the rewritten questions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import rewrite_squad


def test_rewritten_file_keeps_paragraphs_answers_and_only_rewritten_questions(tmp_path):
    source = {"version": "1.1", "data": [{"title": "حمزة", "paragraphs": [
        {"context": "ولد حمزة سنة 568.", "qas": [
            {"id": "1", "question": "متى ولد حمزة؟", "answers": [{"text": "568", "answer_start": 13}]},
            {"id": "2", "question": "من هو حمزة؟", "answers": [{"text": "حمزة", "answer_start": 4}]}]},
        {"context": "قتل حمزة في أحد.", "qas": [
            {"id": "3", "question": "أين قتل حمزة؟", "answers": [{"text": "أحد", "answer_start": 12}]}]}]}]}
    (tmp_path / "src.json").write_text(json.dumps(source, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "rw.tsv").write_text("1\tإيمتى انولد حمزة؟\n9\tمش موجود؟\n", encoding="utf-8")
    rewrite_squad.main([str(tmp_path / "src.json"), str(tmp_path / "rw.tsv"), str(tmp_path / "out" / "x.json")])
    out = json.loads((tmp_path / "out" / "x.json").read_text(encoding="utf-8"))
    paragraphs = out["data"][0]["paragraphs"]
    assert [p["context"] for p in paragraphs] == ["ولد حمزة سنة 568.", "قتل حمزة في أحد."]  # the index stays the same
    assert paragraphs[0]["qas"] == [{"id": "1", "question": "إيمتى انولد حمزة؟",
                                     "answers": [{"text": "568", "answer_start": 13}]}]
    assert paragraphs[1]["qas"] == []


def test_unanswerable_questions_become_their_paragraphs_only_questions_and_expected_refusals(tmp_path):
    source = {"data": [{"title": "حمزة", "paragraphs": [
        {"context": "ولد حمزة سنة 568.", "qas": [{"id": "1", "question": "متى ولد حمزة؟", "answers": [{"text": "568", "answer_start": 13}]}]},
        {"context": "قتل حمزة في أحد.", "qas": [{"id": "3", "question": "أين قتل حمزة؟", "answers": [{"text": "أحد", "answer_start": 12}]}]}]}]}
    (tmp_path / "src.json").write_text(json.dumps(source, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "nm.tsv").write_text("0#1\tمن قتل حمزة؟\n0#1\tمتى قتل حمزة؟\n", encoding="utf-8")
    rewrite_squad.main(["--unanswerable", str(tmp_path / "src.json"), str(tmp_path / "nm.tsv"), str(tmp_path / "x.json")])
    out = json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))
    first, second = out["data"][0]["paragraphs"]
    assert first["qas"] == [] and first["context"] == "ولد حمزة سنة 568."
    assert [(q["question"], q["is_impossible"], q["answers"]) for q in second["qas"]] == [
        ("من قتل حمزة؟", True, []), ("متى قتل حمزة؟", True, [])]
    assert len({q["id"] for q in second["qas"]}) == 2

    from assistant.eval_io import load_squad

    documents, rows, errors = load_squad(tmp_path / "x.json")
    assert not errors and len(documents) == 2 and [r.answerable for r in rows] == [False, False]


def test_calibration_asks_written_near_misses_as_unanswerable_rows_of_their_paragraph(tmp_path):
    import calibrate_reader

    source = {"data": [{"title": "حمزة", "paragraphs": [
        {"context": "ولد حمزة سنة 568.", "qas": [{"id": "1", "question": "متى ولد حمزة؟", "answers": [{"text": "568", "answer_start": 13}]}]},
        {"context": "قتل حمزة في أحد.", "qas": []}]}]}
    (tmp_path / "src.json").write_text(json.dumps(source, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "nm.tsv").write_text("0#1\tمن قتل حمزة؟\n", encoding="utf-8")
    rows = calibrate_reader.written_rows(str(tmp_path / "src.json"), str(tmp_path / "nm.tsv"), tmp_path)
    assert [(r.question, r.answerable, r.gold_docs) for r in rows] == [("من قتل حمزة؟", False, ("حمزة#1",))]
