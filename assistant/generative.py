"""Generative answers from an OpenAI-compatible server (vLLM, llama.cpp, Ollama ...).

The model writes the answer with markers [n] pointing at the numbered passages.
Nothing it writes is trusted: every sentence must carry a marker of an existing
passage whose text supports it; each surviving marker becomes a ``Citation`` to
the verbatim document sentence that best supports the claim (same standard as
the extractive engine), renumbered 1..m. Unsupported sentences are dropped.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence

from . import arabic
from .prompts import render
from .types import Bilingual, Citation, Hit, Turn

MIN_SUPPORT = 0.5  # share of a claim's content words the cited passage must contain
HISTORY_TURNS = 3
_MARKER = re.compile(r"\s*\[\s*([0-9٠-٩۰-۹]+(?:\s*[,،]\s*[0-9٠-٩۰-۹]+)*)\s*\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[[^\]]*\])+\s*")
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S)
# links, bare domains and e-mail addresses: kept only when the cited passage holds them verbatim
_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)|(?:https?|ftp)://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.-]+|\b[\w-]+\.(?:com|net|org|io|ly|info|xyz|ru|cn)\b\S*", re.I)
_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


class LLMUnavailable(Bilingual, RuntimeError):
    """The LLM server cannot be used (not configured, unreachable, timed out, errored); ``arabic`` says why for the
    answer's notice."""


class LLMAnswerer:
    def __init__(self, settings):
        self.settings = settings
        self.base_url = (settings.llm_base_url or "").strip().rstrip("/")
        self._chat = None
        self._lock = threading.Lock()
        self._down_until = 0.0  # circuit breaker: after a failure, skip the server for a while
        self._last_failure = ""

    def _check_breaker(self) -> None:
        with self._lock:
            left = self._down_until - time.monotonic()
            if left > 0:
                raise LLMUnavailable(f"skipped for {left:.0f} more s after a failure ({self._last_failure})",
                                     f"لن يُحاول مجدداً قبل {left:.0f} ثانية بعد إخفاق: {self._last_failure}")

    def _trip(self, reason: str) -> None:
        with self._lock:
            self._down_until = time.monotonic() + self.settings.llm_cooldown
            self._last_failure = reason[:120]

    # --------------------------------------------------------------- model
    def _model_name(self) -> str:
        if self.settings.llm_model:
            return self.settings.llm_model
        import openai  # no model configured: take the server's first one

        client = openai.OpenAI(base_url=self.base_url, api_key=self.settings.llm_api_key or "not-needed",
                               timeout=self.settings.llm_timeout, max_retries=0)
        try:
            models = [m.id for m in client.models.list()]
        except Exception as exc:
            raise LLMUnavailable(*_reason(exc, self.base_url, self.settings.llm_timeout)) from exc
        if not models:
            raise LLMUnavailable(f"no model served at {self.base_url}; set ASSISTANT_LLM_MODEL",
                                 f"لا يقدّم الخادم {self.base_url} أي نموذج: اضبط ASSISTANT_LLM_MODEL")
        return models[0]

    def chat(self):
        if not self.base_url:
            raise LLMUnavailable("no LLM server configured (ASSISTANT_LLM_BASE_URL is empty)",
                                 "لم يُضبط له خادم: المتغير ASSISTANT_LLM_BASE_URL فارغ")
        if self._chat is None:
            from langchain_openai import ChatOpenAI

            self._chat = ChatOpenAI(
                base_url=self.base_url, model=self._model_name(), api_key=self.settings.llm_api_key or "not-needed",
                timeout=self.settings.llm_timeout, max_retries=0, temperature=0, streaming=True,
                stream_usage=False, use_responses_api=False,
            )
        return self._chat

    def messages(self, question: str, history: Sequence[Turn], hits: Sequence[Hit], refusal: str):
        from langchain_core.messages import HumanMessage, SystemMessage

        folder = self.settings.prompts_dir
        passages = "\n\n".join(
            f"[{n}] ({h.chunk.title or h.chunk.source})\n{h.chunk.text.strip()}" for n, h in enumerate(hits, start=1)
        )
        turns = [
            f"المستخدم: {u.strip()}\nالمساعد: {_MARKER.sub('', a).strip()}" for u, a in list(history)[-HISTORY_TURNS:]
        ]
        return [
            SystemMessage(render(folder, "llm_system", refusal=refusal)),
            HumanMessage(render(folder, "llm_user", passages=passages or "(لا توجد مقاطع)",
                                history="\n".join(turns) or "(لا توجد)", question=question)),
        ]

    # -------------------------------------------------------------- answer
    def stream(self, question: str, history: Sequence[Turn], hits: Sequence[Hit], texts: dict[str, str],
               refusal_text: str) -> Iterator[str | tuple[str, tuple[Citation, ...], bool]]:
        """Yield answer pieces as they arrive, then ``(text, citations, refused)`` if anything verifiable is left."""
        self._check_breaker()
        messages = self.messages(question, history, hits, refusal_text)
        raw: list[str] = []
        try:
            chat = self.chat()
            for chunk in chat.stream(messages):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if piece:
                    raw.append(piece)
                    yield piece
        except LLMUnavailable as exc:
            self._trip(str(exc))
            raise
        except Exception as exc:  # openai / httpx errors: connection, timeout, HTTP status, bad payload
            reason, arabic = _reason(exc, self.base_url, self.settings.llm_timeout)
            self._trip(reason)
            raise LLMUnavailable(reason, arabic) from exc
        final = verify("".join(raw), list(hits), texts, refusal_text)
        if final is not None:
            yield final


