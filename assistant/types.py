"""The data passed between pipeline stages: frozen, plain, JSON-friendly."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


class Bilingual:
    """Mixed into an error the app and the CLI both report: ``str(exc)`` says why in English (CLI, logs), ``arabic``
    says it in Arabic for the app (the English when no Arabic was given)."""

    def __init__(self, message: str, arabic: str = ""):
        super().__init__(message)
        self.arabic = arabic or message


@dataclass(frozen=True)
class Document:
    """One source document as read from disk (``text`` is never altered)."""

    source: str  # file name: the citation source
    text: str
    title: str = ""
    path: str = ""
    encoding: str = ""  # of a text file as read ("utf-8", "cp1256", "utf-16" …)


@dataclass(frozen=True)
class Chunk:
    """A passage of a document; ``document.text[start:end] == text``."""

    chunk_id: str  # "<source>#<n>"
    source: str
    start: int
    end: int
    text: str
    title: str = ""


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its ranks in each retriever and its fused score."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    """A verbatim quote: ``document.text[start:end] == quote``; ``n`` is its marker."""

    n: int
    source: str
    chunk_id: str
    start: int
    end: int
    quote: str


@dataclass(frozen=True)
class ShortAnswer:
    """The fact itself: ``document.text[start:end] == text``, inside citation ``n``'s quote."""

    text: str = ""
    n: int = 0
    source: str = ""
    start: int = 0
    end: int = 0
    evidence: float = 0.0  # the reader's span score minus its no-answer score

    def to_dict(self) -> dict:
        return {"text": self.text, "n": self.n, "source": self.source, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    passages: tuple[Hit, ...] = ()
    latency_ms: float = 0.0
    mode: str = "extractive"
    notice: str = ""  # e.g. "LLM server unreachable; extractive answer shown"
    short_answer: ShortAnswer = ShortAnswer()  # empty text when refused or when no reader ran
    debug: dict = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict:
        """The JSON contract shared by ``ask --json``, results.jsonl and the API."""
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "citations": [asdict(c) for c in self.citations],
            "passages": [
                {
                    "n": i,
                    "source": h.chunk.source,
                    "chunk_id": h.chunk.chunk_id,
                    "start": h.chunk.start,
                    "end": h.chunk.end,
                    "score": round(h.score, 6),
                    "text": h.chunk.text,
                }
                for i, h in enumerate(self.passages, start=1)
            ],
            "short_answer": self.short_answer.to_dict(),
            "latency_ms": round(self.latency_ms, 2),
            "mode": self.mode,
            "notice": self.notice,
        }


Turn = tuple[str, str]  # (user, assistant) pair of a conversation history
