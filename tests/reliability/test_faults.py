"""The fault and bad-input battery: every reproduction of issue 8, kept in the suite.

Fake embedder throughout (the model is not the point); a second process is a real subprocess.
"""

from __future__ import annotations

import codecs
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.eval_io import load_questions
from assistant.fakes import HashingEmbedder
from assistant.pipeline import Assistant, QuestionError
from tests.conftest import run_threads
from tests.reliability.conftest import corrupt, vector_count

NEW_DOC = "تقرير جديد عن مكتبة الفسيفساء في مدينة شفشاون وعدد زوارها الذي بلغ سبعة آلاف زائر. " * 12
Q_NEW = "كم عدد زوار مكتبة الفسيفساء في شفشاون؟"


def fresh(settings):
    """A new Assistant over the same folders, as a freshly started process would open them."""
    return Assistant(settings, embedder=HashingEmbedder())


# ---------------------------------------------------------------- 1. one writer, readers follow
def test_a_write_from_a_stale_process_does_not_lose_another_process_ingest(fake_assistant, settings, other_process, tmp_path):
    app = fake_assistant  # the app process: its index was loaded before the other process wrote
    extra = tmp_path / "outside"
    extra.mkdir()
    (extra / "x_report.txt").write_text(NEW_DOC, encoding="utf-8")
    added = other_process(f"""
        report = assistant.ingest([Path({str(extra)!r})], progress=False)
        print(json.dumps(report.added))
    """)
    assert added == ["x_report.txt"]
    assert app.remove("002_bb6b76f039611d3d.txt")  # the app writes: it must start from the newer generation
    sources = {d.source for d in fresh(settings).documents()}
    assert "x_report.txt" in sources and "002_bb6b76f039611d3d.txt" not in sources
    assert "x_report.txt" in {d.source for d in app.documents()}


def test_a_reader_follows_documents_added_by_another_process(fake_assistant, settings, other_process, tmp_path):
    app = fake_assistant
    app.ask("ما موضوع الوثائق؟")  # loaded and searched once (Chroma opened)
    extra = tmp_path / "outside"
    extra.mkdir()
    (extra / "x_report.txt").write_text(NEW_DOC, encoding="utf-8")
    other_process(f"""
        assistant.ingest([Path({str(extra)!r})], progress=False)
        print("{{}}")
    """)
    answer = app.ask(Q_NEW)
    assert any(h.chunk.source == "x_report.txt" for h in answer.passages)
    dense = app.index.dense_search(Q_NEW, 5)  # the vectors written by the other process are found too
    assert any(c.source == "x_report.txt" for c, _ in dense)


def test_a_document_ingested_from_elsewhere_survives_its_file_and_folder_syncs(fake_assistant, tmp_path, docs):
    """Found by scripts/soak.py: an app upload (which syncs the documents folder) dropped a document the CLI
    had ingested from another folder as soon as that file was deleted, before `assistant remove` ran."""
    app = fake_assistant
    extra = tmp_path / "outside"
    extra.mkdir()
    (extra / "x_report.txt").write_text(NEW_DOC, encoding="utf-8")
    app.ingest([extra], progress=False)
    (extra / "x_report.txt").unlink()
    assert not app.index.stale()  # not the documents folder's business
    (docs / "new_upload.txt").write_text("وثيقة مرفوعة جديدة عن مهرجان الشعر في مدينة أصيلة.", encoding="utf-8")
    report = app.ingest(progress=False)  # what an upload does
    assert report.added == ["new_upload.txt"] and report.removed == []
    assert "x_report.txt" in {d.source for d in app.documents()}
    assert app.remove("x_report.txt")  # removed only when asked
    (docs / "new_upload.txt").unlink()
    assert app.index.stale() and app.ingest(progress=False).removed == ["new_upload.txt"]  # the folder is mirrored


def test_writes_from_threads_are_serialised(fake_assistant, docs):

    for i in range(4):
        (docs / f"t{i}.txt").write_text(f"وثيقة رقم {i} عن موضوع مختلف تماما. " * 20, encoding="utf-8")
    errors = []

    def ingest_one(i):
        try:
            fake_assistant.ingest([docs / f"t{i}.txt"], progress=False)
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=ingest_one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert {f"t{i}.txt" for i in range(4)} <= {d.source for d in fake_assistant.documents()}


