"""The ``assistant`` command. Library errors become friendly messages only here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .settings import Settings, set_offline_switches


class Context:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._assistant = None

    @property
    def assistant(self):
        if self._assistant is None:
            from .pipeline import Assistant

            self._assistant = Assistant(self.settings)
        return self._assistant


def _fail(message: str) -> None:
    raise click.ClickException(message)


def run_guarded(fn):
    """Turn the library's known errors into one clear line (exit 1)."""
    from .embeddings import ModelNotFoundError
    from .index import VectorStoreUnavailable
    from .pipeline import QuestionError

    try:
        return fn()
    except (ModelNotFoundError, QuestionError, VectorStoreUnavailable) as exc:
        _fail(str(exc))
    except KeyError as exc:
        _fail(str(exc.args[0]) if exc.args else str(exc))


def _read_history(path: str | None) -> list[tuple[str, str]]:
    if not path:
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        _fail(f"cannot read history file {path}: {exc}")
    if not isinstance(data, list) or not all(isinstance(t, list | tuple) and len(t) == 2 for t in data):
        _fail(f"{path}: history must be a JSON list of [user, assistant] pairs")
    return [(str(u), str(a)) for u, a in data]


@click.group()
@click.option("--index-dir", type=click.Path(path_type=Path), envvar="ASSISTANT_INDEX_DIR", help="Index folder (default: index/).")
@click.option("--docs-dir", type=click.Path(path_type=Path), envvar="ASSISTANT_DOCS_DIR", help="Documents folder (default: seeds/).")
@click.option("--model", "embedding_model", envvar="ASSISTANT_EMBEDDING_MODEL", help="sentence-transformers model name or folder.")
@click.pass_context
def main(ctx: click.Context, index_dir, docs_dir, embedding_model):
    """Arabic document question answering with verified citations."""
    set_offline_switches()
    try:
        settings = Settings.from_env(index_dir=index_dir, docs_dir=docs_dir, embedding_model=embedding_model)
    except ValueError as exc:
        _fail(str(exc))
    ctx.obj = Context(settings)


@main.command()
@click.option("--prepare", is_flag=True, help="Build/cache the default model now if needed.")
@click.pass_obj
def model(obj: Context, prepare: bool):
    """Show which embedding model is used, from where, and its dimension."""
    from .embeddings import SentenceEmbedder, resolve_model

    def show():
        info = resolve_model(obj.settings, build=True)
        embedder = SentenceEmbedder(obj.settings, info)
        i = embedder.info
        click.echo(f"model:  {i.name}\nfrom:   {i.origin}\npath:   {i.path}\ndim:    {i.dimension}\n"
                   f"prefixes: query={i.query_prefix!r} passage={i.passage_prefix!r}")

    run_guarded(show)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--rebuild", is_flag=True, help="Rebuild from the documents folder (mends a damaged index; stored vectors are reused).")
@click.pass_obj
def ingest(obj: Context, paths, quiet: bool, rebuild: bool):
    """Index documents (default: the docs folder); only new or changed files are embedded.

    Exits 1 when any file could not be indexed (the others are indexed and listed)."""
    for p in paths:
        if not p.exists():
            _fail(f"{p}: no such file or folder")
    if rebuild and paths:
        _fail("--rebuild rebuilds from the documents folder; give no paths with it")

    def run():
        if rebuild:
            return obj.assistant.index.rebuild(progress=not quiet)
        health = obj.assistant.index.health()
        if not health.ok:
            click.echo(health.line() + " — rebuilding", err=True)
            if not paths:
                return obj.assistant.index.rebuild(progress=not quiet)
        return obj.assistant.ingest(list(paths) or None, progress=not quiet)

    report = run_guarded(run)
    for label, names in (("added", report.added), ("updated", report.updated), ("removed", report.removed)):
        for name in names:
            click.echo(f"{label}: {name}")
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(report.summary())
    if report.errors:
        raise click.ClickException(f"{len(report.errors)} file(s) could not be indexed: "
                                   + "; ".join(e.split(":", 1)[0] for e in report.errors))


