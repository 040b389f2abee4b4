"""report.html: one self-contained, right-to-left Arabic page per evaluation run.

Charts are matplotlib (Agg) PNGs inlined as base64; every piece of text from the run is escaped
with ``html.escape`` (documents may contain markup); Latin runs sit in ``<bdi>``.
Chart axes are in English: matplotlib cannot shape Arabic text; Arabic captions sit under them.
"""

from __future__ import annotations

import base64
import io
import json
from html import escape
from pathlib import Path

from . import arabic

LABELS = {
    "hit@1": "الإصابة في أول مقطع", "hit@3": "الإصابة في أول 3 مقاطع", "hit@5": "الإصابة في أول 5 مقاطع",
    "hit@10": "الإصابة في أول 10 مقاطع", "mrr": "متوسط الرتبة العكسية", "answer_accuracy": "دقة الإجابة (العبارات المطلوبة)",
    "exact_match": "التطابق التام", "token_f1": "<bdi>F1</bdi> على الكلمات", "containment": "احتواء الإجابة المتوقعة",
    "exact_match_official": "التطابق التام بقواعد <bdi>MLQA</bdi> الرسمية",
    "token_f1_official": "<bdi>F1</bdi> بقواعد <bdi>MLQA</bdi> الرسمية",
    "accuracy": "الصواب الإجمالي", "refusal_accuracy": "دقة الرفض (أسئلة بلا إجابة)",
    "false_refusal_rate": "معدل الرفض الخاطئ", "citation_validity": "صحة الاستشهادات (مطابقة حرفية)",
    "citation_recall": "استدعاء الاستشهاد (تقريبي)", "citation_precision": "دقة الاستشهاد (تقريبية)",
    "latency_p50_ms": "زمن الاستجابة: الوسيط", "latency_p95_ms": "زمن الاستجابة: المئين 95",
    "latency_max_ms": "زمن الاستجابة: الأقصى",
}
# the ``denominators`` count each metric is measured on (``denominator_key``)
DENOMINATOR = {"mrr": "retrieval", "answer_accuracy": "must", "exact_match": "expected_answers",
               "token_f1": "expected_answers", "containment": "expected_answers", "accuracy": "judged",
               "exact_match_official": "expected_answers", "token_f1_official": "expected_answers",
               "refusal_accuracy": "unanswerable", "false_refusal_rate": "answerable",
               "citation_validity": "with_citations", "citation_recall": "citation_recall",
               "citation_precision": "citation_precision"}


def denominator_key(metric: str) -> str:
    """The ``denominators`` entry that counts the questions ``metric`` is measured on."""
    return DENOMINATOR.get(metric, "retrieval" if metric.startswith("hit@") else "latency")


COUNTS = {"rows": "الأسئلة", "answered": "أُجيب", "refused": "رُفض", "errors": "أخطاء", "malformed_rows": "صفوف معيبة"}
FAILURES = (("error", "أخطاء التشغيل"), ("wrong", "إجابات خاطئة"), ("false_refusal", "رفض خاطئ (السؤال له إجابة)"),
            ("missed_refusal", "رفض فائت (لا إجابة في الوثائق)"))
CSS = """
body{font-family:"Noto Naskh Arabic","Noto Sans Arabic","DejaVu Sans",Tahoma,sans-serif;margin:0 auto;max-width:1200px;
padding:1.5rem;color:#1d2433;background:#f6f7f9;line-height:1.7}
h1{margin:.2rem 0}h2{border-bottom:2px solid #d0d6e0;padding-bottom:.3rem;margin-top:2rem}
.meta{color:#556;font-size:.9rem}.cards{display:flex;gap:.8rem;flex-wrap:wrap}
.card{background:#fff;border:1px solid #d0d6e0;border-radius:8px;padding:.5rem 1rem;min-width:7rem;text-align:center}
.card b{display:block;font-size:1.6rem}.card.bad b{color:#b3261e}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0;font-size:.92rem}
th,td{border:1px solid #d8dde6;padding:.35rem .55rem;vertical-align:top;text-align:start}
th{background:#e9edf3}td.num{text-align:center;white-space:nowrap}
.ok{color:#1b7f3b;font-weight:bold}.no{color:#b3261e;font-weight:bold}.na{color:#889}
.charts{display:flex;flex-wrap:wrap;gap:1rem}figure{background:#fff;border:1px solid #d0d6e0;border-radius:8px;margin:0;padding:.5rem}
figure img{max-width:100%;width:360px}figcaption{text-align:center;font-size:.9rem;color:#334}
.cite{font-size:.85rem;background:#f1f4f8;border-inline-start:3px solid #7a8fb3;padding:.2rem .4rem;margin:.2rem 0}
.gold{font-size:.82rem;color:#556}.hist{font-size:.82rem;color:#667}details summary{cursor:pointer;color:#2b4d8c}
.err{color:#b3261e;font-family:monospace;font-size:.85rem}bdi{unicode-bidi:isolate}
[lang=en]{font-family:"DejaVu Sans",Arial,sans-serif;font-size:.95em}
"""


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def metric_value(name: str, v) -> str:
    """A metric as shown (html): a share in %, ``mrr`` to 3 places, a latency in ms; «—» when not measured."""
    if v is None:
        return '<span class="na">—</span>'
    text = f"{v:,.0f} ms" if name.startswith("latency") else f"{v:.3f}" if name == "mrr" else _pct(v)
    return f'<bdi lang="en" dir="ltr">{text}</bdi>'


