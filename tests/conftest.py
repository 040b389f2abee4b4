from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.fakes import HashingEmbedder
from assistant.settings import PROJECT_ROOT, Settings

SEEDS = PROJECT_ROOT / "seeds"
SHARED = PROJECT_ROOT.parent / "shared"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A private copy of the seed documents."""
    target = tmp_path / "docs"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, docs: Path) -> Settings:
    """Sentence engine by default (the reader is tested with its own fake and for real in test_reader.py)."""
    return Settings(docs_dir=docs, index_dir=tmp_path / "index", model_cache=tmp_path / "models", answer_mode="extractive",
                    reader_dir=tmp_path / "no-reader")


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def fake_assistant(settings: Settings, fake_embedder: HashingEmbedder):
    """An Assistant over a copy of seeds/, with the hashing embedder (fast, deterministic)."""
    from assistant.pipeline import Assistant

    assistant = Assistant(settings, embedder=fake_embedder)
    assistant.ingest(progress=False)
    return assistant


def free_port() -> int:
    """A free TCP port on loopback (for the app or a Chroma server started by a test)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_threads(*targets) -> None:
    """Start one thread per target, wait for all (concurrency tests)."""
    import threading

    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
