"""Read files into ``Document``s: .txt/.md as UTF-8; .html/.pdf/.docx via extraction."""

from __future__ import annotations

from pathlib import Path

from .types import Document

TEXT_TYPES = {".txt", ".md"}
EXTRACTED_TYPES = {".html", ".htm", ".pdf", ".docx"}
SUPPORTED = TEXT_TYPES | EXTRACTED_TYPES


class LoadError(ValueError):
    """A file could not be read; the message says why (in plain words)."""


def _title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return fallback


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"{path.name}: not valid UTF-8 (byte {exc.start}); save it as UTF-8 and retry") from exc


def _read_html(path: Path) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader

    try:
        reader = PdfReader(str(path))
        return "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()
    except Exception as exc:  # pypdf raises many types for broken files
        raise LoadError(f"{path.name}: cannot read this PDF ({exc.__class__.__name__})") from exc


def _read_docx(path: Path) -> str:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:
        raise LoadError(f"{path.name}: cannot read this .docx file ({exc.__class__.__name__})") from exc
    return "\n\n".join(p.text for p in document.paragraphs if p.text.strip())


def load_document(path: str | Path) -> Document:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise LoadError(f"{path.name}: unsupported type {suffix or '(none)'}; supported: {', '.join(sorted(SUPPORTED))}")
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    if suffix in TEXT_TYPES:
        text = _read_text(path)
    elif suffix in {".html", ".htm"}:
        text = _read_html(path)
    elif suffix == ".pdf":
        text = _read_pdf(path)
    else:
        text = _read_docx(path)
    if not text.strip():
        raise LoadError(f"{path.name}: the file has no text")
    return Document(source=path.name, text=text, title=_title(text, path.stem), path=str(path.resolve()))


def find_files(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Supported files under ``paths`` (recursing into folders) and the folders scanned."""
    files: list[Path] = []
    folders: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            folders.append(p.resolve())
            files.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED and not f.name.startswith(".")))
        else:
            files.append(p)
    return files, folders
