"""Training data for the reader: hard negatives never hold the answer, and resampling varies them."""

from __future__ import annotations

import random

from assistant import arabic
from assistant.fakes import HashingEmbedder
from assistant.reader_train import (
    Example,
    Feature,
    TrainSettings,
    _group_batches,
    as_read,
    evaluate_sentence_probe,
    independent_examples,
    question_groups,
    read_unanswerable,
    retrieved_negatives,
    rewritten,
    same_article_negatives,
    sentence_negatives,
    shared_norm_loss,
    swap_negatives,
    swap_question,
    without_answer_sentence,
)


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


def test_question_groups_put_each_question_with_its_own_negatives():
    positives = _examples()[:3]
    negatives = same_article_negatives(positives, random.Random(0))
    grouped = question_groups(positives, negatives, epoch=1)
    by_group: dict[str, list[Example]] = {}
    for e in grouped:
        by_group.setdefault(e.group, []).append(e)
    assert set(by_group) == {"q1@1", "q2@1", "q3@1"}
    for key, members in by_group.items():
        qid = key.split("@")[0]
        assert {e.qid.split("-")[0] for e in members} == {qid}
        assert sum(e.answer_start >= 0 for e in members) == 1  # the question's own paragraph only
    assert len(by_group["q1@1"]) == 2 and len(by_group["q3@1"]) == 1  # q3's article has no other paragraph


def test_group_batches_never_split_a_group_and_cover_every_window_once():
    feats = [Feature([0] * (5 + k % 7), 0, 0, f"g{k // 3}") for k in range(30)] + [Feature([0] * 4, 0, 0) for _ in range(5)]
    batches = _group_batches(feats, 8, random.Random(3))
    seen = sorted(k for b in batches for k in b)
    assert seen == list(range(35))
    for b in batches:
        assert len(b) <= 8
        groups = {feats[k].group for k in b if feats[k].group}
        for g in groups:
            assert sum(f.group == g for f in feats) == sum(feats[k].group == g for k in b)


def test_shared_norm_loss_prefers_the_answer_over_the_negative_passages_spans():
    import torch

    allowed = torch.ones((2, 6), dtype=torch.bool)
    starts, ends = torch.tensor([2, 0]), torch.tensor([3, 0])  # window 0 holds the answer, window 1 is a negative
    flat = torch.zeros((2, 6))
    answer_high = flat.clone()
    answer_high[0, 2] = answer_high[0, 3] = 5.0
    negative_high = flat.clone()
    negative_high[0, 2] = negative_high[0, 3] = 5.0
    negative_high[1, 4] = 9.0  # a span of the negative passage scores higher than the answer
    good = shared_norm_loss(answer_high, answer_high, allowed, starts, ends, ["g", "g"])
    bad = shared_norm_loss(negative_high, negative_high, allowed, starts, ends, ["g", "g"])
    assert float(good) < float(bad)
    # <s> (the null position) is not a span: raising it changes nothing
    with_null = answer_high.clone()
    with_null[:, 0] = 20.0
    assert torch.isclose(shared_norm_loss(with_null, with_null, allowed, starts, ends, ["g", "g"]), good)
    # groups without an answer, or of one window, add nothing
    assert shared_norm_loss(answer_high, answer_high, allowed, torch.tensor([0, 0]), ends, ["g", "g"]) is None
    assert shared_norm_loss(answer_high, answer_high, allowed, starts, ends, ["g", "h"]) is None



def test_count_swaps_ask_for_a_count_of_something_the_article_names_but_never_counts():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import calibrate_reader

    from assistant.eval_io import EvalRow

    text = ("عقد المؤتمر في مدينة مراكش بمشاركة 40 دولة و750 مشاركا من قارات العالم. وناقشت جلسة ختامية توصيات اللجنة. "
            "وأكدت جلسة الحوار أهمية الشراكة.")
    texts = {"a#0": text, "a#1": "وتحدثت الوزيرة عن الخطة."}
    rows = [EvalRow(id="q1", question="كم دولة شاركت في المؤتمر؟", gold_docs=("a#0",), expected_answers=("40",)),
            EvalRow(id="q2", question="متى عقد المؤتمر؟", gold_docs=("a#0",), expected_answers=("2026",)),
            EvalRow(id="q3", question="كم تبلغ ميزانية المؤتمر؟", gold_docs=("a#0",), expected_answers=("1",))]
    swaps = calibrate_reader.count_swapped(rows, texts)
    # not the date question; «كم تبلغ ميزانية»: the verb is skipped, the budget is what is counted. «جلسة» is named
    # twice and never counted («مدينة» only once, «دولة» is what q1 counts, «الشراكة» is not a bare noun)
    assert [(s.id, s.question, s.expected_answers) for s in swaps] == [
        ("q1-count", "كم جلسة شاركت في المؤتمر؟", ()), ("q3-count", "كم تبلغ جلسة المؤتمر؟", ())]


