"""run_eval, compare_runs and the ``assistant eval`` command with the fake embedder."""

from __future__ import annotations

import json

from click.testing import CliRunner

from assistant.cli import Context
from assistant.eval_io import EvalRow
from assistant.evaluation import compare_runs, eval_command, run_eval
from assistant.pipeline import Assistant

ROWS = [
    EvalRow("a1", "كم سنة امتدت الدراسة المشتركة بين المنظمة الدولية للهجرة وجامعة هارفارد؟",
            gold_docs=("000_7dfb691abdf7e042.txt",), must=(("عشرين", "20"),), tags=("num",)),
    EvalRow("empty", "   "),  # raises QuestionError: recorded, the run goes on
    EvalRow("u1", "ما سعر صرف الدولار مقابل الدرهم المغربي اليوم؟", answerable=False),
    EvalRow("a2", "متى انطلقت الحملة الوطنية للتوعية الخاصة بالأطفال غير المصحوبين في المغرب؟",
            gold_docs=("004_86e43c809a7d70f4.txt",), must=(("2024",),), expected_answers=("2024",)),
]


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_run_eval_writes_the_three_files_and_survives_errors(fake_assistant, tmp_path):
    seen = []
    summary = run_eval(fake_assistant, ROWS, tmp_path / "run", meta={"input_file": "x.jsonl"},
                       on_progress=lambda i, n: seen.append((i, n)))
    assert seen[-1] == (4, 4)
    records = read(tmp_path / "run" / "results.jsonl")
    assert [r["id"] for r in records] == ["a1", "empty", "u1", "a2"]
    err = records[1]
    assert err["error"].startswith("QuestionError") and err["eval"]["error"] is True
    ok = records[0]
    assert {"question", "answer", "refused", "citations", "passages", "latency_ms", "mode", "eval", "gold"} <= set(ok)
    assert ok["eval"]["hit@5"] is not None and "error" not in ok
    assert summary["counts"]["rows"] == 4 and summary["counts"]["errors"] == 1
    assert summary["denominators"]["unanswerable"] == 1 and summary["denominators"]["retrieval"] == 2
    meta = summary["meta"]
    assert meta["embedding_model"]["name"] == "fake-hashing" and meta["input_file"] == "x.jsonl"
    assert len(meta["index_fingerprint"]) == 16 and meta["git_commit"]
    assert meta["settings"]["docs_dir"] == str(fake_assistant.settings.docs_dir)
    assert meta["timings"]["wall_seconds"] >= 0
    assert json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8")) == summary
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert '<html dir="rtl" lang="ar">' in html and "data:image/png;base64," in html


def test_run_eval_on_no_rows(fake_assistant, tmp_path):
    summary = run_eval(fake_assistant, [], tmp_path / "run")
    assert summary["counts"]["rows"] == 0 and summary["metrics"]["hit@1"] is None
    assert (tmp_path / "run" / "report.html").exists()


def test_compare_two_runs(fake_assistant, tmp_path):
    rows = [r for r in ROWS if r.id != "empty"]
    run_eval(fake_assistant, rows, tmp_path / "a")
    refusing = Assistant(fake_assistant.settings.with_(refusal_threshold=2.0), embedder=fake_assistant.embedder)
    run_eval(refusing, rows, tmp_path / "b")
    a = {r["id"]: r["eval"] for r in read(tmp_path / "a" / "results.jsonl")}
    c = compare_runs(tmp_path / "a", tmp_path / "b")
    assert c["metrics"]["false_refusal_rate"]["b"] == 1.0
    answered_before = [q for q in ("a1", "a2") if not a[q]["refused"]]
    assert answered_before, "the fake assistant should answer at least one question"
    assert {i["id"] for i in c["regressed"]} == set(answered_before)
    assert all("refusal_correct" in i["criteria"] for i in c["regressed"])
    assert c["improved"] == [] and c["only_in_a"] == [] == c["only_in_b"]
    result = CliRunner().invoke(eval_command, ["--compare", str(tmp_path / "a"), str(tmp_path / "b"),
                                               "--out", str(tmp_path / "cmp")], obj=Context(fake_assistant.settings))
    assert result.exit_code == 0, result.output
    assert "false_refusal_rate" in result.output and "regressed: " in result.output
    assert json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))["regressed"]