def _reason(exc: Exception, url: str, timeout: float) -> tuple[str, str]:
    """(English, Arabic) words for why a request to the server failed."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return f"timed out after {timeout:g}s at {url}", f"لم يردّ الخادم {url} خلال {timeout:g} ثانية"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        return f"connection failed at {url}: {cause or exc}"[:300], f"تعذّر الاتصال بالخادم {url}"
    if isinstance(exc, openai.APIStatusError):
        return (f"HTTP {exc.status_code} from {url}: {exc.message}"[:300],
                f"ردّ الخادم {url} بالخطأ HTTP {exc.status_code}")
    english = f"{type(exc).__name__} from {url}: {exc}"[:300]
    return english, f"خطأ من الخادم {url}: {type(exc).__name__}"


# ------------------------------------------------------------ verification
def support(claim_words: list[str], text: str) -> float:
    if not claim_words:
        return 0.0
    terms = set(arabic.terms(text, keep_stopwords=True))
    return sum(arabic.covers(w, terms) for w in claim_words) / len(claim_words)


def _markers(sentence: str) -> list[int]:
    out = []
    for m in _MARKER.finditer(sentence):
        out += [int(x) for x in re.split(r"\s*[,،]\s*", m.group(1).strip())]
    return list(dict.fromkeys(out))


def best_quote(claim: str, hit: Hit, text: str) -> tuple[int, int] | None:
    """The document sentence inside the passage that best supports ``claim``, or None if unsupported."""
    words = list(dict.fromkeys(arabic.content_words(claim)))
    c = hit.chunk
    if support(words, c.text) < MIN_SUPPORT:
        return None
    if any(link.group() not in c.text for link in _LINK.finditer(claim)):
        return None  # a link or address the passage does not hold (injected, or invented)
    if arabic.script_of(c.text) == "ar" and arabic.script_of(claim) == "ar":
        latin = set(_LATIN_WORD.findall(c.text.lower()))
        if any(w.lower() not in latin for w in _LATIN_WORD.findall(claim)):
            return None  # Latin words in an Arabic claim must come from the Arabic passage
    passage_terms = set(arabic.terms(c.text, keep_stopwords=True))
    if not all(arabic.covers(w, passage_terms) for w in words if w[0].isdigit()):
        return None  # a number the passage does not contain is not supported
    best, best_score = None, 0.0
    for a, b in arabic.document_sentences(text):
        if b <= c.start or a >= c.end:
            continue
        sentence = text[a:b]
        own = set(arabic.content_words(sentence))
        precision = sum(w in own for w in words) / max(len(own), 1)
        score = support(words, sentence) + 0.1 * precision
        if score > best_score:
            best, best_score = (a, b), score
    return best


def verify(answer: str, hits: list[Hit], texts: dict[str, str], refusal: str):
    """(text, citations, refused) keeping only supported sentences; None when nothing verifiable remains."""
    answer = _THINK.sub("", answer).strip()
    refusal_words = " ".join(arabic.words(refusal))
    if refusal_words and refusal_words in " ".join(arabic.words(answer)):
        return refusal, (), True
    # sentences with their markers; markers standing alone belong to the sentence before
    sentences: list[list] = []  # [separator, sentence text, markers]
    prev_end = 0
    for a, b in arabic.sentence_spans(answer):
        sentence, sep = answer[a:b], ("\n" if "\n" in answer[prev_end:a] else " ")
        prev_end = b
        lead = _LEADING_MARKERS.match(sentence)
        if lead and sentences and not sentences[-1][2]:  # "claim. [1]" or "claim. [1] next claim [2]."
            sentences[-1][2] = _markers(lead.group())
            sentence = sentence[lead.end():]
        if any(ch.isalnum() for ch in _MARKER.sub("", sentence)):
            sentences.append([sep, sentence, _markers(sentence)])

    numbers: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    for sep, sentence, markers in sentences:
        claim = _MARKER.sub("", sentence).strip()
        if not arabic.content_words(claim):
            continue
        new = []
        for n in markers:
            if not 1 <= n <= len(hits):
                continue
            hit = hits[n - 1]
            text = texts.get(hit.chunk.source, "")
            span = best_quote(claim, hit, text)
            if span is None:
                continue
            key = (hit.chunk.source, *span)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                citations.append(Citation(numbers[key], hit.chunk.source, hit.chunk.chunk_id, *span,
                                          text[span[0]:span[1]]))
            if numbers[key] not in new:
                new.append(numbers[key])
        if new:
            parts.append((sep if parts else "") + claim + " " + " ".join(f"[{k}]" for k in new))
    if not citations:
        return None
    return "".join(parts), tuple(citations), False
