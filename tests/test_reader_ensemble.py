"""A reader folder whose card lists several weights files reads with all of them (their logits averaged), in float32 or bfloat16.

A tiny random BERT stands in for e5 (the real readers are in test_reader_real.py)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.reader import (
    CARD_FILE,
    Reader,
    ReaderConfig,
    ReaderUnavailable,
    Window,
    build_model,
    check_weights,
    compute_dtype,
    trained_state,
)

CONFIG = {"first_trained_layer": 1, "max_length": 32, "stride": 8, "question_prefix": "query: ", "max_answer_tokens": 5}
TOKENIZER = SimpleNamespace(pad_token_id=0)
WINDOWS = [Window(0, (5, 6, 7, 8, 9, 10), (None, None, (0, 2), (3, 5), (6, 8), None)),
           Window(1, (5, 11, 12, 13), (None, (0, 3), (4, 6), None))]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("base")
    BertModel(BertConfig(vocab_size=20, hidden_size=16, num_hidden_layers=3, num_attention_heads=2,
                         intermediate_size=32, max_position_embeddings=40)).save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def folder(base, tmp_path_factory):
    """Two differently trained members (random top layers and heads) in one folder."""
    import torch
    from safetensors.torch import save_file

    config = ReaderConfig.from_card({"config": CONFIG})
    path = tmp_path_factory.mktemp("reader")
    for seed, name in ((1, "a.safetensors"), (2, "b.safetensors")):
        torch.manual_seed(seed)
        encoder, head = build_model(base, config)
        with torch.no_grad():
            for p in list(encoder.encoder.layer[1:].parameters()) + list(head.parameters()):
                p.normal_(0, 0.3)
        save_file(trained_state(encoder, head, config), str(path / name))
    (path / CARD_FILE).write_text(json.dumps({"config": CONFIG, "members": ["a.safetensors", "b.safetensors"]}),
                                  encoding="utf-8")
    return path


def _alone(base, folder, tmp_path, name):
    """A folder reading with one member only."""
    one = tmp_path / name
    one.mkdir()
    (one / CARD_FILE).write_text(json.dumps({"config": CONFIG, "members": [f"{name}.safetensors"]}), encoding="utf-8")
    (one / f"{name}.safetensors").symlink_to(folder / f"{name}.safetensors")
    return Reader(base, one, tokenizer=TOKENIZER)


def test_the_members_logits_are_averaged(base, folder, tmp_path):
    both = Reader(base, folder, tokenizer=TOKENIZER)
    a, b = _alone(base, folder, tmp_path, "a"), _alone(base, folder, tmp_path, "b")
    assert len(both.models) == 2
    starts, ends = both.logits(WINDOWS)
    (sa, ea), (sb, eb) = a.logits(WINDOWS), b.logits(WINDOWS)
    assert not np.allclose(sa, sb)  # the members differ, so the average is not either of them
    np.testing.assert_allclose(starts, (sa + sb) / 2, atol=1e-5)
    np.testing.assert_allclose(ends, (ea + eb) / 2, atol=1e-5)


def test_a_missing_member_is_named_before_anything_loads(folder, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / CARD_FILE).write_text((folder / CARD_FILE).read_text(encoding="utf-8"), encoding="utf-8")
    (broken / "a.safetensors").symlink_to(folder / "a.safetensors")
    with pytest.raises(ReaderUnavailable, match="missing b.safetensors"):
        check_weights(broken)


@pytest.mark.parametrize("members", ["a.safetensors", ["../a.safetensors"], [3]])
def test_members_must_be_file_names_in_the_folder(folder, tmp_path, members):
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / CARD_FILE).write_text(json.dumps({"config": CONFIG, "members": members}), encoding="utf-8")
    with pytest.raises(ReaderUnavailable, match="members"):
        check_weights(odd)


def test_bfloat16_arithmetic_moves_the_logits_only_a_little(base, folder):
    exact = Reader(base, folder, tokenizer=TOKENIZER, dtype="float32").logits(WINDOWS)
    fast = Reader(base, folder, tokenizer=TOKENIZER, dtype="bfloat16").logits(WINDOWS)
    for a, b in zip(exact, fast, strict=True):
        assert b.dtype == np.float32
        assert not np.array_equal(a, b)  # bfloat16 did run
        np.testing.assert_allclose(a, b, atol=0.1)


def test_the_reader_dtype_is_checked_and_auto_picks_one_the_cpu_runs():
    assert compute_dtype("auto") in ("float32", "bfloat16")
    assert compute_dtype("float32") == "float32"
    with pytest.raises(ReaderUnavailable, match="auto, float32 or bfloat16"):
        compute_dtype("int4")
