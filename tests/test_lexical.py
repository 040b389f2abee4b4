"""The segmented BM25: scores equal a reference BM25, and an index grown by updates equals one built at once."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from assistant import arabic
from assistant.chunking import chunk_document
from assistant.lexical import MAX_SEGMENTS, LexicalIndex
from assistant.loaders import load_document
from assistant.types import Document
from tests.conftest import SEEDS

QUERIES = ["كم مشاركا حضر حملات التوعية", "الاتجار بالبشر في العراق", "منظمة الهجرة هارفارد", "دول الخليج العمل القسري"]


@pytest.fixture(scope="module")
def passages() -> list[str]:
    return [c.text for p in sorted(SEEDS.glob("*.txt")) for c in chunk_document(load_document(p), 600, 100)]


def scores(index: LexicalIndex, query: str) -> np.ndarray:
    out = np.zeros(index.size)
    for row, score in index.search(query, index.size):
        out[row] = score
    return out


def test_scores_equal_the_reference_bm25(passages):
    bm25s = pytest.importorskip("bm25s")  # installed with the test extra
    reference = bm25s.BM25(k1=1.2, b=0.75)
    reference.index([arabic.terms(t) for t in passages], show_progress=False)
    ours = LexicalIndex.build(passages)
    for q in QUERIES:
        expected = reference.get_scores([t for t in arabic.terms(q) if t in reference.vocab_dict])
        assert np.allclose(scores(ours, q), expected, rtol=1e-4, atol=1e-5)


def test_an_index_grown_by_updates_scores_like_one_built_at_once(passages, tmp_path):
    rng = random.Random(7)
    texts = {f"p{i}": t for i, t in enumerate(passages)}
    live = list(texts)[:10]
    index, _ = LexicalIndex().update(live, texts)
    for step in range(25):  # adds, removals and replacements in any order
        pool = [k for k in texts if k not in live]
        if pool and rng.random() < 0.6:
            live = sorted(live + rng.sample(pool, min(len(pool), rng.randint(1, 3))))
        elif len(live) > 3:
            live.remove(rng.choice(live))
        index, written = index.update(live, texts)
        assert len(index.segments) <= MAX_SEGMENTS
        names = index.save(tmp_path / "segments")
        if step % 5 == 0:  # and what is on disk reads back the same
            index = LexicalIndex.load(tmp_path / "segments", names, live)
    fresh = LexicalIndex.build([texts[k] for k in live], live)
    assert index.size == fresh.size and index.avgdl == pytest.approx(fresh.avgdl)
    for q in QUERIES:
        assert np.allclose(scores(index, q), scores(fresh, q))
        assert [r for r, _ in index.search(q, 5)] == [r for r, _ in fresh.search(q, 5)]
    for term in ("~هجر", "العراق", "غيرموجود"):
        assert index.doc_freq(term) == fresh.doc_freq(term)


def test_adding_a_document_indexes_only_its_passages_and_keeps_results_identical(fake_assistant, settings, fake_embedder):
    from assistant.pipeline import Assistant

    index = fake_assistant.index
    before = json.loads((settings.index_dir / index.generation / "lexical.json").read_text(encoding="utf-8"))["segments"]
    new = Document("zz_new.txt", "افتتحت محطة تحلية مياه البحر في مدينة الداخلة بطاقة إنتاجية كبيرة. " * 12, "محطة")
    docs = [Document(d.source, index.texts[d.source], d.title) for d in index.documents()]
    report = index.ingest_documents(docs + [new], progress=False)
    assert report.added == ["zz_new.txt"]
    after = json.loads((settings.index_dir / index.generation / "lexical.json").read_text(encoding="utf-8"))["segments"]
    assert after[: len(before)] == before and len(after) == len(before) + 1  # one new, small segment
    assert len(index.lexical.segments[-1].keys) == len(index.chunks_of("zz_new.txt"))
    rebuilt = Assistant(settings.with_(index_dir=settings.index_dir.parent / "rebuilt"), embedder=fake_embedder)
    rebuilt.index.ingest_documents(docs + [new], progress=False)
    for q in QUERIES + ["محطة تحلية مياه البحر في الداخلة"]:
        assert index.lexical_search(q, 10) == rebuilt.index.lexical_search(q, 10)


def test_removing_passages_merges_segments_when_too_many_are_dead(passages):
    texts = {f"p{i}": t for i, t in enumerate(passages)}
    keys = list(texts)
    index, _ = LexicalIndex().update(keys, texts)
    index, written = index.update(keys[: len(keys) // 2], texts)  # half dead: merged into one segment
    assert len(index.segments) == 1 and len(index.segments[0].keys) == len(keys) // 2 and written


def test_a_segment_that_does_not_cover_the_live_passages_is_refused(passages, tmp_path):
    index = LexicalIndex.build(passages[:5], ["a", "b", "c", "d", "e"])
    names = index.save(tmp_path)
    with pytest.raises(ValueError, match="covers"):
        LexicalIndex.load(tmp_path, names, ["a", "b", "c", "d", "e", "f"])
    assert Path(tmp_path / names[0]).is_dir()
