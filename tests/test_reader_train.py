"""Training data for the reader: hard negatives never hold the answer, and resampling varies them."""

from __future__ import annotations

import random

from assistant import arabic
from assistant.fakes import HashingEmbedder
from assistant.reader_train import Example, retrieved_negatives, same_article_negatives, swap_negatives, swap_question


def _examples() -> list[Example]:
    paragraphs = {
        "a": ["تأسست المدينة عام 1850 على ضفاف النهر.", "يبلغ عدد سكان المدينة مليون نسمة.",
              "تشتهر المدينة بصناعة النسيج منذ القرن التاسع عشر.", "في المدينة جامعة تأسست عام 1850 أيضا."],
        "b": ["النهر يمر بثلاث دول قبل أن يصب في البحر.", "طول النهر ألفا كيلومتر."],
    }
    out = [Example("q1", "متى تأسست المدينة؟", paragraphs["a"][0], paragraphs["a"][0].index("1850"), "1850", "arcd", "a", ("1850",)),
           Example("q2", "كم عدد سكان المدينة؟", paragraphs["a"][1], paragraphs["a"][1].index("مليون"), "مليون نسمة", "arcd", "a",
                   ("مليون نسمة",)),
           Example("q3", "كم طول النهر؟", paragraphs["b"][1], paragraphs["b"][1].index("ألفا"), "ألفا كيلومتر", "arcd", "b",
                   ("ألفا كيلومتر",))]
    # the other paragraphs exist in the data through questions of their own
    out += [Example(f"x{i}", "سؤال آخر؟", p, 0, p.split()[0], "arcd", art, (p.split()[0],))
            for art, ps in paragraphs.items() for i, p in enumerate(ps) if p not in {e.context for e in out}]
    return out


def test_same_article_negatives_are_siblings_without_the_answer():
    examples = _examples()
    seen = set()
    for seed in range(20):
        for neg in same_article_negatives(examples, random.Random(seed)):
            source = next(e for e in examples if e.qid == neg.qid.removesuffix("-nsa"))
            assert neg.answer_start == -1 and neg.article == source.article and neg.context != source.context
            assert not any(a in neg.context for a in source.answers)  # "1850" is also in a sibling: never chosen
            seen.add((neg.qid, neg.context))
    # resampling with other seeds gives other siblings of the same question
    assert len({c for q, c in seen if q == "q2-nsa"}) >= 2


def test_retrieved_negatives_give_distinct_wrong_paragraphs_per_pick():
    examples = _examples()
    first, second = retrieved_negatives(examples, HashingEmbedder(), picks=(0, 1))
    assert first and second
    by_q = {n.qid.rsplit("-", 1)[0]: n.context for n in first}
    for neg in second:
        q = neg.qid.rsplit("-", 1)[0]
        source = next(e for e in examples if e.qid == q)
        assert neg.context != source.context and neg.context != by_q.get(q)
        assert not any(a in neg.context for a in source.answers)


def _absent_from(question: str, have: set[str]) -> set[str]:
    return {w for w in arabic.content_words(question) if not arabic.covers(w, have)}


def test_swap_question_moves_a_held_number_to_one_the_text_lacks():
    have = set(arabic.terms("تأسست الجامعة عام 1850 وافتتحت عام 1853."))
    for seed in range(20):
        out = swap_question("متى تأسست الجامعة عام 1850؟", have, [], lambda w: 1, random.Random(seed), number_share=1.0)
        assert out and out != "متى تأسست الجامعة عام 1850؟"
        assert _absent_from(out, have) and "1853" not in out and "1850" not in out


def test_swap_question_replaces_a_named_place_with_one_the_text_never_names():
    have = set(arabic.terms("بلغ عدد الضحايا في المغرب ألف ضحية، وفي مصر ألفين."))
    for seed in range(20):
        out = swap_question("كم عدد الضحايا في المغرب؟", have, [], lambda w: 1, random.Random(seed))
        assert out.startswith("كم عدد الضحايا في ") and "المغرب" not in out
        missing = _absent_from(out, have)
        assert len(missing) == 1 and arabic.normalize("مصر") not in missing


def test_swap_question_takes_a_donor_word_the_text_lacks_and_keeps_the_rest():
    have = set(arabic.terms("ولد الشاعر حمزة في قرية صغيرة قرب النهر."))
    df = {arabic.normalize(w): 1 for w in ("حمزة", "نابليون", "الشاعر", "قرية")}
    out = swap_question("متى ولد حمزة؟", have, ["أين هزم نابليون؟"], lambda w: df.get(w, 5), random.Random(0))
    assert out == "متى ولد نابليون؟"
    assert swap_question("متى ولد حمزة؟", have, ["أين ولد حمزة؟"], lambda w: df.get(w, 5), random.Random(0)) is None


def test_swap_negatives_pair_a_changed_question_with_its_own_paragraph_and_no_answer():
    examples = _examples()
    negatives = swap_negatives(examples, random.Random(3))
    assert negatives
    article_terms = {}
    for e in examples:
        article_terms.setdefault(e.article, set()).update(arabic.terms(e.context))
    for neg in negatives:
        source = next(e for e in examples if e.qid == neg.qid.removesuffix("-swap"))
        assert neg.answer_start == -1 and neg.context == source.context and neg.question != source.question
        assert _absent_from(neg.question, article_terms[source.article])  # the asked fact is not in the article
