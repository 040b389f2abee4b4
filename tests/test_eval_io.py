"""Question-set readers: JSONL, CSV, SQuAD; malformed rows are reported and skipped."""

from __future__ import annotations

import json

import pytest

from assistant.eval_io import (
    EvalRow,
    guess_format,
    load_questions,
    load_squad,
)


def test_jsonl_rows_and_malformed_lines(tmp_path):
    lines = [
        json.dumps({"id": "d1", "question": "كم؟", "gold_docs": ["a.txt"], "must": [["20", "عشرين"]],
                    "answerable": True, "history": [["س", "ج"]], "tags": ["multi-turn"]}, ensure_ascii=False),
        "{not json",
        json.dumps({"gold_docs": []}),
        json.dumps({"question": "x", "must": ["not a group list"]}),
        json.dumps({"question": "بلا معرف", "answerable": False}, ensure_ascii=False),
        "",
        json.dumps({"id": "d1", "question": "مكرر"}, ensure_ascii=False),
        json.dumps({"question": "x", "answerable": "maybe"}),
        json.dumps({"id": "q1", "question": "معرف صريح"}, ensure_ascii=False),
        json.dumps({"question": "جواب متوقع", "expected_answer": "الكويت"}, ensure_ascii=False),
        "[1, 2]",
    ]
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows, errors = load_questions(path)
    assert [r.id for r in rows] == ["d1", "q2", "q1", "q3"]  # generated ids skip the explicit q1
    assert rows[0] == EvalRow("d1", "كم؟", (("س", "ج"),), ("a.txt",), (("20", "عشرين"),), (), True, ("multi-turn",))
    assert rows[1].answerable is False and rows[3].expected_answers == ("الكويت",)
    assert [e.split(":")[0] for e in errors] == ["line 2", "line 3", "line 4", "line 7", "line 8", "line 11"]
    assert "duplicate id" in errors[3] and "answerable" in errors[4]


def test_csv_rows_line_numbers_and_multiline_cells(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(
        "id,question,gold_docs,must,expected_answer,answerable,tags,history\n"
        'c1,ما الدولة؟,a.txt;b.txt,الكويت|كويت;مذكرة,الكويت,yes,x;y,"[[""س"", ""ج""]]"\n'
        ',"سؤال على\nسطرين",,,,0,,\n'
        "c3,سؤال,,,,perhaps,,\n"
        'c4,سؤال,,,,,,"[bad json"\n'
        ",,,,,,,\n"
        "c6,الأخير,,,,,,\n",
        encoding="utf-8",
    )
    rows, errors = load_questions(path)
    assert [r.id for r in rows] == ["c1", "q1", "c6"]
    c1 = rows[0]
    assert c1.gold_docs == ("a.txt", "b.txt") and c1.must == (("الكويت", "كويت"), ("مذكرة",))
    assert c1.expected_answers == ("الكويت",) and c1.tags == ("x", "y") and c1.history == (("س", "ج"),)
    assert rows[1].question == "سؤال على\nسطرين" and rows[1].answerable is False
    assert rows[2].answerable is True  # empty cell: default
    assert errors[0].startswith("line 5: answerable") and errors[1].startswith("line 6: history is not valid JSON")


def test_csv_without_question_column(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("id,text\n1,x\n", encoding="utf-8")
    assert load_questions(path) == ([], ["line 1: the header has no 'question' (السؤال) column"])


SQUAD = {"version": "1.1", "data": [
    {"title": "الهند", "paragraphs": [
        {"context": "الهند دولة في آسيا.", "qas": [
            {"id": "1", "question": "أين تقع الهند؟", "answers": [{"text": "آسيا", "answer_start": 14}]},
            {"id": "2", "question": "سؤال بلا جواب", "answers": []}]},
        {"context": "عاصمتها نيودلهي.", "qas": [
            {"question": "ما عاصمة الهند؟", "answers": [{"text": "نيودلهي", "answer_start": 8}, {"text": "نيودلهي"}]}]},
    ]},
    {"title": "a/b", "paragraphs": [{"context": "", "qas": []}, {"context": "نص", "qas": [{"id": "3", "answers": [{"text": "نص"}]}]}]},
    {"title": "الهند", "paragraphs": [{"context": "الهند بلد كبير.", "qas": [
        {"id": "4", "question": "ما الهند؟", "answers": [{"text": "بلد كبير"}]}]}]},
]}


def test_squad_documents_rows_and_errors(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SQUAD, ensure_ascii=False), encoding="utf-8")
    docs, rows, errors = load_squad(path)
    assert [d.source for d in docs] == ["الهند#0", "الهند#1", "a/b#1", "الهند (2)#0"]
    assert docs[1].text == "عاصمتها نيودلهي." and docs[1].title == "الهند"
    assert [(r.id, r.gold_docs, r.expected_answers) for r in rows] == [
        ("1", ("الهند#0",), ("آسيا",)), ("q1", ("الهند#1",), ("نيودلهي",)), ("4", ("الهند (2)#0",), ("بلد كبير",))]
    assert all(r.answerable for r in rows)
    assert errors == ["article 0 paragraph 0 question 1: no answers", "article 1 paragraph 0: no context text",
                      "article 1 paragraph 1 question 0: no question"]
    assert load_questions(path)[0] == rows and guess_format(path) == "squad"


def test_squad_not_squad(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("[]", encoding="utf-8")
    assert load_squad(path) == ([], [], ["the file has no 'data' list (not SQuAD JSON)"])


def test_unknown_extension_needs_format(tmp_path):
    with pytest.raises(ValueError, match="--format"):
        guess_format(tmp_path / "q.txt")
    assert guess_format(tmp_path / "q.txt", "csv") == "csv"
