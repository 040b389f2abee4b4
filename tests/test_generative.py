"""The LLM answer mode against a scripted OpenAI-compatible server on loopback (no network)."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.analysis import analyse
from assistant.generative import LLMAnswerer, LLMUnavailable, verify
from assistant.pipeline import Assistant
from assistant.prompts import PromptError, render
from assistant.types import Hit

QUESTION = "أين عقد المؤتمر العالمي السادس للقضاء على عمل الأطفال؟"
TARGET = "000_7dfb691abdf7e042.txt#1"  # the passage that says the conference was held in Marrakesh
GROUNDED = "عُقد المؤتمر العالمي السادس للقضاء على عمل الأطفال في مراكش [{n}]."


class FakeOpenAI:
    """POST /v1/chat/completions (plain and SSE streaming) and GET /v1/models, with scripted replies."""

    def __init__(self):
        self.replies: list[str] = []
        self.requests: list[dict] = []
        self.status = 200
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.rstrip("/") == "/v1/models":
                    return self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
                self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                if self.path != "/v1/chat/completions":
                    return self._json(404, {"error": {"message": "not found"}})
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                time.sleep(fake.delay)
                if fake.status != 200:
                    return self._json(fake.status, {"error": {"message": "model crashed", "type": "server_error"}})
                reply = fake.replies.pop(0) if fake.replies else ""
                base = {"id": "c1", "created": 0, "model": body["model"]}
                if not body.get("stream"):
                    return self._json(200, {**base, "object": "chat.completion", "choices": [
                        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply}}]})
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = reply.split(" ")
                pieces = [" ".join(words[i:i + 3]) + (" " if i + 3 < len(words) else "") for i in range(0, len(words), 3)]
                for piece in pieces:
                    chunk = {**base, "object": "chat.completion.chunk", "choices": [
                        {"index": 0, "finish_reason": None, "delta": {"content": piece}}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                end = {**base, "object": "chat.completion.chunk", "choices": [
                    {"index": 0, "finish_reason": "stop", "delta": {}}]}
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def server():
    fake = FakeOpenAI()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"  # nothing listens there any more


def llm_assistant(fake_assistant, fake_embedder, url: str, model: str = "fake-model") -> Assistant:
    settings = fake_assistant.settings.with_(answer_mode="llm", llm_base_url=url, llm_model=model, llm_timeout=10)
    return Assistant(settings, embedder=fake_embedder)


def hits_for(assistant: Assistant, *chunk_ids: str) -> list[Hit]:
    return [Hit(assistant.index.by_id[c], 1.0 / i) for i, c in enumerate(chunk_ids, start=1)]


def other_chunks(assistant: Assistant, n: int) -> list[str]:
    return [c for c in assistant.index.by_id if not c.startswith("000_")][:n]


def run(answerer: LLMAnswerer, hits, texts, refusal="لا تتضمن الوثائق المتاحة إجابة عن هذا السؤال."):
    items = list(answerer.stream(QUESTION, [], hits, texts, refusal))
    return [i for i in items if isinstance(i, str)], [i for i in items if isinstance(i, tuple)]


def assert_verbatim(citations, texts):
    assert citations
    for c in citations:
        assert c.quote == texts[c.source][c.start:c.end]
        assert c.chunk_id.startswith(c.source)


def test_grounded_answer_through_pipeline(fake_assistant, fake_embedder, server):
    assistant = llm_assistant(fake_assistant, fake_embedder, server.url)
    hits = assistant.retrieve(analyse(QUESTION))
    n = [h.chunk.chunk_id for h in hits].index(TARGET) + 1
    server.replies = [GROUNDED.format(n=n)]
    answer = assistant.ask(QUESTION)
    assert answer.mode == "llm" and not answer.refused and answer.notice == ""
    assert len(answer.citations) == 1
    c = answer.citations[0]
    assert (c.n, c.chunk_id) == (1, TARGET) and "مراكش" in c.quote
    assert_verbatim(answer.citations, assistant.index.texts)
    assert answer.answer.endswith("[1]") and "مراكش" in answer.answer
    # the prompt carried the numbered passages, the refusal sentence and the question
    system, user = server.requests[0]["messages"]
    assert assistant.text("refusal") in system["content"]
    assert f"[{n}]" in user["content"] and QUESTION in user["content"]
    assert server.requests[0]["model"] == "fake-model" and server.requests[0]["temperature"] == 0


def test_markers_renumbered_in_order_of_appearance(fake_assistant, server):
    texts = fake_assistant.index.texts
    campaign = "004_86e43c809a7d70f4.txt#4"  # "حملات التوعية، التي حضرها 150 مشاركاً ..."
    hits = hits_for(fake_assistant, *other_chunks(fake_assistant, 2), TARGET, campaign)
    server.replies = [
        GROUNDED.format(n=3)
        + " وحضر حملات التوعية 150 مشاركاً [4]."
        + " ورصدت المنظمة الدولية للهجرة أكثر من 125 ألف ضحية بينهم نحو 30 ألف طفل. [3]"  # same sentence as the first
    ]
    llm = LLMAnswerer(fake_assistant.settings.with_(llm_base_url=server.url, llm_model="fake-model"))
    _, finals = run(llm, hits, texts)
    text, citations, refused = finals[0]
    assert not refused
    assert [(c.n, c.chunk_id) for c in citations] == [(1, TARGET), (2, campaign)]
    assert "مراكش" in citations[0].quote and "150" in citations[1].quote
    assert_verbatim(citations, texts)
    assert "[3]" not in text and "[4]" not in text
    assert text.count("[1]") == 2 and text.count("[2]") == 1


def test_invalid_marker_and_unsupported_sentences_dropped(fake_assistant, server):
    texts = fake_assistant.index.texts
    hits = hits_for(fake_assistant, *other_chunks(fake_assistant, 1), TARGET)
    server.replies = [
        GROUNDED.format(n=2)
        + " وحضر المؤتمر رواد فضاء من كوكب المريخ على متن صاروخ ذهبي [1]."  # invented: not in passage 1
        + " ورصدت المنظمة أكثر من 125 ألف ضحية [9]."  # no passage 9
        + " ورصدت المنظمة الدولية للهجرة أكثر من 900 ألف ضحية [2]."  # wrong number
        + " وهذا أمر مهم جدا."  # no marker, supported nowhere
    ]
    llm = LLMAnswerer(fake_assistant.settings.with_(llm_base_url=server.url, llm_model="fake-model"))
    _, finals = run(llm, hits, texts)
    text, citations, refused = finals[0]
    assert not refused and len(citations) == 1 and citations[0].chunk_id == TARGET
    assert "مراكش" in text
    for gone in ("المريخ", "[9]", "900", "125", "مهم"):
        assert gone not in text
    assert_verbatim(citations, texts)


def test_refusal_sentence_is_a_refusal(fake_assistant, fake_embedder, server):
    assistant = llm_assistant(fake_assistant, fake_embedder, server.url)
    refusal = assistant.text("refusal")
    server.replies = ["لا تتضمّن الوثائقُ المتاحة إجابةً عن هذا السؤال"]  # diacritics, no full stop
    answer = assistant.ask("ما لون سيارة رئيس المؤتمر؟")
    assert answer.refused and answer.answer == refusal and answer.citations == () and answer.mode == "llm"


def test_dead_server_falls_back_to_extractive(fake_assistant, fake_embedder, dead_url):
    assistant = llm_assistant(fake_assistant, fake_embedder, dead_url)
    answer = assistant.ask(QUESTION)
    assert answer.mode == "extractive" and not answer.refused
    assert answer.notice and dead_url in answer.notice
    assert_verbatim(answer.citations, assistant.index.texts)
    with pytest.raises(LLMUnavailable, match="connection"):
        list(LLMAnswerer(assistant.settings).stream(QUESTION, [], [], {}, "x"))


def test_unconfigured_server_and_http_error(fake_assistant, fake_embedder, server):
    answer = llm_assistant(fake_assistant, fake_embedder, "").ask(QUESTION)
    assert answer.mode == "extractive" and "ASSISTANT_LLM_BASE_URL" in answer.notice
    server.delay = 1.0
    with pytest.raises(LLMUnavailable, match="timed out"):
        list(LLMAnswerer(fake_assistant.settings.with_(llm_base_url=server.url, llm_model="m", llm_timeout=0.2))
             .stream(QUESTION, [], [], {}, "x"))
    server.delay, server.status = 0.0, 500
    with pytest.raises(LLMUnavailable, match="HTTP 500"):
        list(LLMAnswerer(fake_assistant.settings.with_(llm_base_url=server.url, llm_model="m"))
             .stream(QUESTION, [], [], {}, "x"))


def test_nothing_verifiable_falls_back_with_notice(fake_assistant, fake_embedder, server):
    assistant = llm_assistant(fake_assistant, fake_embedder, server.url)
    server.replies = ["حضر المؤتمر رواد فضاء من كوكب المريخ على متن صاروخ ذهبي [1]."]
    items = list(assistant.ask_stream(QUESTION))
    answer = items[-1]
    assert answer.mode == "extractive" and assistant.text("llm_unverified") in answer.notice
    assert "تعذّر" not in answer.notice  # not "the server could not be reached": it answered, unverifiably
    assert "المريخ" not in answer.answer
    assert_verbatim(answer.citations, assistant.index.texts)


def test_streams_pieces_before_final_answer(fake_assistant, server):
    hits = hits_for(fake_assistant, TARGET)
    server.replies = [GROUNDED.format(n=1)]
    llm = LLMAnswerer(fake_assistant.settings.with_(llm_base_url=server.url, llm_model="fake-model"))
    stream = llm.stream(QUESTION, [("سؤال سابق", "إجابة سابقة [1]")], hits, fake_assistant.index.texts, "x")
    items = list(stream)
    pieces = items[:-1]
    assert len(pieces) > 1 and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces) == GROUNDED.format(n=1)
    assert isinstance(items[-1], tuple) and items[-1][1]
    assert server.requests[0]["stream"] is True
    user = server.requests[0]["messages"][1]["content"]
    assert "سؤال سابق" in user and "إجابة سابقة [1]" not in user  # old markers are not mistaken for passages


def test_model_discovered_when_not_configured(fake_assistant, server):
    server.replies = [GROUNDED.format(n=1)]
    llm = LLMAnswerer(fake_assistant.settings.with_(llm_base_url=server.url, llm_model=""))
    _, finals = run(llm, hits_for(fake_assistant, TARGET), fake_assistant.index.texts)
    assert finals and server.requests[0]["model"] == "fake-model"


def test_markers_after_the_full_stop_and_in_lists(fake_assistant):
    texts = fake_assistant.index.texts
    hits = hits_for(fake_assistant, TARGET)
    answer = ("عُقد المؤتمر العالمي السادس للقضاء على عمل الأطفال في مراكش. [1]"
              "\n- رصدت المنظمة الدولية للهجرة أكثر من 125 ألف ضحية [١، 2]")
    text, citations, refused = verify(answer, hits, texts, "x")
    assert not refused and [c.n for c in citations] == [1]  # [2] does not exist; both claims quote one sentence
    assert text == "عُقد المؤتمر العالمي السادس للقضاء على عمل الأطفال في مراكش. [1]\n- رصدت المنظمة الدولية للهجرة أكثر من 125 ألف ضحية [1]"
    assert verify("<think>[1]</think>لا أعرف", hits, texts, "x") is None


def test_strict_prompt_render(fake_assistant):
    folder = fake_assistant.settings.prompts_dir
    with pytest.raises(PromptError):
        render(folder, "llm_user", passages="[1] نص", question="سؤال")  # history missing
    with pytest.raises(PromptError):
        render(folder, "llm_system", refusal="x", extra="y")
    assert "{" not in render(folder, "llm_user", passages="[1] نص", history="(لا توجد)", question="سؤال")


def test_llm_mode_per_question_with_extractive_default(fake_assistant, server):
    """``ask(mode="llm")`` (CLI --mode llm) works when the configured default mode is extractive."""
    settings = fake_assistant.settings.with_(llm_base_url=server.url, llm_model="fake-model")
    assert settings.answer_mode == "extractive"
    assistant = Assistant(settings, embedder=fake_assistant.embedder)
    hits = assistant.retrieve(analyse(QUESTION))
    server.replies = [GROUNDED.format(n=[h.chunk.chunk_id for h in hits].index(TARGET) + 1)]
    answer = assistant.ask(QUESTION, mode="llm")
    assert answer.mode == "llm" and answer.citations[0].chunk_id == TARGET
    assert assistant.ask(QUESTION).mode == "extractive"
