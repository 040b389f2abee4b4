"""All settings in one place, read from ``ASSISTANT_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "intfloat/multilingual-e5-small"


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "arabic-assistant" / "models"


@dataclass(frozen=True)
class Settings:
    docs_dir: Path = PROJECT_ROOT / "seeds"
    index_dir: Path = PROJECT_ROOT / "index"
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    embedding_model: str = DEFAULT_MODEL
    model_cache: Path = _default_cache()
    query_prefix: str | None = None  # None: the model's own (e5: "query: ")
    passage_prefix: str | None = None
    chroma_url: str = ""  # e.g. http://127.0.0.1:8000: vectors on a Chroma server (`chroma run`) instead of index_dir/chroma
    chroma_tenant: str = "default_tenant"
    chroma_database: str = "default_database"
    chroma_token: str = ""  # sent as "Authorization: Bearer <token>" (Chroma's token auth)
    chroma_collection: str = "chunks"  # collection name prefix (+ the embedding model's fingerprint)
    chunk_size: int = 600  # characters
    chunk_overlap: int = 100
    top_k: int = 5
    candidates: int = 30  # per retriever, before fusion
    rrf_k: int = 60
    answer_mode: str = "reader"  # "reader" (trained span reader; the sentence engine when its weights are missing), "extractive" or "llm"
    refusal_threshold: float = 0.42  # sentence engine; calibrated with scripts/calibrate.py on dev + eval/extra.jsonl
    reader_threshold: float = -6.84  # reader without refusal.json: refuse when span score − no-answer score is below (scripts/train_answerability.py, evidence_only)
    # English / Latin-script questions: refuse below this evidence of the reader that reads them. None: the value in
    # that reader's card.json («latin_threshold»: −11.25 for the Latin reader, −14.172 for the main one; each chosen
    # by the rule false refusals ≤ 3 % over English questions that reader never trained on)
    reader_latin_threshold: float | None = None
    reader_min_confidence: float = 0.1352  # Arabic questions: refuse below this answerability probability (scripts/train_answerability.py)
    reader_consensus: int = 1  # N > 1: a passage's answer is the span of highest expected F1 among its N best (longer spans: README «Consensus decoding»)
    reader_dtype: str = "float32"  # the reader's arithmetic: "float32" (what the thresholds were calibrated on), "bfloat16" (about 2x faster where the CPU has it; measured: README «Arithmetic») or "auto" (bfloat16 where the CPU computes it natively)
    reader_sentences: int = 1  # reader candidates per passage: its best span (and with N > 1 the best of N − 1 more of its sentences; measured, not better: README)
    gloss_similarity: float = 0.88  # English / Latin-script questions: gloss a word with a retrieved passage's Arabic word at least this close (e5; 0: off; chosen on eval/english/arcd-train-en.json)
    reader_dir: Path = PROJECT_ROOT / "assistant" / "models" / "reader"  # trained weights + card.json
    latin_reader_dir: Path = PROJECT_ROOT / "assistant" / "models" / "reader-latin"  # English / Latin-script questions: the reader trained further on English questions, with its Latin selector (a folder without weights: the main reader reads them)
    max_question_chars: int = 2000
    max_history_turns: int = 10  # earlier turns are dropped (follow-ups use the last one)
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = "not-needed"
    llm_timeout: float = 60.0
    llm_cooldown: float = 30.0  # after a server failure, answer without it for this many seconds
    host: str = "127.0.0.1"
    port: int = 7860
    auth_user: str = ""
    auth_password: str = ""
    max_upload_mb: int = 20
    max_document_mb: float = 10.0  # larger files are refused at ingest (a 10 MB text is ~15k passages)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then ``ASSISTANT_<FIELD>`` variables (converted to the field's type; ``X | None`` reads as X),
        then explicit overrides."""
        env = os.environ if env is None else env
        kinds = _field_kinds(cls)
        values = {}
        for f in fields(cls):
            raw = env.get(f"ASSISTANT_{f.name.upper()}")
            if raw is None:
                continue
            kind = kinds[f.name]
            if kind is Path:
                values[f.name] = Path(raw).expanduser()
            elif kind in (int, float):
                try:
                    values[f.name] = kind(raw)
                except ValueError as exc:
                    raise ValueError(f"ASSISTANT_{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from exc
            else:
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def upload_limit_mb(self) -> float:
        """One limit for uploads: the smaller of the upload and the per-document limits."""
        return min(self.max_upload_mb, self.max_document_mb) if self.max_document_mb else self.max_upload_mb

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)


def _field_kinds(cls) -> dict[str, type]:
    """Each field's type, ``X | None`` read as X («float | None» → float)."""
    import typing

    kinds = {}
    for name, hint in typing.get_type_hints(cls).items():
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        kinds[name] = args[0] if args else hint
    return kinds


def set_offline_switches() -> None:
    """No hub downloads, no telemetry: called by every entry point before heavy imports."""
    for name, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # no tqdm bars on stdout (``ask --json`` prints JSON only)
        "TRANSFORMERS_VERBOSITY": "error",
    }.items():
        os.environ.setdefault(name, value)
