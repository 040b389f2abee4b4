"""Server mode: the same Index over a real Chroma server (`chroma run`, shipped with chromadb) on loopback.

Fake embedder (the vector store is the point here); the server is started once for the module.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.fakes import HashingEmbedder
from assistant.pipeline import Assistant
from assistant.settings import PROJECT_ROOT
from tests.conftest import free_port

Q150 = "كم مشاركا حضر حملات التوعية حول مخاطر الهجرة غير النظامية؟"
NEW_DOC = "تقرير جديد: افتتحت محطة تحلية مياه البحر في مدينة الداخلة بطاقة إنتاجية تبلغ 37 مليون متر مكعب سنويا."
Q_NEW = "ما الطاقة الإنتاجية لمحطة تحلية مياه البحر في الداخلة؟"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    chroma = Path(sys.executable).parent / "chroma"
    assert chroma.exists(), "the `chroma` command ships with the chromadb package"
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/api/v2/heartbeat", timeout=2):
                break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("chroma run did not start")
            time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def remote(settings, chroma_url, request):
    # one collection per test: the server outlives each test's index folder
    name = "t" + str(abs(hash(request.node.name)) % 10**8)
    return settings.with_(chroma_url=chroma_url, chroma_collection=name)


def _server_ids(settings) -> set[str]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    host, port = settings.chroma_url.rsplit(":", 1)
    client = chromadb.HttpClient(host=host.split("//")[1], port=int(port), settings=ChromaSettings(anonymized_telemetry=False))
    found = [c for c in client.list_collections()
             if c.name.startswith(settings.chroma_collection + "_") and "_docs_" not in c.name]  # the vectors
    return set(found[0].get(include=[])["ids"]) if found else set()


def test_ingest_ask_and_remove_keep_the_vectors_on_the_server(remote):
    assistant = Assistant(remote, embedder=HashingEmbedder())
    assistant.ingest(progress=False)
    assert not (remote.index_dir / "chroma").exists()  # nothing embedded locally
    ids = _server_ids(remote)
    assert ids and ids == set(assistant.index.by_vector_id)
    answer = assistant.ask(Q150)
    assert not answer.refused and "150" in answer.answer
    assert assistant.index.dense_search(Q150, 5)  # the dense side answers from the server
    assert assistant.index.health().ok
    assert assistant.remove("004_86e43c809a7d70f4.txt")
    assert not any(i.startswith("004_86e43c809a7d70f4.txt#") for i in _server_ids(remote))


def test_two_app_processes_sharing_the_server_see_each_others_uploads(remote, tmp_path):
    app = Assistant(remote, embedder=HashingEmbedder())
    app.ingest(progress=False)
    app.ask(Q150)  # loaded and searched once
    extra = tmp_path / "outside"
    extra.mkdir()
    (extra / "x_report.txt").write_text(NEW_DOC, encoding="utf-8")
    code = textwrap.dedent(f"""
        import json
        from pathlib import Path
        from assistant.fakes import HashingEmbedder
        from assistant.pipeline import Assistant
        from assistant.settings import Settings
        settings = Settings(docs_dir=Path({str(remote.docs_dir)!r}), index_dir=Path({str(remote.index_dir)!r}),
                            chroma_url={remote.chroma_url!r}, chroma_collection={remote.chroma_collection!r},
                            answer_mode="extractive", reader_dir=Path("/nonexistent"))
        other = Assistant(settings, embedder=HashingEmbedder())
        print(json.dumps(other.ingest([Path({str(extra)!r})], progress=False).added))
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == ["x_report.txt"]
    answer = app.ask(Q_NEW)  # the first process follows, and finds the other's vectors on the server
    assert any(c.source == "x_report.txt" for c, _ in app.index.dense_search(Q_NEW, 5))
    assert any(h.chunk.source == "x_report.txt" for h in answer.passages)


def test_a_rebuild_restores_vectors_deleted_on_the_server(remote):
    assistant = Assistant(remote, embedder=HashingEmbedder())
    assistant.ingest(progress=False)
    some = sorted(assistant.index.by_vector_id)[:3]
    assistant.index.vectors.delete(ids=some)
    health = assistant.index.health()
    assert not health.ok and "3 of" in health.line()
    embedded: list[str] = []
    original = assistant.embedder.embed_documents
    assistant.embedder.embed_documents = lambda texts: embedded.extend(texts) or original(texts)
    assistant.index.rebuild(progress=False)
    assert len(embedded) == 3 and assistant.index.health().ok  # only what the server lost is embedded again


