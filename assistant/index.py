"""The persisted index: Chroma vectors + BM25 + a catalog, updated incrementally.

Layout under ``index_dir``::

    chroma/          chromadb PersistentClient (cosine space); may hold stale vectors
    gen-<stamp>/     one complete generation: catalog.json, chunks.jsonl (offsets), texts.jsonl, lexical.json
    lexical/         BM25 segments (immutable, shared by generations; lexical.json lists a generation's)
    CURRENT          the name of the live generation (replaced atomically)

A generation is written in full and only then made live by replacing CURRENT, so
an interrupted ingest leaves the previous index usable. One writer at a time: every write
takes ``.write.lock`` (an inter-process ``flock``, plus a thread lock) and first reloads the
live generation, so no write starts from a stale one; readers call ``refresh()`` and follow
a newer generation written by any process. A generation that cannot be read, a missing BM25
folder or vectors missing from Chroma are reported by ``health()`` and mended by ``rebuild()``,
which re-embeds only what is missing. Vectors are keyed by
``<chunk_id>@<content hash>`` and dense hits are kept only when the live catalog
knows them, so vectors written by an interrupted run are ignored, and removed on
the next successful ingest.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import random
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .chunking import chunk_document
from .lexical import LexicalIndex
from .loaders import LoadError, find_files, load_document
from .settings import Settings
from .types import Chunk, Document

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0  # server mode: how often a reader asks the Chroma server for a newer generation
GENERATION_ID = "__generation__"  # the record in the documents collection naming the last published generation
EMBED_BATCH = 2048  # chunks embedded (length-sorted) and written to Chroma per step
_THREAD_LOCKS: dict[str, threading.RLock] = {}
_CHROMA_OPEN = threading.Lock()  # chromadb's client cache is not thread-safe: open/forget clients one at a time
_HELD = threading.local()


@dataclass(frozen=True)
class Health:
    generation: str
    documents: int
    chunks: int
    vectors_checked: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        if self.ok:
            return f"index OK: {self.documents} documents, {self.chunks} passages, {self.vectors_checked} vectors checked ({self.generation or 'empty'})"
        return "index problem: " + "; ".join(self.problems)


@dataclass(frozen=True)
class DocInfo:
    source: str
    title: str
    hash: str
    chars: int
    chunks: int
    indexed_at: str
    path: str = ""
    encoding: str = ""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    embedded_chunks: int = 0
    total_chunks: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated", f"{len(self.removed)} removed",
                 f"{len(self.unchanged)} unchanged", f"{self.embedded_chunks} chunks embedded",
                 f"{self.total_chunks} chunks in index"]
        if self.errors:
            parts.append(f"{len(self.errors)} errors")
        return ", ".join(parts)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _vector_ids(chunks: list[Chunk], docs: dict) -> list[str]:
    """Every chunk's vector id, in chunk order (the keys of Chroma and of the word index)."""
    return [_vector_id(c, docs[c.source].hash) for c in chunks]


def _vector_id(chunk: Chunk, doc_hash: str) -> str:
    return f"{chunk.chunk_id}@{doc_hash}"


def embedding_text(chunk: Chunk) -> str:
    """What is embedded for a passage: its text, preceded by the document title unless it starts with it."""
    return f"{chunk.title}\n{chunk.text}" if chunk.title and not chunk.text.startswith(chunk.title) else chunk.text


def _under(path: str, folders) -> bool:
    """Is a document's recorded path inside one of the (resolved) folders?"""
    real = Path(os.path.realpath(path))
    return any(Path(path).is_relative_to(folder) or real.is_relative_to(folder) for folder in folders)


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class VectorStoreUnavailable(RuntimeError):
    """The Chroma server (``ASSISTANT_CHROMA_URL``) cannot be used: bad address, unreachable, refused."""