_PARAGRAPH = ("افتتح المؤتمر في مدينة مراكش صباح الثلاثاء بحضور الوزراء. وشارك في المؤتمر ممثلو أربعين دولة من أربع قارات. "
              "وناقش المشاركون سبل حماية الأطفال من العمل القسري. واختتم المؤتمر أعماله بإعلان مشترك.")


def _cut_example(answer: str = "أربعين دولة", answers: tuple[str, ...] = ()) -> Example:
    return Example("c1", "كم دولة شاركت في المؤتمر؟", _PARAGRAPH, _PARAGRAPH.index(answer), answer, "arcd", "m",
                   answers or (answer,))


def test_without_answer_sentence_cuts_only_the_sentence_holding_the_answer():
    rest = without_answer_sentence(_cut_example())
    assert "أربعين" not in rest and "دولة" not in rest
    # every other sentence stays, in order, verbatim
    assert rest == " ".join(s for s in arabic.split_sentences(_PARAGRAPH) if "أربعين" not in s)
    assert rest.startswith("افتتح المؤتمر") and rest.endswith("بإعلان مشترك.")


def test_without_answer_sentence_gives_nothing_when_the_rest_still_answers_or_is_too_short():
    # another accepted answer ("المؤتمر") is elsewhere in the paragraph: not a negative
    assert without_answer_sentence(_cut_example(answers=("أربعين دولة", "المؤتمر"))) == ""
    text = "تأسست المدينة عام 1850. وهي جميلة."
    short = Example("s", "متى؟", text, text.index("1850"), "1850", "arcd", "a", ("1850",))
    assert without_answer_sentence(short) == ""
    assert without_answer_sentence(Example("n", "متى؟", _PARAGRAPH, origin="arcd-impossible")) == ""


def test_sentence_negatives_pair_the_question_with_its_cut_paragraph_as_no_answer():
    examples = [_cut_example(), Example("n", "سؤال؟", _PARAGRAPH, origin="squad-impossible", article="m")]
    out = sentence_negatives(examples, random.Random(0))
    assert [(n.qid, n.question, n.answer_start, n.origin) for n in out] == \
        [("c1-nss", "كم دولة شاركت في المؤتمر؟", -1, "arcd-negative-sentence")]
    assert out[0].context == without_answer_sentence(examples[0])
    assert len(sentence_negatives([_cut_example()] * 200, random.Random(0), share=0.3)) in range(35, 90)


class _WordReader:
    """Scripted reader: evidence is how many of the question's words the passage holds, minus 2."""

    def read(self, question, passages):
        from assistant.reader import Span

        words = set(arabic.words(question))
        return [Span(0, 0, 1, float(len(words & set(arabic.words(passages[0])))) - 2.0, 0.0)]


def test_sentence_probe_measures_how_well_evidence_tells_the_gold_paragraph_from_the_cut_one(tmp_path):
    import json

    data = {"data": [{"title": "m", "paragraphs": [{"context": _PARAGRAPH, "qas": [
        {"id": "1", "question": "كم دولة شاركت؟", "answers": [{"text": "أربعين دولة", "answer_start": _PARAGRAPH.index("أربعين")}]},
        {"id": "2", "question": "ماذا ناقش المشاركون؟", "answers": [{"text": "سبل حماية الأطفال", "answer_start": _PARAGRAPH.index("سبل")}]},
    ]}]}]}
    path = tmp_path / "q.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    probe = evaluate_sentence_probe(_WordReader(), path)
    # the cut paragraphs lose the asked words («دولة», «المشاركون»): the gold ones always score higher
    assert probe["pairs"] == 2 and probe["auc"] == 1.0 and probe["refused"] == 1.0


def test_sentence_negatives_join_the_training_data_only_when_asked():
    arcd = _examples() + [_cut_example()]
    def origins(ts):
        return [e.origin for e in independent_examples(arcd, [], ts, random.Random(3), HashingEmbedder())]
    shipped = origins(TrainSettings(arabic_epochs=2))
    assert "arcd-negative-sentence" not in shipped  # the shipped recipe is unchanged
    more = origins(TrainSettings(arabic_epochs=2, sentence_epochs=2))
    assert more.count("arcd-negative-sentence") == 2 and len(more) == len(shipped) + 2


def test_rewritten_questions_keep_passage_and_answer_and_join_only_when_asked(tmp_path):
    arcd = _examples()
    tsv = tmp_path / "english.tsv"
    tsv.write_text("id\tquestion\nq1\tWhen was the city founded?\nq3\tHow long is the river?\nzz\tNot in the data?\n",
                   encoding="utf-8")
    rows = rewritten(arcd, [tsv])
    by_id = {e.qid: e for e in arcd}
    assert [r.question for r in rows] == ["When was the city founded?", "How long is the river?"]
    for r in rows:
        original = by_id[r.qid.split("-")[0]]
        assert (r.context, r.answer_start, r.answers, r.origin) == (original.context, original.answer_start,
                                                                    original.answers, "rewrite-english")
    def origins(ts):
        return [e.origin for e in independent_examples(arcd, [], ts, random.Random(3), HashingEmbedder())]
    shipped = origins(TrainSettings(arabic_epochs=2, rewrites=(str(tsv),)))
    assert not any(o.startswith("rewrite") for o in shipped)  # listed but no rewrite epochs: unchanged
    more = origins(TrainSettings(arabic_epochs=2, rewrites=(str(tsv),), rewrite_epochs=2))
    assert more.count("rewrite-english") == 4
    assert more.count("rewrite-english-negative-article") == 4  # q1 and q3 each have a sibling without the answer