def _seconds(v) -> str:
    return "—" if v is None else f"{v:,.1f}"


def _bdi(text) -> str:
    return f'<bdi lang="en">{escape(str(text))}</bdi>'


def _yes_no(flag) -> str:
    return '<span class="na">—</span>' if flag is None else ("نعم" if flag else "لا")


def mark(flag) -> str:
    """✓ / ✗ (html), «—» when not judged."""
    if flag is None:
        return '<span class="na">—</span>'
    return '<span class="ok">✓</span>' if flag else '<span class="no">✗</span>'


def _tag_label(i: int, tag: str) -> str:
    """Chart label: the tag itself, or "tag i" for Arabic tags (matplotlib cannot shape Arabic)."""
    return f"tag {i}" if arabic.script_of(tag) == "ar" else tag


# ------------------------------------------------------------------ charts
def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def charts(summary: dict, records: list[dict]) -> list[tuple[str, str]]:
    """(Arabic caption, base64 PNG) for the hit@k curve, latency histogram and accuracy per tag."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    m = summary["metrics"]
    ks = [k for k in (1, 3, 5, 10) if m.get(f"hit@{k}") is not None]
    if ks:
        fig, ax = plt.subplots(figsize=(4.2, 3))
        ax.plot(ks, [m[f"hit@{k}"] for k in ks], marker="o", color="#2b6cb0")
        for k in ks:
            ax.annotate(f"{m[f'hit@{k}']:.2f}", (k, m[f"hit@{k}"]), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
        ax.set(xlabel="k (passages)", ylabel="hit@k", ylim=(0, 1.1), xticks=ks, title="Retrieval hit@k")
        ax.grid(alpha=0.3)
        out.append(("منحنى الإصابة في أول k مقاطع", _png(fig)))
    lat = [r["latency_ms"] for r in records if r.get("latency_ms") is not None]
    if lat:
        fig, ax = plt.subplots(figsize=(4.2, 3))
        ax.hist(lat, bins=min(30, max(5, len(lat) // 3)), color="#5a8f5a")
        for name, style in (("latency_p50_ms", "--"), ("latency_p95_ms", ":")):
            if m.get(name) is not None:
                ax.axvline(m[name], color="#333", linestyle=style, label=f"{name[8:11]} {m[name]:.0f} ms")
        ax.set(xlabel="latency (ms)", ylabel="questions", title="Latency")
        ax.legend(fontsize=8)
        out.append(("توزيع زمن الاستجابة", _png(fig)))
    tags = [(_tag_label(i, t), s["metrics"].get("accuracy")) for i, (t, s) in enumerate(summary.get("by_tag", {}).items(), 1)]
    tags = [(t, v) for t, v in tags if v is not None]
    if tags:
        names = [t for t, _ in tags]
        fig, ax = plt.subplots(figsize=(4.2, 0.5 + 0.45 * len(tags)))
        bars = ax.barh(names, [v for _, v in tags], color="#b7791f")
        ax.bar_label(bars, labels=[f"{v:.2f}" for _, v in tags], padding=3, fontsize=8)
        ax.set(xlim=(0, 1.05), xlabel="accuracy", title="Accuracy per tag")
        ax.invert_yaxis()
        out.append(("الصواب الإجمالي حسب الوسم", _png(fig)))
    return out


# ------------------------------------------------------------------ pieces
def failure_kind(rec: dict) -> str | None:
    ev, gold = rec.get("eval") or {}, rec["gold"]
    if ev.get("error"):
        return "error"
    if not gold["answerable"]:
        return None if ev.get("refused") else "missed_refusal"
    if ev.get("refused"):
        return "false_refusal"
    return "wrong" if ev.get("correct") is False else None


def _citations(rec: dict) -> str:
    gold = set(rec["gold"]["gold_docs"])
    off = " <span class='no'>(من خارج الوثائق المرجعية)</span>"
    return "".join(
        f'<div class="cite">[{c["n"]}] {_bdi(c["source"])}{off if gold and c["source"] not in gold else ""} '
        f'<bdi dir="ltr">{c["start"]}–{c["end"]}</bdi>: {escape(c["quote"])}</div>'
        for c in rec.get("citations") or [])


def _passages(rec: dict) -> str:
    ps = rec.get("passages") or []
    if not ps:
        return ""
    gold = set(rec["gold"]["gold_docs"])
    items = "".join(
        f'<li>{"★ " if p["source"] in gold else ""}{_bdi(p["chunk_id"])} <span class="na">({p["score"]:.4f})</span>'
        f"<div>{escape(p['text'])}</div></li>" for p in ps)
    return f"<details><summary>المقاطع المسترجعة ({len(ps)})</summary><ol>{items}</ol></details>"


def _question_cell(rec: dict) -> str:
    g = rec["gold"]
    hist = "".join(f'<div class="hist">↩ {escape(u)}</div>' for u, _ in g.get("history") or [])
    bits = []
    if g["gold_docs"]:
        bits.append("الوثائق: " + "، ".join(_bdi(d) for d in g["gold_docs"]))
    if g["must"]:
        bits.append("يجب أن تحوي: " + " + ".join(" / ".join(escape(a) for a in grp) for grp in g["must"]))
    if g["expected_answers"]:
        bits.append("المتوقع: " + " / ".join(escape(a) for a in g["expected_answers"]))
    if not g["answerable"]:
        bits.append("لا إجابة في الوثائق")
    if g["tags"]:
        bits.append("الوسوم: " + "، ".join(_bdi(t) for t in g["tags"]))
    return f"{hist}<div>{escape(rec['question'])}</div><div class='gold'>{' · '.join(bits)}</div>"


def _row_html(rec: dict) -> str:
    ev = rec.get("eval") or {}
    answer = f'<div class="err" dir="ltr">{escape(rec["error"])}</div>' if rec.get("error") else escape(rec.get("answer", ""))
    return (f"<tr id='q-{escape(rec['id'])}'><td>{_bdi(rec['id'])}</td><td>{_question_cell(rec)}</td>"
            f"<td>{answer}{_citations(rec)}{_passages(rec)}</td>"
            f"<td class='num'>{_yes_no(ev.get('refused'))}</td>"
            f"<td class='num'>{mark(ev.get('correct'))}</td><td class='num'>{mark(ev.get('hit@5'))}</td>"
            f"<td class='num'>{mark(ev.get('citation_valid'))}</td></tr>")


MAX_FAILURES = 200  # per kind; every question is also in the full table
TABLE_HEAD = ("<table><thead><tr><th style='width:4rem'>المعرّف</th><th style='width:32%'>السؤال</th>"
              "<th>الإجابة والاستشهادات</th><th>رفض</th>"
              "<th>صحيحة</th><th>إصابة@5</th><th>استشهاد سليم</th></tr></thead><tbody>")


def render(summary: dict, records: list[dict]) -> str:
    meta, m, d = summary.get("meta", {}), summary["metrics"], summary.get("denominators", {})
    counts = summary["counts"]
    cards = "".join(
        f"<div class='card{' bad' if k in ('errors', 'malformed_rows') and counts.get(k) else ''}'><b>{counts.get(k, 0)}</b>{v}</div>"
        for k, v in COUNTS.items())
    metric_rows = "".join(
        f"<tr><td>{LABELS.get(k, escape(k))} <span class='na'>{_bdi(k)}</span></td><td class='num'>{metric_value(k, v)}</td>"
        f"<td class='num'>{d.get(denominator_key(k), '')}</td></tr>"
        for k, v in m.items())
    figs = "".join(f"<figure><img alt='{escape(cap)}' src='data:image/png;base64,{png}'><figcaption>{escape(cap)}</figcaption></figure>"
                   for cap, png in charts(summary, records))
    tag_names = list(summary.get("by_tag", {}))
    tag_legend = [f"{_bdi(f'tag {i}')} = {escape(t)}" for i, t in enumerate(tag_names, 1) if arabic.script_of(t) == "ar"]
    tag_rows = "".join(
        f"<tr><td>{_bdi(t)}</td><td class='num'>{s['counts']['rows']}</td>"
        + "".join(f"<td class='num'>{metric_value(k, s['metrics'].get(k))}</td>"
                  for k in ("accuracy", "answer_accuracy", "hit@5", "refusal_accuracy", "false_refusal_rate", "citation_validity"))
        + "</tr>" for t, s in summary.get("by_tag", {}).items())
    failures = []
    for kind, title in FAILURES:
        recs = [r for r in records if failure_kind(r) == kind]
        if recs:
            more = f"<p class='meta'>أول {MAX_FAILURES} فقط؛ البقية في الجدول الكامل.</p>" if len(recs) > MAX_FAILURES else ""
            failures.append(f"<h3>{title} ({len(recs)})</h3>{more}{TABLE_HEAD}"
                            f"{''.join(map(_row_html, recs[:MAX_FAILURES]))}</tbody></table>")
    timings = meta.get("timings", {})
    model = meta.get("embedding_model", {})
    head = (f"<p class='meta'>ملف الأسئلة: {_bdi(Path(meta.get('input_file', '—')).name)} · "
            f"النموذج: {_bdi(model.get('name', model) if isinstance(model, dict) else model)} · "
            f"الإيداع: {_bdi(str(meta.get('git_commit', 'unknown'))[:12])} · بصمة الفهرس: {_bdi(meta.get('index_fingerprint', '—'))} · "
            f"البداية: {_bdi(timings.get('start', '—'))} · المدة: {_bdi(_seconds(timings.get('wall_seconds')))} ث · "
            f"عمق الاسترجاع: {summary.get('retrieval_depth', '—')}</p>")
    malformed = "".join(f"<li>{_bdi(e)}</li>" for e in meta.get("malformed", []))
    return f"""<!doctype html>