def _context(assistant):
    ctx = Context(assistant.settings)
    ctx._assistant = assistant
    return ctx


def test_cli_eval_jsonl_with_limit_and_malformed(fake_assistant, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text("\n".join([
        json.dumps({"id": "x1", "question": ROWS[0].question, "gold_docs": list(ROWS[0].gold_docs), "must": [["20"]]}),
        "{oops",
        json.dumps({"id": "x2", "question": ROWS[2].question, "answerable": False}),
        json.dumps({"id": "x3", "question": ROWS[3].question}),
    ]), encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(eval_command, [str(path), "--out", str(out), "--limit", "2", "--top-k", "3"],
                                obj=_context(fake_assistant))
    assert result.exit_code == 0, result.output
    assert "malformed: line 2: invalid JSON" in result.output and "report:" in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["rows"] == 2 and summary["counts"]["malformed_rows"] == 1
    assert summary["retrieval_depth"] == 3 and summary["meta"]["settings"]["top_k"] == 3
    assert summary["meta"]["input_sha256"] and summary["meta"]["input_format"] == "jsonl"
    assert all(len(r["passages"]) <= 3 for r in read(out / "results.jsonl"))


def test_cli_eval_squad_indexes_paragraphs_separately(fake_assistant, tmp_path):
    squad = {"version": "1.1", "data": [{"title": "خاشقجي/صحفي", "paragraphs": [
        {"context": "جمال خاشقجي صحفي وإعلامي سعودي ولد في المدينة المنورة.",
         "qas": [{"id": "s1", "question": "ما مهنة جمال خاشقجي؟", "answers": [{"text": "صحفي وإعلامي"}]}]},
        {"context": "عمل مديرا عاما لقناة العرب الإخبارية.",
         "qas": [{"id": "s2", "question": "أي قناة أدارها؟", "answers": [{"text": "قناة العرب الإخبارية"}]}]},
    ]}]}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    runs = tmp_path / "runs"
    for name in ("r1", "r2"):
        result = CliRunner().invoke(eval_command, [str(path), "--squad", "--out", str(runs / name)],
                                    obj=_context(fake_assistant))
        assert result.exit_code == 0, result.output
    folders = list((runs / "squad-index").iterdir())
    assert len(folders) == 1  # reused by the second run
    records = read(runs / "r2" / "results.jsonl")
    assert records[0]["gold"]["gold_docs"] == ["خاشقجي/صحفي#0"]  # sources are exactly <title>#<paragraph>
    assert {p["source"] for r in records for p in r["passages"]} <= {"خاشقجي/صحفي#0", "خاشقجي/صحفي#1"}
    assert all(p["chunk_id"].startswith(p["source"] + "#") for r in records for p in r["passages"])
    summary = json.loads((runs / "r2" / "summary.json").read_text(encoding="utf-8"))
    assert summary["meta"]["documents"] == 2 and summary["denominators"]["expected_answers"] == 2
    assert summary["metrics"]["hit@5"] == 1.0  # only two paragraphs: both are always retrieved
    assert len(fake_assistant.documents()) == 5  # the seeds index is untouched


def test_cli_eval_needs_a_file(fake_assistant):
    result = CliRunner().invoke(eval_command, [], obj=_context(fake_assistant))
    assert result.exit_code == 2 and "--compare" in result.output


def test_cli_eval_accepts_reader_mode(fake_assistant, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "x1", "question": ROWS[0].question, "must": [["20", "عشرين"]]}), encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(eval_command, [str(path), "--out", str(out), "--mode", "reader"], obj=_context(fake_assistant))
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["meta"]["settings"]["answer_mode"] == "reader"
    record = read(out / "results.jsonl")[0]  # no reader weights in the test settings: the notice says so
    assert "reader" in record["notice"] and record["mode"] == "extractive"