def test_written_near_misses_pair_each_question_with_its_paragraph_as_no_answer(tmp_path):
    import json

    squad = {"data": [{"title": "حمزة", "paragraphs": [{"context": "ولد حمزة سنة 568.", "qas": []},
                                                        {"context": "قتل حمزة في أحد.", "qas": []}]}]}
    (tmp_path / "train.json").write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "nm.tsv").write_text("0#1\tشكون قتل حمزة؟\n0#0\tأين ولد حمزة؟\n", encoding="utf-8")
    rows = read_unanswerable(tmp_path / "train.json", tmp_path / "nm.tsv")
    assert [(r.question, r.context, r.answer_start, r.origin) for r in rows] == [
        ("من قتل حمزة؟", "قتل حمزة في أحد.", -1, "arcd-unanswerable"),  # read as the pipeline reads it
        ("أين ولد حمزة؟", "ولد حمزة سنة 568.", -1, "arcd-unanswerable")]
    arcd = _examples()
    def origins(ts):
        return [e.origin for e in independent_examples(arcd, [], ts, random.Random(3), HashingEmbedder())]
    base = dict(arabic_epochs=1, arcd_train=str(tmp_path / "train.json"), unanswerable=str(tmp_path / "nm.tsv"))
    assert "arcd-unanswerable" not in origins(TrainSettings(**base))
    assert origins(TrainSettings(**base, unanswerable_epochs=3)).count("arcd-unanswerable") == 6


def test_english_training_questions_are_read_as_the_pipeline_reads_them():
    """With ``gloss``, a rewritten English question carries what the pipeline adds at run time: the Arabic names of
    the places it names, then its words glossed with words of its own paragraph; Arabic questions stay as asked."""
    context = "أطلقت الحكومة في المغرب حملة وطنية سنة 2019 لمكافحة الاتجار بالبشر."
    english = Example("q1-rewrite", "When did the government launch the campaign in Morocco?", context, 44, "2019",
                      answers=("2019",))
    arabic_one = Example("q2", "متى أطلقت الحملة؟", context, 44, "2019", answers=("2019",))
    read = as_read([english, arabic_one], HashingEmbedder(), similarity=-1.0)  # every English word glossed
    question = read[0].question
    assert question.startswith(english.question + " (المغرب ")
    glossed = question.removeprefix(english.question + " (").removesuffix(")").split()
    assert len(glossed) >= 2 and all(w in arabic.unmarked(context)[0].split() or w == "المغرب" for w in glossed)
    assert read[1] == arabic_one and (read[0].context, read[0].answers) == (context, ("2019",))
    assert as_read([english], HashingEmbedder(), similarity=1.01)[0].question == english.question + " (المغرب)"


def test_train_reader_command_passes_its_window_settings_to_training(monkeypatch, tmp_path):
    """--max-length / --stride reach the training settings (and so the model card's config)."""
    from types import SimpleNamespace

    from click.testing import CliRunner

    import assistant.embeddings as embeddings
    import assistant.reader_train as reader_train
    from assistant.cli import main

    seen = []
    monkeypatch.setattr(embeddings, "resolve_model", lambda settings: SimpleNamespace(path=tmp_path))
    monkeypatch.setattr(embeddings, "SentenceEmbedder", lambda settings, info: None)
    monkeypatch.setattr(reader_train, "train", lambda ts, path, embedder, log: seen.append(ts.config) or {})
    monkeypatch.setattr(reader_train, "evaluate_gold", lambda reader, path, limit: {"f1": 0.5})
    monkeypatch.setattr("assistant.reader.Reader", lambda base, folder: None)
    data = tmp_path / "d.json"
    data.write_text('{"data": []}', encoding="utf-8")
    (tmp_path / "r").mkdir()
    args = ["train-reader", "--arcd-train", str(data), "--squad", str(data), "--eval-file", str(data), "--out", str(tmp_path / "r")]
    assert CliRunner().invoke(main, [*args, "--max-length", "384", "--stride", "128"]).exit_code == 0
    assert CliRunner().invoke(main, args).exit_code == 0
    assert [(c.max_length, c.stride) for c in seen] == [(384, 128), (256, 96)]
    refused = CliRunner().invoke(main, [*args, "--max-length", "1024"])  # beyond e5's 512 positions
    assert refused.exit_code == 2 and "max-length" in refused.output and len(seen) == 2
    refused = CliRunner().invoke(main, [*args, "--max-length", "128", "--stride", "96"])  # windows would not advance
    assert refused.exit_code == 2 and "--stride" in refused.output and len(seen) == 2
