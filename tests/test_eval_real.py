"""The shared dev set through ``assistant eval`` with the real embedding model (slow)."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from assistant.settings import PROJECT_ROOT

DEV = PROJECT_ROOT.parent / "shared" / "eval" / "dev.jsonl"


@pytest.mark.slow
@pytest.mark.skipif(not DEV.exists(), reason=f"shared dev set not found at {DEV}")
def test_dev_set_through_the_cli(tmp_path):
    from assistant.cli import main

    docs = tmp_path / "docs"
    shutil.copytree(PROJECT_ROOT / "seeds", docs)
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["--index-dir", str(tmp_path / "index"), "--docs-dir", str(docs),
                                       "eval", str(DEV), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    m = summary["metrics"]
    print("\ndev-set metrics:", json.dumps(m, indent=1))  # shown with -s / in -ra summaries on failure
    assert summary["counts"]["errors"] == 0 and summary["counts"]["malformed_rows"] == 0
    assert m["hit@5"] == 1.0
    assert m["refusal_accuracy"] == 1.0
    assert m["citation_validity"] == 1.0
    assert m["false_refusal_rate"] == 0.0
    assert m["answer_accuracy"] >= 0.9