def _reader_line(reader) -> str:
    """«name (float32)», or «name (bfloat16, 2 members)» for an ensemble."""
    members = len(getattr(reader, "models", ()))
    return f"{reader.name} ({getattr(reader, 'dtype', 'float32')}{f', {members} members' if members > 1 else ''})"


@main.command()
@click.pass_obj
def doctor(obj: Context):
    """Check the index: catalog, chunks, word index and vectors agree (exit 1 when not)."""
    health = run_guarded(obj.assistant.index.health)
    click.echo(health.line())
    reader = obj.assistant.reader if obj.settings.answer_mode == "reader" else None
    click.echo(f"reader: {_reader_line(reader.reader) if reader else 'not used (' + (obj.assistant.reader_error or obj.settings.answer_mode) + ')'}")
    if reader is not None:
        latin = obj.assistant.latin_reader
        click.echo(f"reader of English / Latin-script questions: {latin.reader.name if latin is not reader else 'the same'}"
                   + (f" ({obj.assistant.latin_reader_error})" if obj.assistant.latin_reader_error else "")
                   + f"; refuses below evidence {obj.assistant.latin_threshold():g}")
    if not health.ok:
        raise click.ClickException("the index needs mending: run `assistant ingest --rebuild`")


@main.command()
@click.argument("source")
@click.pass_obj
def remove(obj: Context, source: str):
    """Remove a document (by file name) from the index."""
    if not run_guarded(lambda: obj.assistant.remove(source)):
        _fail(f"no indexed document named {source!r}")
    click.echo(f"removed: {source}")


@main.command()
@click.pass_obj
def documents(obj: Context):
    """List the indexed documents."""
    for d in run_guarded(obj.assistant.documents):
        click.echo(f"{d.source}\t{d.chunks} chunks\t{d.chars} chars\t{d.indexed_at}\t{d.title}")


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    first, _, rest = answer.answer.partition("\n")
    if answer.short_answer.text and first.startswith(answer.short_answer.text):
        click.secho(first, bold=True)  # the short answer first (bold on a terminal), then its quote
        if rest:
            click.echo(rest)
    else:
        click.echo(answer.answer)
    if answer.notice:
        click.echo(f"({answer.notice})", err=True)
    for c in answer.citations:
        click.echo(f"  [{c.n}] {c.source} {c.start}-{c.end} ({c.chunk_id})")


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract.")
@click.option("--history", "history_file", type=click.Path(), help="JSON file: list of [user, assistant] pairs.")
@click.option("--top-k", type=int, default=None)
@click.option("--mode", type=click.Choice(["reader", "extractive", "llm"]), default=None,
              help="reader: trained span reader (default); extractive: sentence engine; llm: OpenAI-compatible server.")
@click.pass_obj
def ask(obj: Context, question: str, as_json: bool, history_file, top_k, mode):
    """Answer one question with citations."""
    history = _read_history(history_file)

    def run():
        obj.assistant.ensure_index(progress=not as_json, on_problem=lambda m: click.echo(m, err=True))
        return obj.assistant.ask(question, history, top_k=top_k, mode=mode)

    _print_answer(run_guarded(run), as_json)


