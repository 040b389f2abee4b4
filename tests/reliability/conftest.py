"""Helpers for the fault battery: run a snippet in a separate Python process (a second writer or reader)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT

PRELUDE = """
import json, sys
from pathlib import Path
from assistant.fakes import HashingEmbedder
from assistant.pipeline import Assistant
from assistant.settings import Settings
settings = Settings(docs_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]), answer_mode="extractive")
assistant = Assistant(settings, embedder=HashingEmbedder())
"""


@pytest.fixture
def other_process(settings):
    """``other_process(code)`` runs ``code`` in a new Python process over the same docs and index
    (fake embedder); whatever it prints as its last line is returned parsed as JSON."""

    def run(code: str):
        script = PRELUDE + textwrap.dedent(code)
        done = subprocess.run([sys.executable, "-c", script, str(settings.docs_dir), str(settings.index_dir)],
                              cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        lines = [x for x in done.stdout.splitlines() if x.strip()]
        return json.loads(lines[-1]) if lines else None

    return run


def vector_count(index) -> int:
    return len(index.vectors.get(include=[])["ids"])


def corrupt(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
