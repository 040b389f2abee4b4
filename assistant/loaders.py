"""Read files into ``Document``s: .txt/.md (any common encoding); .html/.pdf/.docx via extraction.

Safety: a symbolic link is never followed (a link in the documents folder could point at /etc/passwd);
a file over the size limit is refused with a message naming the setting. Text encodings: UTF-8 (with or
without BOM) and UTF-16 with BOM are read directly; anything else (Windows-1256, ISO-8859-6 …) is
detected by charset-normalizer, and the encoding is reported with the document.
"""

from __future__ import annotations

import codecs
import logging
import unicodedata
from pathlib import Path

from . import arabic
from .types import Bilingual, Document

TEXT_TYPES = {".txt", ".md"}
EXTRACTED_TYPES = {".html", ".htm", ".pdf", ".docx"}
SUPPORTED = TEXT_TYPES | EXTRACTED_TYPES
PREFERRED_ENCODINGS = ("cp1256", "iso8859_6", "cp1252", "latin_1")


class LoadError(Bilingual, ValueError):
    """A file could not be read; the message says why (in plain words), ``arabic`` the same in Arabic."""


def _title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return fallback


def decode_bytes(data: bytes, name: str = "the file") -> tuple[str, str]:
    """(text, encoding name) of a text file's bytes; ``LoadError`` when no encoding fits."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
                          (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32")):
        if data.startswith(bom) and not (encoding == "utf-16" and data.startswith(codecs.BOM_UTF32_LE)):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise LoadError(f"{name}: starts with a {encoding} mark but is not valid {encoding} (byte {exc.start})",
                                f"«{name}» يبدأ بعلامة ترميز {encoding} لكن نصه ليس بهذا الترميز.") from exc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    results = from_bytes(data)
    best = results.best()
    if best is None:
        raise LoadError(f"{name}: the text encoding could not be recognised; save it as UTF-8 and retry",
                        f"تعذّر التعرّف على ترميز النص في «{name}»: احفظه بترميز UTF-8 وأعد المحاولة.")
    # equally plausible readings: prefer the encodings Arabic and Western files are really saved in
    tied = {m.encoding: m for m in results if m.chaos <= best.chaos + 0.01}
    best = next((tied[e] for e in PREFERRED_ENCODINGS if e in tied), best)
    return str(best), best.encoding


def _read_text(path: Path) -> tuple[str, str]:
    text, encoding = decode_bytes(path.read_bytes(), path.name)
    odd = sum(1 for ch in text if unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs") and ch not in "\n\r\t\f")
    if odd > 0.02 * max(len(text), 1):
        raise LoadError(f"{path.name}: does not look like text ({odd} control or unassigned characters as {encoding})",
                        f"«{path.name}» لا يبدو ملفاً نصياً: فيه {odd} من رموز التحكم أو الرموز غير المعرّفة.")
    return text, encoding


def _read_html(path: Path) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_text(path)[0], "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


_LINE_END = tuple(".!?؟؛;:…»”\")")  # a line ending so ends its sentence or heading


def unwrap_lines(text: str, full: float = 0.7) -> str:
    """A PDF page's text with the line breaks of its layout joined back into paragraphs.

    PDF text comes one printed line at a time, and a line break ends a sentence everywhere else in the project
    (chunks, quotes, answers), so a wrapped paragraph would read as short fragments. A line is joined to the next
    with a space when it reaches ``full`` of the page's usual line length (the 80th percentile of its lines)
    and does not end a sentence, and the next line is neither blank nor a list item. Headings, short last lines,
    list items and blank-line breaks stay as they are. A page of fewer than three lines is left alone."""
    lines = text.split("\n")
    lengths = sorted(len(line.strip()) for line in lines if line.strip())
    if len(lengths) < 3:
        return text
    usual = lengths[min(len(lengths) - 1, int(0.8 * len(lengths)))]
    out = [lines[0]]
    for previous, line in zip(lines, lines[1:], strict=False):
        printed, nxt = previous.strip(), line.strip()  # the printed line above, not the paragraph joined so far
        if printed and nxt and len(printed) >= full * usual and not printed.endswith(_LINE_END) \
                and not arabic.is_list_item(nxt):
            out[-1] = f"{out[-1].rstrip()} {line.lstrip()}"
        else:
            out.append(line)
    return "\n".join(out)


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # no "EOF marker not found" on every later check
    try:
        reader = PdfReader(str(path))
        return "\n\n".join(unwrap_lines((page.extract_text() or "").strip()) for page in reader.pages).strip()
    except Exception as exc:  # pypdf raises many types for broken files
        raise LoadError(f"{path.name}: cannot read this PDF ({exc.__class__.__name__})",
                        f"تعذّرت قراءة ملف PDF «{path.name}»: قد يكون تالفاً أو محمياً.") from exc


def _read_docx(path: Path) -> str:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:
        raise LoadError(f"{path.name}: cannot read this .docx file ({exc.__class__.__name__})",
                        f"تعذّرت قراءة ملف Word «{path.name}»: قد يكون تالفاً أو ليس بصيغة docx.") from exc
    return "\n\n".join(p.text for p in document.paragraphs if p.text.strip())


def load_document(path: str | Path, max_mb: float = 0) -> Document:
    """Read one file; ``max_mb`` (0: no limit) refuses larger files before reading them."""
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_symlink():
        raise LoadError(f"{path.name}: is a symbolic link; links are not followed (copy the file into the folder instead)",
                        f"«{path.name}» رابط رمزي، والروابط لا تُتبع: انسخ الملف نفسه إلى المجلد.")
    if suffix not in SUPPORTED:
        raise LoadError(f"{path.name}: unsupported type {suffix or '(none)'}; supported: {', '.join(sorted(SUPPORTED))}",
                        f"نوع الملف «{suffix or 'بلا امتداد'}» غير مدعوم في «{path.name}». الأنواع المدعومة: {'، '.join(sorted(SUPPORTED))}.")
    if not path.is_file():
        raise LoadError(f"{path}: no such file", f"الملف «{path.name}» غير موجود.")
    size_mb = path.stat().st_size / (1024 * 1024)
    if max_mb and size_mb > max_mb:
        raise LoadError(f"{path.name}: {size_mb:.1f} MB is over the {max_mb:g} MB limit for one document "
                        "(ASSISTANT_MAX_DOCUMENT_MB); split it or raise the limit",
                        f"حجم «{path.name}» {size_mb:.1f} ميغابايت، وهو أكبر من حد المستند الواحد ({max_mb:g} ميغابايت): "
                        "قسّمه أو ارفع الحد.")
    encoding = ""
    if suffix in TEXT_TYPES:
        text, encoding = _read_text(path)
    elif suffix in {".html", ".htm"}:
        text = _read_html(path)
    elif suffix == ".pdf":
        text = _read_pdf(path)
    else:
        text = _read_docx(path)
    if not text.strip():
        raise LoadError(f"{path.name}: the file has no text", f"الملف «{path.name}» لا يحتوي على نص.")
    return Document(source=path.name, text=text, title=_title(text, path.stem), path=str(path.absolute()), encoding=encoding)


def find_files(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Supported files under ``paths`` (recursing into folders) and the folders scanned."""
    files: list[Path] = []
    folders: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            folders.append(p.resolve())
            # links are listed too (not followed): load_document refuses them with a message
            files.extend(sorted(f for f in p.rglob("*") if (f.is_file() or f.is_symlink()) and f.suffix.lower() in SUPPORTED
                                and not f.name.startswith(".") and not any(x.is_symlink() for x in f.relative_to(p).parents if x != Path("."))))
        else:
            files.append(p)
    return files, folders