<html dir="rtl" lang="ar"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>تقرير التقييم</title><style>{CSS}</style></head><body>
<h1>تقرير تقييم المساعد</h1>{head}
<div class="cards">{cards}</div>
<h2>المقاييس</h2>
<table><thead><tr><th>المقياس</th><th>القيمة</th><th>عدد الأسئلة المحسوبة</th></tr></thead><tbody>{metric_rows}</tbody></table>
<h2>الرسوم</h2><div class="charts">{figs}</div>
{f"<p class='meta'>{' · '.join(tag_legend)}</p>" if tag_legend else ""}
<h2>حسب الوسم</h2>
{f"<table><thead><tr><th>الوسم</th><th>الأسئلة</th><th>{LABELS['accuracy']}</th><th>{LABELS['answer_accuracy']}</th><th>{LABELS['hit@5']}</th><th>{LABELS['refusal_accuracy']}</th><th>{LABELS['false_refusal_rate']}</th><th>{LABELS['citation_validity']}</th></tr></thead><tbody>{tag_rows}</tbody></table>" if tag_rows else "<p>لا وسوم في هذه المجموعة.</p>"}
<h2>الإخفاقات أولاً</h2>{''.join(failures) or "<p class='ok'>لا إخفاقات.</p>"}
{f"<details><summary>صفوف معيبة في ملف الأسئلة ({counts.get('malformed_rows', 0)})</summary><ul>{malformed}</ul></details>" if malformed else ""}
<h2>كل الأسئلة ({len(records)})</h2>{TABLE_HEAD}{''.join(map(_row_html, records))}</tbody></table>
<h2>بيانات إعادة الإنتاج</h2><details><summary>الإعدادات والبيانات الوصفية</summary>
<pre dir="ltr">{escape(json.dumps(meta, ensure_ascii=False, indent=1))}</pre></details>
</body></html>
"""


def write_report(out_dir, summary: dict, records: list[dict]) -> Path:
    path = Path(out_dir) / "report.html"
    path.write_text(render(summary, records), encoding="utf-8")
    return path
