"""Split documents into passages that keep exact character offsets."""

from __future__ import annotations

from .types import Chunk, Document

# Paragraphs, then lines, then Arabic and Latin sentence ends, then clauses, then words.
SEPARATORS = ["\n\n", "\n", "؟ ", "? ", "! ", "؛ ", "; ", ". ", "، ", ", ", " ", ""]


def chunk_document(doc: Document, size: int = 600, overlap: int = 100) -> list[Chunk]:
    """Chunks with ``doc.text[start:end] == chunk.text``, ids ``<source>#<n>``."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=size, chunk_overlap=overlap, separators=SEPARATORS,
        keep_separator="end", strip_whitespace=True,
    )
    chunks: list[Chunk] = []
    cursor = 0
    for piece in splitter.split_text(doc.text):
        start = doc.text.find(piece, cursor)
        if start < 0:  # overlap moved us past it; search from the beginning of the previous chunk
            start = doc.text.find(piece, chunks[-1].start if chunks else 0)
        if start < 0:
            raise AssertionError(f"chunk of {doc.source} not found in its document")
        end = start + len(piece)
        chunks.append(Chunk(f"{doc.source}#{len(chunks)}", doc.source, start, end, piece, doc.title))
        cursor = start + 1
    return chunks
