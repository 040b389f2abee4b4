"""User-facing texts and LLM prompts live as files in prompts/; rendering is strict."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path


class PromptError(KeyError):
    pass


@lru_cache(maxsize=64)
def _read(folder: str, name: str) -> str:
    path = Path(folder) / f"{name}.txt"
    if not path.exists():
        raise PromptError(f"prompt file {path} is missing")
    return path.read_text(encoding="utf-8").strip()


def render(folder: Path, name: str, **values: str) -> str:
    """Fill ``prompts/<name>.txt``; a missing or unexpected variable is an error."""
    from langchain_core.prompts import PromptTemplate

    template = PromptTemplate.from_template(_read(str(folder), name))
    expected = set(template.input_variables)
    if expected != set(values):
        raise PromptError(
            f"prompt {name!r} expects {sorted(expected)}, got {sorted(values)}"
        )
    return template.format(**values)
