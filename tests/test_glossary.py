"""The glossary: an English question's words in the documents' Arabic, by nearest word vector."""

from __future__ import annotations

import numpy as np

from assistant.analysis import analyse
from assistant.fakes import ScriptedReader
from assistant.glossary import Glossary, english_words, passage_words
from assistant.pipeline import Assistant


class BilingualEmbedder:
    """Word vectors where a word and its translation share a direction and every other word gets its own."""

    def __init__(self, pairs: dict[str, str], dim: int = 64):
        self.dim, self.calls = dim, []
        self.axis = {}
        for i, (en, ar) in enumerate(pairs.items()):
            self.axis[en] = self.axis[ar] = i
        self.next = len(pairs)

    def embed_many(self, texts, as_query: bool = False):
        self.calls.extend(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, t in enumerate(texts):
            if t not in self.axis:
                self.axis[t], self.next = self.next % self.dim, self.next + 1
            out[row, self.axis[t]] = 1.0
            out[row, (self.axis[t] + 1) % self.dim] = 0.3  # not orthogonal: unrelated words still score > 0
        return out


def test_english_words_are_the_content_words_once_each_and_passage_words_drop_marks_and_stopwords():
    assert english_words("How many officials were trained, and where were the officials trained?") == [
        "officials", "trained"]
    assert passage_words(["تدريبُ المسؤولين في الكويت", "في الكويت"]) == ["تدريب", "المسؤولين", "الكويت"]


def test_a_word_is_glossed_by_the_passage_word_it_is_closest_to_and_unmatched_words_are_left_alone():
    embedder = BilingualEmbedder({"trained": "تدريب", "officials": "المسؤولين"})
    glossary = Glossary(embedder, min_similarity=0.9)
    texts = ["تطوير آلية الإحالة الوطنية في السعودية، وتدريب أكثر من 1700 مسؤول", "تدريب المسؤولين في الكويت"]
    assert glossary.gloss("How many officials were trained under the referral mechanism?", texts) == (
        "المسؤولين", "تدريب")
    # «referral» and «mechanism» have no close word: nothing is guessed for them
    assert glossary.gloss("Which referral mechanism?", texts) == ()
    # no passage words, or no English words: nothing to gloss
    assert glossary.gloss("How many officials?", []) == ()
    assert glossary.gloss("كم عدد المسؤولين؟", texts) == ()


def test_word_vectors_are_embedded_once_across_questions():
    embedder = BilingualEmbedder({"trained": "تدريب"})
    glossary = Glossary(embedder)
    glossary.gloss("Who trained them?", ["تدريب المسؤولين"])
    first = len(embedder.calls)
    glossary.gloss("Who trained them?", ["تدريب المسؤولين"])
    assert len(embedder.calls) == first


def test_an_english_question_is_read_with_its_gloss_and_an_arabic_one_is_not(settings, fake_embedder):
    """The reader reads «… (السعودية وتدريب)» for an English question; retrieval and Arabic questions are untouched."""
    script = ScriptedReader({"trained": "1700"})
    assistant = Assistant(settings.with_(answer_mode="reader", gloss_similarity=0.9), embedder=fake_embedder,
                          reader=script)
    assistant.ingest(progress=False)
    pairs = {"trained": "وتدريب", "officials": "مسؤول"}
    assistant._glossary = Glossary(BilingualEmbedder(pairs), 0.9)
    english = analyse("How many officials were trained in Saudi Arabia?")
    glossed, hits = assistant.find(english)
    assert hits == assistant.retrieve(english)  # the gloss is read, not searched
    assert glossed.gloss and set(glossed.gloss.split()) <= set(pairs.values())
    assert glossed.reader_question.endswith(f"(السعودية {glossed.gloss})")
    assert glossed.query == english.query and glossed.asked == english.asked
    assert glossed.without_hint() == english.without_hint()
    answer = assistant.ask("How many officials were trained in Saudi Arabia?")
    assert glossed.gloss in script.questions[-1]
    assert answer.debug["gloss"] == glossed.gloss
    assert answer.short_answer.text == "1700"
    arabic = analyse("كم عدد المسؤولين الذين تم تدريبهم في السعودية؟")
    assert assistant.find(arabic)[0] == arabic
    # off: the question is read as asked
    off = Assistant(settings.with_(answer_mode="reader", gloss_similarity=0.0), embedder=fake_embedder, reader=script)
    assert off.find(english, view=assistant.index.view())[0] == english


def test_warm_embeds_the_documents_words_so_english_questions_embed_nothing_new(settings, fake_embedder):
    assistant = Assistant(settings.with_(answer_mode="reader", gloss_similarity=0.9), embedder=fake_embedder,
                          reader=ScriptedReader({}))
    assistant.ingest(progress=False)
    words = BilingualEmbedder({"trained": "وتدريب"}, dim=4096)  # a direction of its own for each seed word
    assistant._glossary = Glossary(words, 0.9)
    assistant.warm()
    warmed = len(words.calls)
    assert warmed > 500  # every word of the seeds, once
    glossed, _ = assistant.find(analyse("How many officials were trained in Saudi Arabia?"))
    assert "وتدريب" in glossed.gloss.split()
    assert len(words.calls) == warmed + len(["officials", "trained"])  # only the question's own words


def test_the_pipeline_reads_a_named_place_of_an_english_question_once_by_its_arabic_name():
    """``Glossary.read``: the place a question names is read by its Arabic name (the hint), not glossed word by word
    again."""
    from assistant.analysis import analyse

    embedder = BilingualEmbedder({"morocco": "المغرب", "campaign": "حملة"})
    context = "أطلقت الحكومة في المغرب حملة وطنية سنة 2019."
    question = "When was the campaign launched in Morocco?"
    read = Glossary(embedder, 0.9).read(analyse(question), [context])
    assert read.reader_question == f"{question} (المغرب حملة)" and read.gloss == "حملة"
