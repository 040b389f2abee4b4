import dataclasses
import json

import pytest

from assistant.analysis import analyse
from assistant.chunking import chunk_document
from assistant.index import Index
from assistant.loaders import load_document
from assistant.retrieval import is_follow_up, refers_back, rrf, search_query
from tests.conftest import SEEDS


@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name)
def test_every_chunk_of_every_seed_is_an_exact_slice(path):
    doc = load_document(path)
    chunks = chunk_document(doc, size=600, overlap=100)
    assert chunks, "a seed produced no chunks"
    covered = set()
    for n, c in enumerate(chunks):
        assert doc.text[c.start : c.end] == c.text
        assert c.chunk_id == f"{doc.source}#{n}" and c.source == doc.source
        assert len(c.text) <= 600
        covered.update(range(c.start, c.end))
    # every non-space character of the document is in some chunk
    assert all(i in covered for i, ch in enumerate(doc.text) if not ch.isspace())


def test_rrf_on_hand_made_rankings():
    scores = rrf([["a", "b", "c"], ["c", "a"]], k=60)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert scores["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert scores["b"] == pytest.approx(1 / 62)
    assert sorted(scores, key=lambda x: -scores[x]) == ["a", "c", "b"]
    assert rrf([]) == {}


def test_follow_up_detection_and_query_completion():
    history = [("من نظم اليوم التواصلي في الرباط؟", "نظمته اللجنة الوطنية [1]")]
    assert is_follow_up("وما كان شعاره؟")
    assert is_follow_up("وكم عدد المشاركين فيها؟")
    assert is_follow_up("ومتى عقد؟") and is_follow_up("وأين عقد؟")  # ى and أ as written, matched normalised
    assert is_follow_up("وفي عمان؟") and is_follow_up("وعن الإمارات؟") and is_follow_up("And in Oman?")
    assert not is_follow_up("وفرنسا بلد أوروبي كبير؟") and not is_follow_up("فيينا مدينة ماذا؟")
    assert not is_follow_up("ما هي الدولة التي وقعت مذكرة تفاهم مع مكتب الأمم المتحدة في 2024؟")
    # «الله» ends in «ه» but refers to no one; «his work» does
    assert refers_back("عمله") and not refers_back("من هو رسول الله") and not refers_back("من هو عبدالله؟")
    assert refers_back("What did the Prophet call him?") and refers_back("Who funded these?")
    q = search_query("وما كان شعاره؟", history)
    assert "الرباط" in q and "شعاره" in q and "[1]" not in q
    assert search_query("ما هي عاصمة المغرب؟", history) == "ما هي عاصمة المغرب؟"


def test_hybrid_retrieval_fuses_both_rankings_without_duplicates(fake_assistant):
    hits = fake_assistant.retrieve(analyse("كم مشاركا حضر حملات التوعية حول مخاطر الهجرة غير النظامية؟"))
    ids = [h.chunk.chunk_id for h in hits]
    assert len(ids) == len(set(ids)) == 5
    assert hits[0].chunk.source.startswith("004_")
    assert all(h.dense_rank or h.lexical_rank for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_a_follow_up_of_its_own_is_searched_as_asked_so_a_change_of_topic_finds_its_document(fake_assistant):
    """«وما شعار اليوم التواصلي في الرباط؟» after a question about another document: the query completed from the
    last turn leans to that turn's document; the question searched as asked finds its own."""
    previous = ("من هو المنسق المقيم ومنسق الشؤون الإنسانية في العراق؟",
                "غلام محمد إسحق زى [1]\nوقال نائب الممثل الخاص للأمين العام للأمم المتحدة في العراق، المنسق المقيم [1]")
    question = "وما شعار اليوم التواصلي في الرباط؟"
    analysis = analyse(question, [previous])
    assert analysis.follow_up and analysis.query == question and analysis.also_search == ()
    completed = dataclasses.replace(analysis, query=search_query(question, [previous]))
    assert not any(h.chunk.source.startswith("003_") for h in fake_assistant.retrieve(completed))
    hits = fake_assistant.retrieve(analysis)
    assert hits[0].chunk.source.startswith("003_")
    assert len({h.chunk.chunk_id for h in hits}) == len(hits) == 5
    # an elliptic follow-up leans on the conversation
    elliptic = analyse("وكم عدد المشاركين فيها؟", [previous])
    assert elliptic.query.startswith(previous[0]) and elliptic.also_search == ()


def test_a_short_follow_up_that_names_something_new_is_also_searched_as_asked(fake_assistant):
    """«ومن هي آمي بوب؟» after a question about the Moroccan campaign: two content words, so elliptic, but none of
    them is in the last turn — it may be a new topic. Searched as asked too (fused), it finds the document that
    names her; the completed query alone does not. A short follow-up that repeats the last turn's words, or refers
    back, leans on the conversation only."""
    previous = ("متى انطلقت الحملة الوطنية المغربية للتوعية بمخاطر الاتجار بالبشر؟", "انطلقت في نونبر 2024 [1]")
    question = "ومن هي آمي بوب؟"
    analysis = analyse(question, [previous])
    assert analysis.query.startswith(previous[0]) and analysis.also_search == (question,)
    completed_only = dataclasses.replace(analysis, also_search=())
    assert not any(h.chunk.source.startswith("000_") for h in fake_assistant.retrieve(completed_only))
    assert fake_assistant.retrieve(analysis)[0].chunk.source.startswith("000_")
    assert analyse("ومتى انتهت الحملة؟", [previous]).also_search == ()  # «الحملة» is the last turn's
    assert analyse("وكم عدد المشاركين فيها؟", [previous]).also_search == ()  # refers back
    # a lone verb names nothing; a dialect follow-up is one by its MSA form («وفين» is «وأين»)
    for follow_up in ("وأين اختتمت؟", "وفين تختمت؟"):
        elliptic = analyse(follow_up, [previous])
        assert elliptic.follow_up and elliptic.query.startswith(previous[0]) and elliptic.also_search == ()


def test_incremental_ingest_embeds_only_what_changed(fake_assistant, docs, fake_embedder):
    index = fake_assistant.index
    total = len(index.chunks)
    before = {c.chunk_id for c in index.chunks if not c.source.startswith("001_")}

    report = fake_assistant.ingest(progress=False)
    assert not report.changed and report.embedded_chunks == 0 and len(report.unchanged) == 5

    target = docs / "001_60ba477d6e5c36f9.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\nفقرة جديدة عن مدينة طنجة.", encoding="utf-8")
    fake_embedder.calls = 0
    report = fake_assistant.ingest(progress=False)
    assert report.updated == ["001_60ba477d6e5c36f9.txt"] and not report.added
    assert report.embedded_chunks == len(index.chunks_of("001_60ba477d6e5c36f9.txt"))
    assert fake_embedder.calls == report.embedded_chunks
    assert before <= {c.chunk_id for c in index.chunks}
    assert "طنجة" in index.document_text("001_60ba477d6e5c36f9.txt")

    (docs / "003_d236ae57b0bee246.txt").unlink()
    report = fake_assistant.ingest(progress=False)
    assert report.removed == ["003_d236ae57b0bee246.txt"]
    assert not index.chunks_of("003_d236ae57b0bee246.txt")
    stored = index.vectors.get(include=["metadatas"])["metadatas"]
    assert not [m for m in stored if m["source"] == "003_d236ae57b0bee246.txt"]
    assert len(stored) == len(index.chunks) < total + 5


def test_interrupted_ingest_leaves_previous_index_usable(fake_assistant, docs, settings, fake_embedder):
    before = fake_assistant.ask("كم مشاركا حضر حملات التوعية؟")
    (docs / "005_new.txt").write_text("خبر جديد عن الاتجار بالبشر في مدينة طنجة. " * 40, encoding="utf-8")

    class Boom(RuntimeError):
        pass

    def broken(texts):
        raise Boom("power cut")

    original = fake_embedder.embed_documents
    fake_embedder.embed_documents = broken
    with pytest.raises(Boom):
        fake_assistant.ingest(progress=False)
    fake_embedder.embed_documents = original

    reopened = Index(settings, fake_embedder)  # a fresh process sees the old generation
    assert "005_new.txt" not in reopened.docs and len(reopened.docs) == 5
    from assistant.pipeline import Assistant

    again = Assistant(settings, embedder=fake_embedder).ask("كم مشاركا حضر حملات التوعية؟")
    assert again.answer == before.answer

    report = Assistant(settings, embedder=fake_embedder).ingest(progress=False)
    assert report.added == ["005_new.txt"]


def test_bad_files_are_reported_and_the_rest_indexed(tmp_path, settings, fake_embedder, docs):
    (docs / "broken.txt").write_bytes(b"\xff\xfe\x00ba")  # a UTF-16 mark, then an odd number of bytes
    (docs / "empty.md").write_text("   ", encoding="utf-8")
    (docs / "page.html").write_text("<html><body><h1>عنوان</h1><script>alert(1)</script><p>نص &lt;b&gt; عربي</p></body></html>", encoding="utf-8")
    from assistant.pipeline import Assistant

    report = Assistant(settings, embedder=fake_embedder).ingest(progress=False)
    assert len(report.added) == 6 and "page.html" in report.added
    assert any("broken.txt" in e and "utf-16" in e for e in report.errors)
    assert any("empty.md" in e for e in report.errors)
    text = Index(settings, fake_embedder).document_text("page.html")
    assert "alert" not in text and "<b>" in text  # script dropped; markup-like text kept as text


def test_each_text_is_stored_once_and_older_generations_still_load(fake_assistant, settings, fake_embedder):
    from assistant.pipeline import Assistant

    index = fake_assistant.index
    gen = settings.index_dir / index.generation
    rows = [json.loads(line) for line in (gen / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows and all("text" not in r for r in rows)  # offsets only: the text is in texts.jsonl
    assert not any(index.vectors.get(limit=5, include=["documents"])["documents"])  # nor in Chroma
    before = {c.chunk_id: c for c in index.chunks}
    # a generation written before (chunk text stored in chunks.jsonl) reads the same
    with (gen / "chunks.jsonl").open("w", encoding="utf-8") as f:
        for c in index.chunks:
            f.write(json.dumps(dataclasses.asdict(c), ensure_ascii=False) + "\n")
    again = Assistant(settings, embedder=fake_embedder).index
    assert {c.chunk_id: c for c in again.chunks} == before and not again.problems


def test_an_elliptic_follow_up_naming_another_place_asks_the_last_question_about_it():
    from assistant import gazetteer
    from assistant.analysis import previous_question

    asked = "ما الذي تم تطويره في السعودية؟"
    assert gazetteer.swap_place(asked, "وفي عمان؟") == "ما الذي تم تطويره في عمان؟"
    assert gazetteer.swap_place(asked, "وماذا عن الإمارات؟") == "ما الذي تم تطويره في الإمارات؟"
    assert gazetteer.swap_place("ما الذي قدمه المكتب للسعودية؟", "وللإمارات؟") == "ما الذي قدمه المكتب للإمارات؟"
    assert gazetteer.swap_place("What was developed in Saudi Arabia?", "And what about Oman?") == "What was developed in Oman?"
    assert gazetteer.swap_place(asked, "وكم عدد المتدربين في عمان؟") is None  # a whole question: asked as it is
    assert gazetteer.swap_place("كم عدد الضحايا؟", "وفي عمان؟") is None  # no place to replace
    history = [(asked, "آلية الإحالة الوطنية [1]"), ("وفي عمان؟", "الإيواء [1]")]
    assert previous_question(history) == "ما الذي تم تطويره في عمان؟"
    follow = analyse("وفي الإمارات؟", history)
    assert follow.follow_up and follow.query == follow.reader_question == "ما الذي تم تطويره في الإمارات؟"
    assert follow.named == ("الامارات",) and follow.question == "وفي الإمارات؟"  # shown as asked
    english = analyse("And in Oman?", [("What was developed in Saudi Arabia?", "…")])
    assert english.query == "What was developed in Oman? عمان" and english.reader_question.startswith("What was developed in Oman?")


def test_pdf_lines_are_joined_back_into_paragraphs_but_headings_and_items_stay():
    from assistant.loaders import unwrap_lines

    page = ("انطلقت الحملة الوطنية في نونبر 2024 واختتمت نهاية الأسبوع الماضي بمدينة الناظور بعد\n"
            "أن استفاد منها 240 مشاركا من القطاعات الحكومية والمجتمع المدني في عدة مدن\n"
            "مغربية\n"  # a paragraph's short last line, without a full stop
            "التوصيات\n"  # a heading
            "• تعزيز التنسيق بين المتدخلين في مجال حماية الأطفال غير المصحوبين وذويهم\n"
            "• تطوير مبادرات تكوينية")
    lines = unwrap_lines(page).split("\n")
    assert lines[0].startswith("انطلقت") and lines[0].endswith("في عدة مدن مغربية") and "بعد أن استفاد" in lines[0]
    assert lines[1:] == ["التوصيات", "• تعزيز التنسيق بين المتدخلين في مجال حماية الأطفال غير المصحوبين وذويهم",
                         "• تطوير مبادرات تكوينية"]
    assert unwrap_lines("سطر أول طويل\nثان") == "سطر أول طويل\nثان"  # too few lines to know the page's width
    ended = "جملة طويلة بما يكفي لتكون سطرا كاملا من الصفحة.\nوجملة أخرى تبدأ في السطر التالي هنا\nثالثة"
    assert unwrap_lines(ended).split("\n")[0].endswith("الصفحة.")  # a full stop ends the line's paragraph


def test_a_pdf_with_a_wrapped_paragraph_loads_as_one_line_per_paragraph(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    printed = ["The national campaign ended last week in the city of Nador after it had",
               "trained 240 participants from the ministries and from civil society groups",
               "across the country.", "Results",
               "The organisers said that the next campaign would start in the spring",
               "and would reach twice as many people in twelve more cities."]
    fig = plt.figure(figsize=(8.5, 11))
    for i, line in enumerate(printed):
        fig.text(0.05, 0.95 - i * 0.03, line, fontsize=11)
    fig.savefig(tmp_path / "report.pdf")
    plt.close(fig)
    text = load_document(tmp_path / "report.pdf").text
    assert text.split("\n") == [" ".join(printed[:3]), "Results", " ".join(printed[4:])]


def test_a_follow_up_that_refers_back_to_what_it_names_itself_is_also_searched_as_asked(fake_assistant):
    """«والحملة الوطنية المغربية فيها كام مشارك؟» ends in a pronoun, so it is elliptic, but the pronoun's noun is
    in the question itself: with three content words or more it is searched as asked too (in MSA, fused) and read
    alone, without the last question's topic. The query completed from the last turn alone leans to that turn's
    document."""
    previous = ("من هو المنسق المقيم ومنسق الشؤون الإنسانية في العراق؟",
                "غلام محمد إسحق زى [1]\nوقال نائب الممثل الخاص للأمين العام للأمم المتحدة في العراق، المنسق المقيم [1]")
    question = "والحملة الوطنية المغربية فيها كام مشارك؟"
    analysis = analyse(question, [previous])
    assert analysis.query.startswith(previous[0])
    assert analysis.also_search == ("وكم مشارك الحملة الوطنية المغربية فيها؟",)
    assert analysis.reader_question == analysis.asked == "كم مشارك الحملة الوطنية المغربية فيها؟"  # read alone
    assert fake_assistant.retrieve(_completed_only(analysis))[0].chunk.source.startswith("001_")
    assert fake_assistant.retrieve(analysis)[0].chunk.source.startswith("004_")
    msa = analyse("واليوم التواصلي في الرباط ما شعاره؟", [previous])
    assert msa.also_search == ("واليوم التواصلي في الرباط ما شعاره؟",)
    assert not any(h.chunk.source.startswith("003_") for h in fake_assistant.retrieve(_completed_only(msa)))
    assert any(h.chunk.source.startswith("003_") for h in fake_assistant.retrieve(msa))
    # two content words and a pronoun: the conversation's topic only
    assert analyse("وكم عدد المشاركين فيها؟", [previous]).also_search == ()


def _completed_only(analysis):
    return dataclasses.replace(analysis, also_search=())
