"""scripts/followup_probe.py: ARCD-style questions asked as follow-ups after another question of their paragraph."""

from __future__ import annotations

import sys
from pathlib import Path

from assistant.eval_io import EvalRow

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import followup_probe


def test_each_answerable_question_follows_the_first_question_of_its_paragraph():
    rows = [
        EvalRow("a1", "من هو حمزة؟", gold_docs=("حمزة#0",), expected_answers=("عم النبي",)),
        EvalRow("a2", "بما وصفه رسول الله؟", gold_docs=("حمزة#0",), expected_answers=("أسد الله",)),
        EvalRow("b1", "متى ولد؟", gold_docs=("حمزة#1",), expected_answers=("568",)),  # alone in its paragraph
        EvalRow("a3", "أين قتل؟", gold_docs=("حمزة#0",), answerable=False),
        EvalRow("a4", "من قتله؟", gold_docs=("حمزة#0",), expected_answers=("وحشي",)),
    ]
    asked = []
    follow = followup_probe.followup_rows(rows, lambda r: asked.append(r.id) or f"جواب {r.id} [1]")
    assert [r.id for r in follow] == ["a2~f", "a4~f"]  # not the first, not the lone one, not the unanswerable
    assert [r.question for r in follow] == ["وبما وصفه رسول الله؟", "ومن قتله؟"]
    assert all(r.history == (("من هو حمزة؟", "جواب a1 [1]"),) for r in follow)
    assert follow[0].expected_answers == ("أسد الله",) and "follow-up" in follow[0].tags
    assert set(asked) == {"a1"}


def test_with_switch_each_question_follows_the_first_question_of_the_previous_article():
    rows = [
        EvalRow("a1", "من هو حمزة؟", gold_docs=("حمزة#0",), expected_answers=("عم النبي",)),
        EvalRow("a2", "بما وصفه رسول الله؟", gold_docs=("حمزة#1",), expected_answers=("أسد الله",)),
        EvalRow("b1", "ما عاصمة مصر؟", gold_docs=("مصر#0",), expected_answers=("القاهرة",)),
        EvalRow("b2", "كم عدد سكانها؟", gold_docs=("مصر#2",), expected_answers=("100 مليون",)),
    ]
    follow = followup_probe.followup_rows(rows, lambda r: f"جواب {r.id} [1]", switch=True)
    assert [r.id for r in follow] == ["b1~f", "b2~f"]  # the first article has no previous one
    assert all(r.history == (("من هو حمزة؟", "جواب a1 [1]"),) for r in follow)


def test_an_english_question_is_chained_with_and():
    rows = [
        EvalRow("a1", "Who was Hamza?", gold_docs=("حمزة#0",), expected_answers=("عم النبي",)),
        EvalRow("a2", "What did the Prophet call him?", gold_docs=("حمزة#0",), expected_answers=("أسد الله",)),
        EvalRow("a3", "Uhud is where he was killed?", gold_docs=("حمزة#0",), expected_answers=("أحد",)),
    ]
    follow = followup_probe.followup_rows(rows, lambda r: f"{r.id} [1]")
    assert [r.question for r in follow] == ["And what did the Prophet call him?", "And Uhud is where he was killed?"]