@main.command()
@click.pass_obj
def chat(obj: Context):
    """Chat in the terminal; follow-up questions use the conversation."""
    from .pipeline import QuestionError

    run_guarded(lambda: obj.assistant.ensure_index(on_problem=lambda m: click.echo(m, err=True)))
    history: list[tuple[str, str]] = []
    click.echo("اكتب سؤالك (سطر فارغ أو Ctrl-D للخروج):")
    while True:
        try:
            question = input("> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not question:
            break
        try:
            answer = obj.assistant.ask(question, history)
        except QuestionError as exc:
            click.echo(str(exc))
            continue
        _print_answer(answer, as_json=False)
        history.append((question, answer.answer))


@main.command()
@click.argument("chunk_id")
@click.option("--context", "chars", type=int, default=300, help="Characters of surrounding text.")
@click.pass_obj
def lookup(obj: Context, chunk_id: str, chars: int):
    """Print a passage inside its document, the span marked with >>> <<<."""
    found = run_guarded(lambda: obj.assistant.lookup(chunk_id))
    before, passage, after = found.context(chars)
    c = found.chunk
    click.echo(f"{c.chunk_id}  {c.source} [{c.start}:{c.end}]  {found.title}")
    click.echo(f"{'…' if c.start - len(before) > 0 else ''}{before}>>>{passage}<<<{after}{'…' if c.end + len(after) < len(found.document) else ''}")


@main.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1).")
@click.option("--port", type=int, default=None)
@click.pass_obj
def serve(obj: Context, host, port):
    """Start the browser app (builds or updates the index first)."""
    from .app import serve as serve_app

    settings = obj.settings.with_(**{k: v for k, v in {"host": host, "port": port}.items() if v is not None})
    run_guarded(lambda: serve_app(settings))

SHARED_TRAIN = Path(__file__).resolve().parent.parent.parent / "shared" / "train"


