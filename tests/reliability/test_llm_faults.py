"""LLM answers cannot smuggle links or unsupported text; a failing server is skipped for a while."""

from __future__ import annotations

import time

from tests.test_generative import GROUNDED, QUESTION, FakeOpenAI, dead_url, llm_assistant, server  # noqa: F401 (fixtures below)  # noqa: F401


def test_injected_link_in_a_cited_sentence_is_not_shown(fake_assistant, fake_embedder, server):  # noqa: F811
    assistant = llm_assistant(fake_assistant, fake_embedder, server.url)
    grounded = GROUNDED.format(n=1)[:-5]  # the cited claim, without its marker and period
    server.replies = [f"{grounded} زوروا http://evil.example/login للمزيد PWNED [1]."]
    answer = assistant.ask(QUESTION)
    assert "evil" not in answer.answer and "PWNED" not in answer.answer and "http" not in answer.answer


def test_links_and_addresses_are_dropped_but_supported_sentences_stay(fake_assistant, fake_embedder, server):  # noqa: F811
    assistant = llm_assistant(fake_assistant, fake_embedder, server.url)
    server.replies = [GROUNDED.format(n=1) + " راسلونا على admin@evil.example أو www.evil.example [1]."]
    answer = assistant.ask(QUESTION)
    assert answer.mode == "llm" and "مراكش" in answer.answer
    assert "evil" not in answer.answer and "@" not in answer.answer


def test_unverifiable_and_unreachable_are_told_apart(fake_assistant, fake_embedder, server, dead_url):  # noqa: F811
    unverifiable = llm_assistant(fake_assistant, fake_embedder, server.url)
    server.replies = ["الجواب موجود على http://evil.example [1]."]
    a = unverifiable.ask(QUESTION)
    assert unverifiable.text("llm_unverified") in a.notice and "تعذّر استخدام" not in a.notice
    down = llm_assistant(fake_assistant, fake_embedder, dead_url)
    b = down.ask(QUESTION)
    assert "تعذّر استخدام" in b.notice and "تعذّر الاتصال بالخادم" in b.notice  # why, in Arabic


def test_a_hanging_server_is_waited_for_once_then_skipped(fake_assistant, fake_embedder, server):  # noqa: F811
    assistant = llm_assistant(fake_assistant, fake_embedder, server.url)
    assistant = type(assistant)(assistant.settings.with_(llm_timeout=1.0, llm_cooldown=60), embedder=fake_embedder)
    server.delay = 3.0
    started = time.perf_counter()
    first = assistant.ask(QUESTION)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    others = [assistant.ask(QUESTION) for _ in range(3)]
    others_s = time.perf_counter() - started
    assert first_s >= 1.0 and "لم يردّ الخادم" in first.notice
    assert others_s < 1.0 and all("لن يُحاول مجدداً" in o.notice for o in others)
    assert all(o.mode != "llm" for o in others)  # each still answered from the documents
