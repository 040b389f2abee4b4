"""Batch evaluation: run a question set through the assistant, score it, write a run folder.

A run folder holds results.jsonl (one ``Answer.to_dict()`` per question plus ``id``, ``gold``,
``eval`` and ``error``), summary.json (counts, metrics, per-tag metrics, reproducibility meta) and
report.html. ``compare_runs`` diffs two run folders. Metrics: see metrics.py and docs/metrics.md.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from dataclasses import asdict, fields
from pathlib import Path

import click

from . import metrics
from .eval_io import EvalRow, file_sha256, load_questions, load_squad
from .settings import PROJECT_ROOT

COMPARED = ("correct", "hit@5", "refusal_correct")


# ------------------------------------------------------------------ meta
def git_commit() -> tuple[str, bool | None]:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    if head.returncode:
        return "unknown", None
    return head.stdout.strip(), bool(dirty.stdout.strip()) if dirty.returncode == 0 else None


def index_fingerprint(assistant) -> str:
    """sha256 over the sorted (source, content hash) pairs of the index catalog, plus the model."""
    lines = [f"{d.source}\t{d.hash}" for d in sorted(assistant.documents(), key=lambda d: d.source)]
    lines.append(f"model\t{assistant.index.fingerprint}")
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]


def run_meta(assistant) -> dict:
    settings = {f.name: getattr(assistant.settings, f.name) for f in fields(assistant.settings)}
    settings = {k: str(v) if isinstance(v, Path) else v for k, v in settings.items()}
    for secret in ("llm_api_key", "auth_password"):
        if settings.get(secret):
            settings[secret] = "***"
    commit, dirty = git_commit()
    info = assistant.embedder.info
    return {
        "embedding_model": {k: str(v) for k, v in asdict(info).items()} if hasattr(info, "__dataclass_fields__") else str(info),
        "settings": settings, "index_fingerprint": index_fingerprint(assistant),
        "documents": len(assistant.documents()), "git_commit": commit, "git_dirty": dirty,
    }


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


# ------------------------------------------------------------------- run
def _record(row: EvalRow, answer, error: str | None) -> dict:
    if answer is not None:
        rec = answer.to_dict()
    else:
        rec = {"question": row.question, "answer": "", "refused": False, "citations": [], "passages": [],
               "latency_ms": None, "mode": "", "notice": ""}
    rec["id"] = row.id
    rec["gold"] = {"history": [list(t) for t in row.history], "gold_docs": list(row.gold_docs),
                   "must": [list(g) for g in row.must], "expected_answers": list(row.expected_answers),
                   "answerable": row.answerable, "tags": list(row.tags)}
    if error is not None:
        rec["error"] = error
    return rec


def run_eval(assistant, rows: list[EvalRow], out_dir, progress: bool = False, on_progress=None,
             meta: dict | None = None) -> dict:
    """Ask every row, score it, write results.jsonl, summary.json and report.html; return the summary.

    A row that raises is recorded with its error and the run goes on. ``on_progress(done, total)``
    is called after each row.
    """
    from tqdm import tqdm

    from .report import write_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    depth = int(assistant.settings.top_k)
    texts = assistant.index.texts
    run = run_meta(assistant)  # before the run: the code and index that answer the questions
    run.update(meta or {})
    started, t0 = _now(), time.perf_counter()
    records = []
    bar = tqdm(total=len(rows), desc="Evaluating", unit="q", disable=not progress)
    with (out / "results.jsonl").open("w", encoding="utf-8") as f:
        for i, row in enumerate(rows, start=1):
            answer, error = None, None
            try:
                answer = assistant.ask(row.question, row.history)
            except Exception as exc:  # a failing row is recorded, the run goes on
                error = f"{type(exc).__name__}: {exc}"
            rec = _record(row, answer, error)
            rec["eval"] = metrics.score_row(row, None if error else rec, texts.get, depth)
            records.append(rec)
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()
            bar.update(1)
            if on_progress:
                on_progress(i, len(rows))
    bar.close()
    summary = metrics.summarize(records, depth)
    run["timings"] = {"start": started, "end": _now(), "wall_seconds": round(time.perf_counter() - t0, 3)}
    summary["counts"]["malformed_rows"] = int(run.get("malformed_rows", 0))
    summary["meta"] = run
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    write_report(out, summary, records)
    return summary


# ------------------------------------------------------------------ runs
def read_run(run_dir) -> tuple[dict, list[dict]]:
    run = Path(run_dir)
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    with (run / "results.jsonl").open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return summary, records


def _criteria(rec: dict) -> dict:
    ev = rec.get("eval") or {}
    if ev.get("error"):
        return {k: False for k in COMPARED}
    return {k: ev.get(k) for k in COMPARED}


def compare_runs(dir_a, dir_b) -> dict:
    """Metric deltas (b - a) and the questions whose correctness, hit@5 or refusal changed."""
    (sa, ra), (sb, rb) = read_run(dir_a), read_run(dir_b)
    names = list(dict.fromkeys([*sa["metrics"], *sb["metrics"]]))
    deltas = {}
    for name in names:
        a, b = sa["metrics"].get(name), sb["metrics"].get(name)
        deltas[name] = {"a": a, "b": b, "delta": None if a is None or b is None else b - a}
    by_a, by_b = {r["id"]: r for r in ra}, {r["id"]: r for r in rb}
    regressed, improved = [], []
    for qid in by_a:
        if qid not in by_b:
            continue
        ca, cb = _criteria(by_a[qid]), _criteria(by_b[qid])
        worse = [k for k in COMPARED if ca[k] is True and cb[k] is False]
        better = [k for k in COMPARED if ca[k] is False and cb[k] is True]
        item = {"id": qid, "question": by_b[qid]["question"], "answer_a": by_a[qid]["answer"], "answer_b": by_b[qid]["answer"]}
        if worse:
            regressed.append({**item, "criteria": worse})
        if better:
            improved.append({**item, "criteria": better})
    return {"a": str(dir_a), "b": str(dir_b), "counts": {"a": sa["counts"], "b": sb["counts"]}, "metrics": deltas,
            "regressed": regressed, "improved": improved,
            "only_in_a": [q for q in by_a if q not in by_b], "only_in_b": [q for q in by_b if q not in by_a]}


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def format_comparison(c: dict) -> str:
    lines = [f"A: {c['a']}", f"B: {c['b']}", "", f"{'metric':<22}{'A':>10}{'B':>10}{'B-A':>10}"]
    for name, m in c["metrics"].items():
        d = m["delta"]
        lines.append(f"{name:<22}{_fmt(m['a']):>10}{_fmt(m['b']):>10}{('—' if d is None else f'{d:+.3f}'):>10}")
    for title, items in (("regressed", c["regressed"]), ("improved", c["improved"])):
        lines.append(f"\n{title}: {len(items)}")
        lines.extend(f"  {i['id']}  [{', '.join(i['criteria'])}]  {i['question'][:70]}" for i in items)
    for side in ("only_in_a", "only_in_b"):
        if c[side]:
            lines.append(f"\n{side}: {', '.join(c[side])}")
    return "\n".join(lines)


def format_summary(summary: dict) -> str:
    c = summary["counts"]
    lines = [f"rows {c['rows']}  answered {c['answered']}  refused {c['refused']}  errors {c['errors']}  "
             f"malformed {c.get('malformed_rows', 0)}"]
    lines += [f"  {name:<22}{_fmt(v)}" for name, v in summary["metrics"].items()]
    return "\n".join(lines)


# ------------------------------------------------------------ squad setup
def squad_assistant(settings, path: Path, out: Path, embedder=None, progress: bool = True):
    """An Assistant over the SQuAD file's paragraphs (sources ``<title>#<i>``), in its own index.

    Folder: ``<out>/../squad-index/<sha of file>/index``, reused (incrementally) by later runs of
    the same file; never mixed with the documents index. Returns (assistant, rows, errors).
    """
    from .pipeline import Assistant

    documents, rows, errors = load_squad(path)
    base = out.resolve().parent / "squad-index" / file_sha256(path)[:16]
    assistant = Assistant(settings.with_(docs_dir=base / "no-files", index_dir=base / "index"), embedder=embedder)
    report = assistant.index.ingest_documents(documents, progress=progress)
    return assistant, rows, errors + report.errors


# ------------------------------------------------------------------- CLI
@click.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder (default runs/<time>-<file>).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "squad"]), help="Default: from the extension.")
@click.option("--squad", is_flag=True, help="SQuAD file (v1.1 or 2.0: is_impossible questions are expected refusals): index its paragraphs separately and ask its questions.")
@click.option("--top-k", type=click.IntRange(min=1), help="Passages retrieved per question.")
@click.option("--mode", type=click.Choice(["extractive", "reader", "llm"]), help="Answer mode (default: ASSISTANT_ANSWER_MODE).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the first N questions.")
@click.option("--compare", nargs=2, type=click.Path(exists=True, file_okay=False, path_type=Path),
              metavar="RUN_A RUN_B", help="Compare two run folders instead of running.")
@click.pass_obj
def eval_command(obj, file, out, fmt, squad, top_k, mode, limit, compare):
    """Evaluate a question file (JSONL, CSV or SQuAD JSON) or compare two runs."""
    if compare:
        try:
            result = compare_runs(*compare)
        except (OSError, json.JSONDecodeError, KeyError) as exc:
            raise click.ClickException(f"cannot read the runs: {exc}") from exc
        click.echo(format_comparison(result))
        if out:
            out.mkdir(parents=True, exist_ok=True)
            (out / "compare.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
            click.echo(f"\nwritten: {out / 'compare.json'}")
        return
    if file is None:
        raise click.UsageError("give a question FILE, or --compare RUN_A RUN_B")
    fmt = "squad" if squad else fmt
    out = out or PROJECT_ROOT / "runs" / f"{time.strftime('%Y%m%d-%H%M%S')}-{file.stem}"
    settings = obj.settings.with_(**{k: v for k, v in {"top_k": top_k, "answer_mode": mode}.items() if v})
    from .cli import run_guarded

    def prepare():
        from .eval_io import guess_format
        from .pipeline import Assistant

        try:
            kind = guess_format(file, fmt)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc
        try:
            if kind == "squad":
                return (kind, *squad_assistant(settings, file, out, embedder=obj.assistant.embedder))
            rows, errors = load_questions(file, kind)
        except (ValueError, OSError) as exc:  # undecodable file …: one clear line, no traceback
            raise click.ClickException(f"cannot read {file}: {exc}") from exc
        assistant = obj.assistant if settings == obj.settings else Assistant(settings, embedder=obj.assistant.embedder)
        assistant.ensure_index()
        return kind, assistant, rows, errors

    kind, assistant, rows, errors = run_guarded(prepare)
    for e in errors[:20]:
        click.echo(f"malformed: {e}", err=True)
    if len(errors) > 20:
        click.echo(f"malformed: ... and {len(errors) - 20} more", err=True)
    rows = rows[:limit] if limit else rows
    if not rows:
        raise click.ClickException(f"{file}: no question could be read")
    meta = {"input_file": str(file.resolve()), "input_sha256": file_sha256(file), "input_format": kind,
            "limit": limit, "malformed_rows": len(errors), "malformed": errors[:200]}
    summary = run_guarded(lambda: run_eval(assistant, rows, out, progress=True, meta=meta))
    click.echo(format_summary(summary))
    click.echo(f"\nrun folder: {out}\nreport: {out / 'report.html'}")