class Snapshot:
    """One generation as served: documents, texts, chunks and BM25 that belong together.

    The index swaps its snapshot in one assignment; a question takes one (``Index.view()``) and reads only
    from it, so a generation published by another thread or process mid-question cannot mix with it."""

    def __init__(self, index: Index, fingerprint: str, docs: dict[str, DocInfo], texts: dict[str, str],
                 chunks: list[Chunk], lexical: LexicalIndex):
        self._index = index
        self.fingerprint_stored = fingerprint
        self.docs, self.texts, self.chunks, self.lexical = docs, texts, chunks, lexical
        self.by_id = {c.chunk_id: c for c in chunks}
        self.by_vector_id = dict(zip(_vector_ids(chunks, docs), chunks, strict=True))

    @property
    def is_empty(self) -> bool:
        return not self.chunks

    def documents(self) -> list[DocInfo]:
        return sorted(self.docs.values(), key=lambda d: d.source)

    def document_text(self, source: str) -> str:
        return self.texts[source]

    def chunks_of(self, source: str) -> list[Chunk]:
        return [c for c in self.chunks if c.source == source]

    def dense_search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        if self.is_empty:
            return []
        index = self._index
        vector = index.embedder.embed_query(query)
        try:
            # ids and distances only: the passages' text lives in the generation, not in Chroma
            found = index.vectors._collection.query(query_embeddings=[vector], n_results=min(k * 2, len(self.chunks) * 2),
                                                    include=["distances"])
        except Exception as exc:  # a broken vector store must not take word search down with it
            problem = f"the vector store (Chroma) cannot be searched ({exc.__class__.__name__})"
            if problem not in index.problems:
                index.problems.append(problem)
            return []
        out: list[tuple[Chunk, float]] = []
        for vid, distance in zip(found["ids"][0], found["distances"][0], strict=True):
            chunk = self.by_vector_id.get(vid)  # vectors of unfinished ingests are not live
            if chunk is not None:
                out.append((chunk, 1.0 - float(distance)))
        return out[:k]

    def lexical_search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        return [(self.chunks[i], s) for i, s in self.lexical.search(query, k)]