# ---------------------------------------------------------------- 2. uploads never overwrite
def test_threads_reopening_and_searching_chroma_never_see_a_half_open_store(fake_assistant):
    """Found by scripts/soak.py: questions reopening Chroma (after another process wrote) while other threads
    used it got a client chromadb had not finished starting ('RustBindingsAPI' has no attribute 'bindings')."""
    index = fake_assistant.index
    errors: list[str] = []
    stop = time.time() + 3

    def worker():
        while time.time() < stop:
            try:
                index._reopen_vectors()
                index.vectors.get(limit=1, include=[])
            except Exception as exc:  # any failure is the bug
                errors.append(repr(exc))

    run_threads(*[worker] * 6)
    assert not errors, errors[:3]


def test_a_failed_clean_up_of_old_vectors_does_not_fail_the_write(fake_assistant, monkeypatch):
    index = fake_assistant.index
    monkeypatch.setattr(type(index.vectors), "delete", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("disk busy")))
    assert fake_assistant.remove("002_bb6b76f039611d3d.txt")  # published even though the clean-up failed
    assert "002_bb6b76f039611d3d.txt" not in {d.source for d in fresh(fake_assistant.settings).documents()}


def test_upload_with_an_existing_name_keeps_both(fake_assistant, tmp_path):
    from assistant.app_handlers import AppHandlers

    handlers = AppHandlers(fake_assistant)
    name = "004_86e43c809a7d70f4.txt"
    original = (Path(fake_assistant.settings.docs_dir) / name).read_text(encoding="utf-8")
    upload = tmp_path / name
    upload.write_text(NEW_DOC, encoding="utf-8")
    msg = handlers.upload([str(upload)])
    assert "احتُفظ بالاثنين" in msg
    docs_dir = Path(fake_assistant.settings.docs_dir)
    assert (docs_dir / name).read_text(encoding="utf-8") == original
    assert (docs_dir / "004_86e43c809a7d70f4 (2).txt").read_text(encoding="utf-8") == NEW_DOC
    sources = {d.source for d in fake_assistant.documents()}
    assert {name, "004_86e43c809a7d70f4 (2).txt"} <= sources
    same = handlers.upload([str(docs_dir / name)])  # same content again: nothing changes
    assert "بالمحتوى نفسه" in same and not (docs_dir / "004_86e43c809a7d70f4 (3).txt").exists()


# ---------------------------------------------------------------- 3. ingestion safety
def test_symlinks_are_not_followed(fake_assistant, docs):
    os.symlink("/etc/passwd", docs / "passwd.txt")
    report = fake_assistant.ingest(progress=False)
    assert any("passwd.txt" in e and "symbolic link" in e for e in report.errors)
    assert "passwd.txt" not in {d.source for d in fake_assistant.documents()}
    assert all("root:" not in t for t in fake_assistant.index.texts.values())


def test_cli_ingest_exits_non_zero_listing_failed_files(fake_assistant, docs, monkeypatch):
    from assistant import cli as cli_module

    (docs / "bad.pdf").write_bytes(b"%PDF-1.4 not really")
    monkeypatch.setattr(cli_module.Context, "assistant", property(lambda self: fake_assistant))
    result = CliRunner().invoke(cli_module.main, ["ingest", "--quiet"])
    assert result.exit_code == 1 and "bad.pdf" in result.output and "could not be indexed" in result.output


def test_size_limit_is_a_clear_message(settings, fake_embedder, docs):
    (docs / "huge.txt").write_text("كلمة " * 300_000, encoding="utf-8")  # ~3 MB
    assistant = Assistant(settings.with_(max_document_mb=1), embedder=fake_embedder)
    report = assistant.ingest(progress=False)
    assert any("huge.txt" in e and "ASSISTANT_MAX_DOCUMENT_MB" in e for e in report.errors)
    assert "huge.txt" not in assistant.index.docs