def test_an_unreachable_server_is_one_clear_line_and_word_search_still_answers(settings, monkeypatch):
    from assistant import cli as cli_module

    down = settings.with_(chroma_url=f"http://127.0.0.1:{free_port()}")
    dead = Assistant(down, embedder=HashingEmbedder())
    monkeypatch.setattr(cli_module.Context, "assistant", property(lambda self: dead))
    result = CliRunner().invoke(cli_module.main, ["ingest", "--quiet"])
    assert result.exit_code == 1 and "Chroma server" in result.output and "Traceback" not in result.output
    assert not (settings.index_dir / "CURRENT").exists()  # nothing half-published
    bad = settings.with_(chroma_url="localhost:8000")
    with pytest.raises(Exception, match="not an http"):
        Assistant(bad, embedder=HashingEmbedder()).index.vectors  # noqa: B018
    # vectors elsewhere: a built local index keeps answering by words when pointed at a dead server
    local = Assistant(settings, embedder=HashingEmbedder())
    local.ingest(progress=False)
    shutil.rmtree(settings.index_dir / "chroma")
    stranded = Assistant(down, embedder=HashingEmbedder())
    answer = stranded.ask(Q150)
    assert not answer.refused and "150" in answer.answer
    assert any("cannot be searched" in p for p in stranded.index.problems)


def test_a_write_starts_from_the_servers_latest_and_removes_only_what_it_replaced(remote, tmp_path):
    a = Assistant(remote, embedder=HashingEmbedder())
    a.ingest(progress=False)
    other_docs = tmp_path / "other-docs"
    other_docs.mkdir()
    (other_docs / "x_report.txt").write_text(NEW_DOC, encoding="utf-8")
    b = Assistant(remote.with_(docs_dir=other_docs, index_dir=tmp_path / "other-index"), embedder=HashingEmbedder())
    b.ingest(progress=False)  # another machine: takes A's documents from the server, adds its own file
    assert a.remove("004_86e43c809a7d70f4.txt")  # A's write first follows B's generation, then removes
    ids = _server_ids(remote)
    assert {i for i in b.index.by_vector_id if i.startswith("x_report.txt#")} <= ids  # B's vectors survive A's clean-up
    assert not any(i.startswith("004_86e43c809a7d70f4.txt#") for i in ids)
    assert "x_report.txt" in {d.source for d in a.documents()}
    assert any(c.source == "x_report.txt" for c, _ in a.index.dense_search(Q_NEW, 5))


def test_replicas_that_share_only_the_server_follow_each_other(remote, tmp_path, monkeypatch):
    """Two app replicas on different machines: own documents folder, own index folder, one Chroma server."""
    from assistant import index as index_module

    monkeypatch.setattr(index_module, "POLL_SECONDS", 0.0)
    a = Assistant(remote, embedder=HashingEmbedder())
    a.ingest(progress=False)
    b_docs = tmp_path / "b-docs"
    b_docs.mkdir()
    b_embedder = HashingEmbedder()
    passages_embedded: list[str] = []
    original = b_embedder.embed_documents
    b_embedder.embed_documents = lambda texts: passages_embedded.extend(texts) or original(texts)
    b = Assistant(remote.with_(docs_dir=b_docs, index_dir=tmp_path / "b-index"), embedder=b_embedder)
    answer = b.ask(Q150)  # B pulls A's documents from the server: texts and catalog, not vectors
    assert not answer.refused and "150" in answer.answer
    assert {d.source for d in b.documents()} == {d.source for d in a.documents()}
    assert passages_embedded == []  # the vectors were on the server already
    extra = tmp_path / "outside"
    extra.mkdir()
    (extra / "x_report.txt").write_text(NEW_DOC, encoding="utf-8")
    a.ingest([extra], progress=False)  # A adds a document
    assert any(h.chunk.source == "x_report.txt" for h in b.ask(Q_NEW).passages)
    b.ingest(progress=False)  # B syncs its own (empty) folder: documents of other machines are not its to drop
    assert "x_report.txt" in {d.source for d in b.documents()}
    assert b.remove("x_report.txt")  # B removes it: A follows
    assert "x_report.txt" not in {d.source for d in a.documents()}
    assert "004_86e43c809a7d70f4.txt" in {d.source for d in a.documents()}