class Index:
    """Documents, chunks, vectors and BM25 for one ``index_dir`` and one embedding model."""

    def __init__(self, settings: Settings, embedder):
        self.settings = settings
        self.embedder = embedder
        self.dir = Path(settings.index_dir)
        self._vectors = None
        self._refresh_lock = threading.RLock()
        self._docs_coll = None  # server mode: the documents collection (texts + catalog + generation)
        self._polled = 0.0
        self._pulling = False
        self._seen_remote = ""
        self.origin = f"{socket.gethostname()}:{self.dir.resolve()}"  # which machine and folder wrote a document
        self.generation = ""  # name of the generation this object serves
        self.problems: list[str] = []  # what was wrong when it was loaded
        self._load()

    # ----------------------------------------------------------------- loading
    def _current_name(self) -> str:
        try:
            return (self.dir / "CURRENT").read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return ""

    def _live_generation(self) -> Path | None:
        name = self._current_name()
        gen = self.dir / name if name else None
        return gen if gen is not None and (gen / "catalog.json").exists() else None

    def _load(self, attempts: int = 3) -> None:
        """Serve the live generation; an unreadable one is reported (``problems``) and served as empty."""
        for _ in range(attempts - 1):  # a writer may switch generations while we read: read the new one
            name = self._current_name()
            self._load_once()
            if not self.problems or self._current_name() == name:
                return
        self._load_once()

    def _load_once(self) -> None:
        self.problems = []
        name = self._current_name()
        self.generation = name
        gen = self.dir / name if name else None
        empty = ("", {}, {}, [], LexicalIndex())
        if gen is None:
            self._set(*empty)
            return
        try:
            catalog = json.loads((gen / "catalog.json").read_text(encoding="utf-8"))
            docs = {d["source"]: DocInfo(**d) for d in catalog["documents"]}
            texts = {r["source"]: r["text"] for r in _read_jsonl(gen / "texts.jsonl")}
            # a passage's text is document[start:end]: stored once, in texts.jsonl (older generations also kept it here)
            chunks = [Chunk(**r) if "text" in r else Chunk(**r, text=texts[r["source"]][r["start"] : r["end"]])
                      for r in _read_jsonl(gen / "chunks.jsonl")]
            if sum(d.chunks for d in docs.values()) != len(chunks) or set(texts) != set(docs):
                raise ValueError("catalog, chunks and texts disagree")
            keys = _vector_ids(chunks, docs)
            if (gen / "lexical.json").exists():
                names = json.loads((gen / "lexical.json").read_text(encoding="utf-8"))["segments"]
                lexical = LexicalIndex.load(self.dir / "lexical", names, keys)
            elif chunks and (gen / "bm25").is_dir():  # written by an earlier version: word index built again in memory
                lexical = LexicalIndex.build([c.text for c in chunks], keys)
            elif chunks:
                raise ValueError("the word index (lexical.json) is missing")
            else:
                lexical = LexicalIndex()
        except Exception as exc:  # corrupt JSON, truncated file, missing part ...
            self.problems.append(f"generation {name} cannot be read ({exc.__class__.__name__}: {exc})"[:300])
            self._set(*empty)
            return
        self._set(catalog.get("fingerprint", ""), docs, texts, chunks, lexical)

    def refresh(self, poll: bool = False) -> bool:
        """Follow a newer generation published by any writer (this or another process; in server mode
        also one published by another machine through the Chroma server, asked at most every POLL_SECONDS
        unless ``poll``: a write always asks first)."""
        if self.remote:
            self._follow_server(poll)
        if self._current_name() == self.generation:
            return False
        with self._refresh_lock:  # concurrent questions: one thread reloads, the others then see it done
            name = self._current_name()
            if name == self.generation:
                return False
            writer_pid = name.split("-")[3] if name.count("-") >= 4 else ""
            if writer_pid and writer_pid != str(os.getpid()):
                self._reopen_vectors()  # Chroma's local client does not see another process's new vectors
            self._load()
            return True

    def _reopen_vectors(self) -> None:
        if self._vectors is None or self.remote:  # a Chroma server serves every client's writes at once
            return
        from chromadb.api.shared_system_client import SharedSystemClient

        with _CHROMA_OPEN:
            # the local client caches one System per path; forget it so the next open reads the files again
            SharedSystemClient._identifier_to_system.pop(str(self.dir / "chroma"), None)
            self._vectors = None

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time across threads and processes; the write starts from the live generation."""
        self.dir.mkdir(parents=True, exist_ok=True)
        key = str(self.dir.resolve())
        lock = _THREAD_LOCKS.setdefault(key, threading.RLock())
        held = getattr(_HELD, "keys", None) or set()
        _HELD.keys = held
        with lock:
            if key in held:  # re-entered by this thread: already locked
                yield
                return
            with (self.dir / ".write.lock").open("a") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                held.add(key)
                try:
                    self.refresh(poll=True)
                    yield
                finally:
                    held.discard(key)
                    fcntl.flock(f, fcntl.LOCK_UN)

    def vector_problems(self, sample: int = 20000) -> tuple[list[str], int]:
        """(problems, vectors checked): every live passage must have its vector in Chroma."""
        ids = list(self.by_vector_id)
        if not ids:
            return [], 0
        if len(ids) > sample:
            ids = random.Random(0).sample(ids, sample)
        try:
            found = set()
            for i in range(0, len(ids), 5000):
                found.update(self.vectors.get(ids=ids[i : i + 5000], include=[])["ids"])
        except Exception as exc:
            return [f"the vector store (Chroma) cannot be read ({exc.__class__.__name__}: {exc})"[:300]], 0
        missing = len(ids) - len(found)
        return ([f"{missing} of {len(ids)} passages have no vector in Chroma"] if missing else []), len(ids)

    def health(self) -> Health:
        """Checked under the write lock: no writer is between adding vectors and publishing them."""
        with self.write_lock():
            problems, checked = self.vector_problems()
            return Health(self.generation, len(self.docs), len(self.chunks), checked, tuple(self.problems + problems))

    def _set(self, fingerprint: str, docs: dict[str, DocInfo], texts: dict[str, str], chunks: list[Chunk],
             lexical: LexicalIndex) -> None:
        """Make a generation the one this object serves (read from disk or just written): one assignment."""
        self._state = Snapshot(self, fingerprint, docs, texts, chunks, lexical)

    def view(self) -> Snapshot:
        """The generation served now, fixed: what one question reads from start to end."""
        return self._state

    # the served generation's parts (each read on its own; use ``view()`` to read several together)
    fingerprint_stored = property(lambda self: self._state.fingerprint_stored)
    docs = property(lambda self: self._state.docs)
    texts = property(lambda self: self._state.texts)
    chunks = property(lambda self: self._state.chunks)
    lexical = property(lambda self: self._state.lexical)
    by_id = property(lambda self: self._state.by_id)
    by_vector_id = property(lambda self: self._state.by_vector_id)

    @property
    def fingerprint(self) -> str:
        return self.embedder.fingerprint

    @property
    def is_empty(self) -> bool:
        return self._state.is_empty

    @property
    def remote(self) -> bool:
        """Vectors on a Chroma server (``ASSISTANT_CHROMA_URL``) rather than in ``index_dir/chroma``."""
        return bool(self.settings.chroma_url)

    def _client(self, chromadb, chroma_settings):
        quiet = chroma_settings(anonymized_telemetry=False)
        if not self.remote:
            return chromadb.PersistentClient(path=str(self.dir / "chroma"),
                                             settings=chroma_settings(anonymized_telemetry=False, allow_reset=True))
        url = urlsplit(self.settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise VectorStoreUnavailable(f"ASSISTANT_CHROMA_URL={self.settings.chroma_url!r} is not an http(s)://host:port address")
        token = self.settings.chroma_token
        try:
            return chromadb.HttpClient(
                host=url.hostname, port=url.port or (443 if url.scheme == "https" else 8000), ssl=url.scheme == "https",
                headers={"Authorization": f"Bearer {token}"} if token else None, settings=quiet,
                tenant=self.settings.chroma_tenant, database=self.settings.chroma_database,
            )
        except Exception as exc:  # connection refused, auth, unknown tenant/database ...
            raise VectorStoreUnavailable(f"the Chroma server at {self.settings.chroma_url} cannot be used "
                                         f"({exc.__class__.__name__}: {exc})"[:400]) from exc

    @property
    def vectors(self):
        """The langchain-chroma store (opened lazily; telemetry off; cosine space)."""
        vectors = self._vectors
        if vectors is not None:
            return vectors
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        with _CHROMA_OPEN:  # a second thread must not pick up a client another thread has not finished starting
            if self._vectors is None:
                client = self._client(chromadb, ChromaSettings)
                name = f"{self.settings.chroma_collection}_" + hashlib.sha1(self.fingerprint.encode()).hexdigest()[:12]
                try:
                    self._vectors = Chroma(
                        collection_name=name, embedding_function=self.embedder, client=client,
                        collection_metadata={"hnsw:space": "cosine", "model": self.embedder.info.name},
                    )
                except Exception as exc:
                    if not self.remote:
                        raise
                    raise VectorStoreUnavailable(f"the Chroma server at {self.settings.chroma_url} cannot be used "
                                                 f"({exc.__class__.__name__}: {exc})"[:400]) from exc
            return self._vectors

    # ------------------------------------------------------------------ reading
    def documents(self) -> list[DocInfo]:
        return self._state.documents()

    def document_text(self, source: str) -> str:
        return self._state.document_text(source)

    def chunks_of(self, source: str) -> list[Chunk]:
        return self._state.chunks_of(source)

    def dense_search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        return self._state.dense_search(query, k)

    def lexical_search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        return self._state.lexical_search(query, k)

    # ------------------------------------------------------------------ writing
    def stale(self, paths: list[Path] | None = None) -> bool:
        """True when files on disk differ from the live index (or the model changed)."""
        if self.fingerprint_stored and self.fingerprint_stored != self.fingerprint:
            return True
        if self.docs and not any(d.path for d in self.docs.values()):
            return False  # built from documents (ingest_documents), not from a folder
        files, folders = find_files(paths or [self.settings.docs_dir])
        seen = {}
        for f in files:
            try:
                seen[f.name] = content_hash(load_document(f, self.settings.max_document_mb).text)
            except LoadError:
                continue
        # documents ingested from elsewhere (another folder, a single file) are not this folder's business
        mine = {s: d.hash for s, d in self.docs.items() if s in seen or not d.path or _under(d.path, folders)}
        return seen != mine

    def ingest(self, paths: list[Path] | None = None, progress: bool = True,
               on_progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Bring the index in line with the files under ``paths`` (default: docs_dir)."""
        with self.write_lock():
            return self._ingest_files(paths, progress, on_progress, force=False)

    def rebuild(self, progress: bool = True, on_progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Mend the index from the documents folder: a new generation from the files; only passages
        whose vector is missing are embedded again. An unreadable Chroma store is started anew."""
        with self.write_lock():
            problems, _ = self.vector_problems()
            if any("cannot be read" in p for p in problems) and not self.remote:
                self._reopen_vectors()
                self._vectors = None
                shutil.rmtree(self.dir / "chroma", ignore_errors=True)
            return self._ingest_files(None, progress, on_progress, force=True)

    def _ingest_files(self, paths, progress, on_progress, force: bool) -> IngestReport:
        report = IngestReport()
        files, folders = find_files([Path(p) for p in (paths or [self.settings.docs_dir])])
        docs: dict[str, Document] = {}
        for f in files:
            try:
                doc = load_document(f, self.settings.max_document_mb)
            except (LoadError, OSError) as exc:
                report.errors.append(str(exc))
                continue
            if doc.source in docs:
                report.errors.append(f"{f}: another file named {doc.source} was already read; file names are citation sources and must be unique")
                continue
            docs[doc.source] = doc

        def drop(info: DocInfo) -> bool:  # a document not read this time
            # gone from a folder just scanned: removed. A file ingested from elsewhere stays until
            # `assistant remove`, even if that file is deleted: the index keeps its text.
            return not info.path or _under(info.path, folders)

        return self._sync(docs, drop, report, progress, on_progress, force)

    def ingest_documents(self, documents: list[Document], progress: bool = True,
                         on_progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Make the index hold exactly ``documents`` (their ``source`` is the citation source).

        For collections that are not files, e.g. the paragraphs of a SQuAD benchmark.
        """
        report = IngestReport()
        docs: dict[str, Document] = {}
        for doc in documents:
            if doc.source in docs:
                report.errors.append(f"duplicate source {doc.source!r}: the second one was skipped")
            elif not doc.text.strip():
                report.errors.append(f"{doc.source}: no text")
            else:
                docs[doc.source] = doc
        with self.write_lock():
            return self._sync(docs, lambda info: True, report, progress, on_progress)

    def _sync(self, docs: dict[str, Document], drop: Callable[[DocInfo], bool], report: IngestReport,
              progress: bool, on_progress, force: bool = False, name: str = "", push: bool = True) -> IngestReport:
        """Embed new/changed ``docs``; remove the unlisted ones ``drop`` says so; commit.

        ``force``: treat every document as new (a rebuild); vectors already stored are reused."""
        state = self.view()
        rebuild = bool(state.fingerprint_stored) and state.fingerprint_stored != self.fingerprint
        old_docs = {} if rebuild else dict(state.docs)
        new_docs: dict[str, DocInfo] = {}
        texts = {s: t for s, t in state.texts.items() if s in old_docs}
        chunks_by_source: dict[str, list[Chunk]] = {}
        for c in state.chunks:
            if c.source in old_docs:
                chunks_by_source.setdefault(c.source, []).append(c)
        to_embed: list[tuple[Chunk, str]] = []
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        for source, doc in docs.items():
            h = content_hash(doc.text)
            old = old_docs.get(source)
            if old is not None and old.hash == h and not force:
                report.unchanged.append(source)
                new_docs[source] = old
                continue
            (report.updated if old else report.added).append(source)
            chunks = chunk_document(doc, self.settings.chunk_size, self.settings.chunk_overlap)
            chunks_by_source[source] = chunks
            texts[source] = doc.text
            new_docs[source] = DocInfo(source, doc.title, h, len(doc.text), len(chunks), stamp, doc.path, doc.encoding)
            to_embed.extend((c, h) for c in chunks)
        for source, info in old_docs.items():
            if source in new_docs:
                continue
            if drop(info):
                report.removed.append(source)
                chunks_by_source.pop(source, None)
                texts.pop(source, None)
            else:  # not under the paths given this time: keep it
                new_docs[source] = info
        if rebuild:
            self.vectors.reset_collection()
        self._embed(to_embed, progress, on_progress)
        report.embedded_chunks = len(to_embed)
        all_chunks = [c for s in sorted(new_docs) for c in chunks_by_source[s]]
        report.total_chunks = len(all_chunks)
        if report.changed or rebuild or force or not self._live_generation():
            self._commit(new_docs, texts, all_chunks, name, push)
            self._collect_garbage(set(state.by_vector_id) - set(self.by_vector_id))
        return report

    def remove(self, source: str) -> bool:
        with self.write_lock():
            state = self.view()
            if source not in state.docs:
                return False
            docs = {s: d for s, d in state.docs.items() if s != source}
            texts = {s: t for s, t in state.texts.items() if s != source}
            self._commit(docs, texts, [c for c in state.chunks if c.source != source])
            self._collect_garbage(set(state.by_vector_id) - set(self.by_vector_id))
            return True

    def _embed(self, items: list[tuple[Chunk, str]], progress: bool, on_progress) -> None:
        if items:  # resume: vectors stored by an earlier (interrupted) run are reused, not embedded again
            ids = [_vector_id(c, h) for c, h in items]
            try:
                stored = set()
                for i in range(0, len(ids), 5000):
                    stored.update(self.vectors.get(ids=ids[i : i + 5000], include=[])["ids"])
            except Exception:
                stored = set()
            items = [item for item, vid in zip(items, ids, strict=True) if vid not in stored]
        if not items:
            return
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc="Embedding", unit="chunk", disable=not progress)
        collection = self.vectors._collection  # langchain-chroma's chromadb collection: we pass our own vectors
        for i in range(0, len(items), EMBED_BATCH):
            batch = items[i : i + EMBED_BATCH]
            texts = [embedding_text(c) for c, _ in batch]
            # one call per group: sentence-transformers sorts the group by length and pads each sub-batch only
            # to its own longest text; the group is also the unit an interrupted ingest resumes from
            vectors = self.embedder.embed_documents(texts)
            try:
                collection.upsert(
                    ids=[_vector_id(c, h) for c, h in batch], embeddings=vectors,  # no text: the generation has it
                    metadatas=[{"source": c.source, "chunk_id": c.chunk_id, "start": c.start, "end": c.end} for c, _ in batch],
                )
            except Exception as exc:
                if not self.remote:
                    raise
                raise VectorStoreUnavailable(f"the Chroma server at {self.settings.chroma_url} refused the vectors "
                                             f"({exc.__class__.__name__}: {exc}); nothing was published, run the ingest again"[:400]) from exc
            bar.update(len(batch))
            if on_progress:
                on_progress(min(i + EMBED_BATCH, len(items)), len(items))
        bar.close()

    def _commit(self, docs: dict[str, DocInfo], texts: dict[str, str], chunks: list[Chunk], name: str = "",
                push: bool = True) -> None:
        before = self.view().docs
        self.dir.mkdir(parents=True, exist_ok=True)
        gen = self.dir / (name or f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}")
        tmp = gen.with_name(gen.name + ".tmp")
        tmp.mkdir()
        _write_jsonl(tmp / "texts.jsonl", ({"source": s, "text": texts[s]} for s in sorted(docs)))
        _write_jsonl(tmp / "chunks.jsonl", ({k: v for k, v in asdict(c).items() if k != "text"} for c in chunks))
        # the word index: only passages new to it are indexed (one small segment); segments are shared by generations
        keys = _vector_ids(chunks, docs)
        lexical, _ = self.lexical.update(keys, {k: c.text for k, c in zip(keys, chunks, strict=True)})
        names = lexical.save(self.dir / "lexical")
        (tmp / "lexical.json").write_text(json.dumps({"segments": names}), encoding="utf-8")
        catalog = {"fingerprint": self.fingerprint, "documents": [asdict(d) for d in sorted(docs.values(), key=lambda d: d.source)]}
        (tmp / "catalog.json").write_text(json.dumps(catalog, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.rename(gen)
        pointer = self.dir / "CURRENT.tmp"
        pointer.write_text(gen.name)
        os.replace(pointer, self.dir / "CURRENT")  # the switch: atomic
        self._set(self.fingerprint, docs, texts, chunks, lexical)  # what was just written, without re-reading it
        self.generation, self.problems = gen.name, []
        if self.remote and push:
            self._push(before, docs, texts, gen.name)

    # ------------------------------------------------------------- server mode: other machines
    def _docs_collection(self):
        """Texts and catalog of every document, and the last generation's name, on the Chroma server (vectors of
        one dimension: records are only fetched by id). Replicas that do not share ``index_dir`` rebuild from it."""
        if self._docs_coll is None:
            client = self.vectors._client
            name = f"{self.settings.chroma_collection}_docs_" + hashlib.sha1(self.fingerprint.encode()).hexdigest()[:12]
            # no embedding function on purpose: every record comes with its own constant vector, nothing is embedded
            self._docs_coll = client.get_or_create_collection(name, embedding_function=None, metadata={"hnsw:space": "l2"})
        return self._docs_coll

    def _push(self, before: dict[str, DocInfo], docs: dict[str, DocInfo], texts: dict[str, str], generation: str) -> None:
        try:
            coll = self._docs_collection()
            changed = [s for s, d in docs.items() if s not in before or before[s].hash != d.hash]
            for i in range(0, len(changed), 500):
                part = changed[i : i + 500]
                coll.upsert(ids=part, documents=[texts[s] for s in part], embeddings=[[1.0]] * len(part),
                            metadatas=[{"title": docs[s].title or "", "path": docs[s].path or "", "encoding": docs[s].encoding or "",
                                        "origin": self.origin} for s in part])
            removed = [s for s in before if s not in docs]
            if removed:
                coll.delete(ids=removed)
            coll.upsert(ids=[GENERATION_ID], documents=[""], embeddings=[[1.0]], metadatas=[{"generation": generation}])
            self._seen_remote = generation
        except Exception as exc:
            raise VectorStoreUnavailable(f"the Chroma server at {self.settings.chroma_url} did not take the catalog "
                                         f"({exc.__class__.__name__}: {exc}); other machines see this change after the next write"[:400]) from exc

    def _follow_server(self, now: bool = False) -> None:
        if self._pulling or (not now and time.monotonic() - self._polled < POLL_SECONDS):
            return
        self._polled = time.monotonic()
        try:
            got = self._docs_collection().get(ids=[GENERATION_ID], include=["metadatas"])
        except Exception:  # unreachable: serve what is here (dense search reports the problem)
            return
        name = got["metadatas"][0].get("generation", "") if got["ids"] else ""
        if not name or name in (self.generation, self._seen_remote) or (self.dir / name).exists():
            return
        self._pulling = True
        try:
            with self.write_lock():
                self._pull(name)
        finally:
            self._pulling = False

    def _pull(self, generation: str) -> None:
        """Make this index hold what the server's documents collection holds (vectors are already there)."""
        got = self._docs_collection().get(include=["documents", "metadatas"])
        docs: dict[str, Document] = {}
        for source, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
            if source == GENERATION_ID:
                continue
            mine = meta.get("origin") == self.origin  # a file of this machine keeps its path (and folder syncs)
            docs[source] = Document(source, text or "", meta.get("title", ""), meta.get("path", "") if mine else f"chroma://{source}",
                                    meta.get("encoding", ""))
        self._sync(docs, lambda info: True, IngestReport(), False, None, name=generation, push=False)
        self._seen_remote = generation

    def _collect_garbage(self, dropped: set[str], keep: int = 1) -> None:
        """Drop old generations but the ``keep`` newest before the live one (previous texts stay
        recoverable, and a reader still loading the previous generation finds it), word-index segments no
        generation lists, and old vectors: ``dropped`` (those this write replaced), by id; locally, when Chroma
        holds more than that explains (an interrupted run's leftovers), every vector the catalog does not know.
        On a Chroma server only ``dropped``: other indexes may share the collection."""
        live_gen = self._live_generation()
        old = sorted((g for g in self.dir.glob("gen-*") if g != live_gen and g.is_dir()),
                     key=lambda g: g.stat().st_mtime, reverse=True)
        for g in old[keep:]:
            shutil.rmtree(g, ignore_errors=True)
        referenced: set[str] = set()
        for g in self.dir.glob("gen-*"):
            try:
                referenced.update(json.loads((g / "lexical.json").read_text(encoding="utf-8"))["segments"])
            except (OSError, ValueError, KeyError):
                continue
        for seg in (self.dir / "lexical").glob("*") if (self.dir / "lexical").is_dir() else ():
            if seg.name not in referenced:
                shutil.rmtree(seg, ignore_errors=True)
        try:  # best effort: the write is already published; vectors left now are removed next time
            stale = sorted(dropped)
            if not self.remote and self.vectors._collection.count() > len(self.by_vector_id) + len(stale):
                # leftovers of an interrupted run: worth one scan of every id (only then: it costs what the corpus does)
                stale = [i for i in self.vectors.get(include=[])["ids"] if i not in self.by_vector_id]
            for i in range(0, len(stale), 5000):
                self.vectors.delete(ids=stale[i : i + 5000])
        except Exception as exc:
            log.warning("old vectors not removed this time (%s: %s)", exc.__class__.__name__, exc)