@main.command("train-reader")
@click.option("--arcd-train", type=click.Path(exists=True), default=str(SHARED_TRAIN / "arcd-train.json"), show_default=True)
@click.option("--squad", type=click.Path(exists=True), default=str(SHARED_TRAIN / "squad-v2-train-first10-articles.json"), show_default=True)
@click.option("--eval-file", type=click.Path(exists=True), default=str(SHARED_TRAIN / "arcd-test.json"), show_default=True,
              help="Held-out SQuAD-format file measured into the model card (never trained on).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None, help="Default: assistant/models/reader/.")
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--first-trained-layer", type=int, default=2, show_default=True, help="Layers below stay frozen (cached).")
@click.option("--max-length", type=click.IntRange(64, 512), default=256, show_default=True,
              help="Tokens per window (question + passage); longer passages are read in windows.")
@click.option("--stride", type=click.IntRange(0, 256), default=96, show_default=True, help="Tokens shared by consecutive windows.")
@click.option("--arabic-epochs", type=int, default=5, show_default=True)
@click.option("--resample-negatives/--fixed-negatives", default=True, show_default=True,
              help="A fresh hard negative per ARCD question and epoch (else one same-article + one retrieved).")
@click.option("--swap-epochs", type=int, default=0, show_default=True,
              help="ARCD epochs that add a swapped (made unanswerable) copy of each question (0: the shipped recipe; 2 with --squad-swap-share 0.3 is the swap experiment in the README).")
@click.option("--squad-swap-share", type=float, default=0.0, show_default=True,
              help="Share of SQuAD questions that also get a swapped copy.")
@click.option("--squad-questions", type=int, default=0, help="Sample this many SQuAD questions (0: all).")
@click.option("--batch-size", type=int, default=16, show_default=True)
@click.option("--lr", type=float, default=8e-5, show_default=True)
@click.option("--max-minutes", type=float, default=0.0, help="Stop and save after this long (0: no limit).")
@click.option("--eval-limit", type=int, default=0, help="Measure on the first N held-out questions only (0: all).")
@click.option("--shared-norm", type=float, default=0.0, show_default=True,
              help="Weight of the shared-normalisation loss: each question's passages in one span softmax (0: off).")
@click.option("--init-from", type=click.Path(exists=True, file_okay=False), default=None,
              help="Continue from this trained reader's folder instead of the e5 base.")
@click.option("--head-lr", type=float, default=1e-3, show_default=True)
@click.option("--squad-negative-share", type=float, default=0.3, show_default=True,
              help="Share of SQuAD questions that also get a same-article negative.")
@click.option("--sentence-epochs", type=int, default=0, show_default=True,
              help="ARCD epochs that add each question with its own paragraph less the answer's sentence, as no answer.")
@click.option("--squad-sentence-share", type=float, default=0.0, show_default=True,
              help="Share of SQuAD questions that also get their paragraph less the answer's sentence, as no answer.")
@click.option("--rewrites", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="TSV file (id, question) of ARCD-train questions asked another way, e.g. in English; repeatable.")
@click.option("--rewrite-epochs", type=int, default=0, show_default=True,
              help="Epochs that add each rewritten question with its passage, and with a same-article negative.")
@click.option("--unanswerable", type=click.Path(exists=True, dir_okay=False), default=None,
              help="TSV file (article#paragraph of --arcd-train, question) of written near-misses: no answer.")
@click.option("--unanswerable-epochs", type=int, default=0, show_default=True,
              help="Epochs that add each written near-miss with its paragraph, as no answer.")
@click.option("--gloss", type=float, default=0.0, show_default=True,
              help="Read rewritten and written English questions as the pipeline does: with their places' Arabic names "
                   "and their words glossed in their paragraph's Arabic at this e5 similarity (0: the question alone).")
@click.option("--name", default="e5-small-arabic-reader", show_default=True, help="The model card's name.")
@click.pass_obj
def train_reader(obj: Context, arcd_train, squad, eval_file, out_dir, seed, first_trained_layer, max_length, stride,
                 arabic_epochs,
                 resample_negatives, swap_epochs, squad_swap_share, squad_questions, batch_size, lr, max_minutes,
                 eval_limit, shared_norm, init_from, head_lr, squad_negative_share, sentence_epochs,
                 squad_sentence_share, rewrites, rewrite_epochs, unanswerable, unanswerable_epochs, gloss, name):
    """Train the span reader (top e5 layers + head) and write weights + model card."""
    from .embeddings import SentenceEmbedder, resolve_model
    from .reader import CARD_FILE, READER_DIR, Reader, ReaderConfig
    from .reader_train import TrainSettings, evaluate_gold, train

    if stride * 2 > max_length:
        raise click.BadParameter(f"{stride} is more than half of --max-length {max_length}: the windows would not "
                                 "move on.", param_hint="--stride")
    out_dir = out_dir or READER_DIR
    ts = TrainSettings(name=name, arcd_train=arcd_train or "", squad=squad or "", eval_file=eval_file or "", out_dir=str(out_dir),
                       seed=seed, config=ReaderConfig(first_trained_layer=first_trained_layer, max_length=max_length, stride=stride),
                       arabic_epochs=arabic_epochs, resample_negatives=resample_negatives, swap_epochs=swap_epochs,
                       squad_swap_share=squad_swap_share, squad_questions=squad_questions, batch_size=batch_size, lr=lr,
                       max_minutes=max_minutes, shared_norm=shared_norm, init_from=init_from or "", head_lr=head_lr,
                       squad_negative_share=squad_negative_share, sentence_epochs=sentence_epochs,
                       squad_sentence_share=squad_sentence_share, rewrites=tuple(rewrites),
                       rewrite_epochs=rewrite_epochs, unanswerable=unanswerable or "",
                       unanswerable_epochs=unanswerable_epochs, gloss=gloss)

    def run():
        info = resolve_model(obj.settings)
        card = train(ts, info.path, SentenceEmbedder(obj.settings, info), log=lambda m: click.echo(m, err=True))
        if eval_file:
            from .reader_train import portable_path

            card["heldout_gold_paragraph"] = {"file": portable_path(str(Path(eval_file).resolve())),
                                              **evaluate_gold(Reader(info.path, out_dir), eval_file, eval_limit)}
            (Path(out_dir) / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2), encoding="utf-8")
        click.echo(json.dumps(card.get("heldout_gold_paragraph", {}), ensure_ascii=False))

    run_guarded(run)


def _register_optional_commands() -> None:
    from .evaluation import eval_command

    main.add_command(eval_command, "eval")


_register_optional_commands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