@pytest.mark.parametrize(("encoding", "data_of"), [
    ("cp1256", lambda t: t.encode("cp1256")),
    ("utf-16", lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le")),
    ("utf-8-sig", lambda t: codecs.BOM_UTF8 + t.encode("utf-8")),
])
def test_common_arabic_encodings_are_read_and_reported(settings, fake_embedder, docs, encoding, data_of):
    text = "أعلنت وزارة الثقافة عن افتتاح مكتبة الفسيفساء في مدينة شفشاون، وبلغ عدد زوارها سبعة آلاف زائر في الأسبوع الأول. " * 3
    (docs / "enc.txt").write_bytes(data_of(text))
    assistant = Assistant(settings, embedder=fake_embedder)
    report = assistant.ingest(progress=False)
    assert "enc.txt" in report.added, report.errors
    assert assistant.index.document_text("enc.txt") == text
    info = assistant.index.docs["enc.txt"]
    assert info.encoding.replace("_", "").replace("-", "").lower().startswith(encoding.replace("-", "")[:5])


def test_resume_embeds_only_what_an_interrupted_ingest_did_not(fake_assistant, docs, fake_embedder, monkeypatch):
    from assistant import index as index_module

    monkeypatch.setattr(index_module, "EMBED_BATCH", 64)
    (docs / "long.txt").write_text("فقرة طويلة عن الهجرة والتنمية في أفريقيا. " * 2500, encoding="utf-8")
    calls = {"n": 0}
    original = fake_embedder.embed_documents

    def dies_on_third_batch(texts):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        return original(texts)

    fake_embedder.embed_documents = dies_on_third_batch
    with pytest.raises(RuntimeError):
        fake_assistant.ingest(progress=False)
    fake_embedder.embed_documents = original
    total = len([c for c in fake_assistant.index.chunks_of("long.txt")]) or None
    assert total is None  # not live yet
    before = fake_embedder.calls
    report = fake_assistant.ingest(progress=False)
    assert report.added == ["long.txt"]
    embedded_again = fake_embedder.calls - before
    chunks = len(fake_assistant.index.chunks_of("long.txt"))
    assert 0 < embedded_again <= chunks - 2 * 64  # the first two batches were reused
    assert vector_count(fake_assistant.index) >= len(fake_assistant.index.chunks)


# ---------------------------------------------------------------- 4. self-healing storage
def _live(settings) -> Path:
    return Path(settings.index_dir) / (Path(settings.index_dir) / "CURRENT").read_text().strip()


@pytest.mark.parametrize("damage", ["catalog", "chunks", "lexical", "segment", "texts"])
def test_a_damaged_generation_is_reported_and_rebuilt(fake_assistant, settings, damage, other_process):
    expected = fake_assistant.ask("كم مشاركا حضر حملات التوعية؟").answer
    gen = _live(settings)
    if damage == "catalog":
        (gen / "catalog.json").write_text("{not json", encoding="utf-8")
    elif damage == "chunks":
        corrupt(gen / "chunks.jsonl", 0.5)
    elif damage == "texts":
        corrupt(gen / "texts.jsonl", 0.3)
    elif damage == "lexical":
        (gen / "lexical.json").unlink()
    else:  # a word-index segment lost
        segment = json.loads((gen / "lexical.json").read_text(encoding="utf-8"))["segments"][0]
        shutil.rmtree(Path(settings.index_dir) / "lexical" / segment)
    result = other_process("""
        health = assistant.index.health()
        lines = []
        assistant.ensure_index(progress=False, on_problem=lines.append)
        answer = assistant.ask("كم مشاركا حضر حملات التوعية؟")
        print(json.dumps({"ok": health.ok, "lines": lines, "answer": answer.answer, "after": assistant.index.health().ok}))
    """)
    assert not result["ok"] and len(result["lines"]) == 1 and "rebuilding" in result["lines"][0]
    assert result["after"] and result["answer"] == expected


def test_emptied_chroma_is_noticed_and_vectors_restored(fake_assistant, settings, other_process):
    fake_assistant.index._reopen_vectors()
    (Path(settings.index_dir) / "chroma" / "chroma.sqlite3").write_bytes(b"")
    result = other_process("""
        before = assistant.index.health()
        report = assistant.ensure_index(progress=False)
        after = assistant.index.health()
        hits = assistant.index.dense_search("The campaign ended in Nador", 3)
        print(json.dumps({"before": before.line(), "after": after.ok, "dense": len(hits), "embedded": report.embedded_chunks}))
    """)
    assert "index problem" in result["before"] and result["after"] and result["dense"] == 3
    assert result["embedded"] > 0


def test_half_truncated_chroma_never_leaves_the_cli_unusable(fake_assistant, settings, other_process):
    fake_assistant.index._reopen_vectors()
    corrupt(Path(settings.index_dir) / "chroma" / "chroma.sqlite3", 0.5)
    result = other_process("""
        lines = []
        assistant.ensure_index(progress=False, on_problem=lines.append)
        answer = assistant.ask("كم مشاركا حضر حملات التوعية؟")
        print(json.dumps({"lines": lines, "refused": answer.refused, "ok": assistant.index.health().ok}))
    """)
    assert result["ok"] and not result["refused"]


def test_doctor_prints_health_and_fails_when_damaged(fake_assistant, settings, monkeypatch):
    from assistant import cli as cli_module

    monkeypatch.setattr(cli_module.Context, "assistant", property(lambda self: fake_assistant))
    ok = CliRunner().invoke(cli_module.main, ["doctor"])
    assert ok.exit_code == 0 and "index OK" in ok.output
    (_live(settings) / "catalog.json").write_text("{", encoding="utf-8")
    fake_assistant.index.generation = "stale"  # make it re-read the damaged generation
    bad = CliRunner().invoke(cli_module.main, ["doctor"])
    assert bad.exit_code == 1 and "index problem" in bad.output and "ingest --rebuild" in bad.output
    assert "Traceback" not in bad.output


# ---------------------------------------------------------------- 5. questions
@pytest.mark.parametrize("question", ["؟؟؟!!!", "🙂", "abcdef"[:0] + "\u200b", "!!! ...", "\u202b\u202c"])
def test_content_free_questions_get_a_message_not_an_answer(fake_assistant, question):
    with pytest.raises(QuestionError):
        fake_assistant.ask(question)


def test_history_is_capped(fake_assistant):
    huge = [("سؤال " * 1000, "جواب " * 200_000)] * 50
    capped = fake_assistant.check_history(huge)
    assert len(capped) == fake_assistant.settings.max_history_turns
    assert all(len(u) <= fake_assistant.settings.max_question_chars and len(a) <= fake_assistant.settings.max_question_chars
               for u, a in capped)
    assert fake_assistant.ask("وكم عدد المشاركين؟", history=huge).latency_ms > 0


# ---------------------------------------------------------------- 7. eval inputs
def test_eval_files_in_other_encodings_and_with_arabic_headers(tmp_path):
    jsonl = tmp_path / "q.jsonl"
    questions = ["Où se trouve la campagne organisée à Nador ?", "Quelle était la durée de l'étude réalisée ?"]
    jsonl.write_bytes("".join(json.dumps({"question": q}, ensure_ascii=False) + "\n" for q in questions).encode("latin-1"))
    rows, errors = load_questions(jsonl)
    assert not errors and [r.question for r in rows] == questions
    csv_path = tmp_path / "q.csv"
    csv_path.write_bytes("المعرف,السؤال,قابل للإجابة\nx1,كم عدد المشاركين؟,نعم\n".encode("cp1256"))
    rows, errors = load_questions(csv_path)
    assert not errors and rows[0].id == "x1" and rows[0].question == "كم عدد المشاركين؟"


def test_questions_during_writes_in_the_same_process_read_one_generation(fake_assistant, docs):
    """Found by scripts/soak.py: a question that searched BM25 of one generation and read passages of the next
    (published by an upload meanwhile) failed with IndexError. Each question now reads one snapshot."""
    app = fake_assistant
    errors: list[str] = []
    answered = 0
    stop = time.time() + 4

    def writer():
        k = 0
        while time.time() < stop:
            k += 1
            text = "حضر مشاركا حملات التوعية حول مخاطر الهجرة غير النظامية في مهرجان. " * (1 + k % 7) * 20
            (docs / "0000_churn.txt").write_text(text, encoding="utf-8")  # sorts first: every row shifts
            app.ingest(progress=False)
            (docs / "0000_churn.txt").unlink()
            app.remove("0000_churn.txt")

    def asker():
        nonlocal answered
        while time.time() < stop:
            try:
                app.ask("كم مشاركا حضر حملات التوعية حول مخاطر الهجرة غير النظامية؟")
                answered += 1
            except Exception as exc:  # any failure is the bug
                errors.append(repr(exc))

    run_threads(writer, asker, asker, asker)
    assert answered > 10 and not errors, errors[:3]


def test_a_broken_pdf_fails_once_with_a_message_and_later_checks_stay_quiet(fake_assistant, docs, caplog):
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ngarbage without an end")
    report = fake_assistant.ingest(progress=False)
    assert any("broken.pdf" in e for e in report.errors)
    with caplog.at_level("WARNING"):
        fake_assistant.index.stale()  # what every later `ask` runs: the broken file is read again
        fake_assistant.ask("كم مشاركا حضر حملات التوعية حول مخاطر الهجرة غير النظامية؟")
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
