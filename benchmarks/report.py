"""Tables, charts and the environment header, from plain row dicts.

Nothing here knows about estimators: a suite passes rows (dicts), the :class:`Column` list
that selects and formats them, and a :class:`ChartSpec` naming the ratio keys to plot.
:func:`write_report` writes ``<suite>.md`` (``<suite>-quick.md`` in quick mode) and the PNG
next to it, and returns the Markdown text.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import os
import platform
import re
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = [
    "ChartSpec", "Column", "environment", "fmt_ms", "fmt_ratio", "fmt_score",
    "markdown_table", "output_paths", "render_markdown", "write_ratio_chart",
    "write_report", "suite_headline", "run_summary",
]


# --------------------------------------------------------------------------- formatting


def fmt_ms(seconds) -> str:
    """Seconds -> milliseconds with about three significant digits."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "–"
    ms = seconds * 1e3
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}" if ms >= 0.01 else f"{ms:.1e}"


def fmt_ratio(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.2f}"


def fmt_score(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.4f}"


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True)
class Column:
    """A table column: ``header``, and either a row ``key`` or a ``value(row)`` function."""

    header: str
    key: str | None = None
    fmt: Callable[[Any], str] = str
    value: Callable[[dict], Any] | None = None
    align: str = "left"  # "left" or "right"

    def render(self, row: dict) -> str:
        raw = self.value(row) if self.value is not None else row.get(self.key)
        return _cell(self.fmt(raw))


def markdown_table(rows: Sequence[dict], columns: Sequence[Column]) -> str:
    """A GitHub-flavoured Markdown table."""
    header = "| " + " | ".join(_cell(c.header) for c in columns) + " |"
    rule = "|" + "|".join("---:" if c.align == "right" else "---" for c in columns) + "|"
    body = ["| " + " | ".join(c.render(r) for c in columns) + " |" for r in rows]
    return "\n".join([header, rule, *body])


# --------------------------------------------------------------------------- chart


@dataclass(frozen=True)
class ChartSpec:
    """A horizontal bar chart of ratios, one group of bars per row, log scale.

    ``bars`` pairs a row key with its legend label; ``lines`` are vertical reference lines
    ``(x, label)`` (1.0 is always drawn).
    """

    title: str
    bars: Sequence[tuple[str, str]]
    label: Callable[[dict], str]
    xlabel: str = "time ratio ours / reference (log scale; < 1 means ours is faster)"
    lines: Sequence[tuple[float, str]] = field(default_factory=tuple)


def write_ratio_chart(rows: Sequence[dict], path: Path, spec: ChartSpec) -> Path:
    """Write the PNG; rows without any ratio are labelled with their status."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    n = max(len(rows), 1)
    k = len(spec.bars)
    height = 0.8 / k
    fig, ax = plt.subplots(figsize=(9, 1.8 + 0.17 * n * max(k, 2)), layout="constrained")
    values = [v for r in rows for key, _ in spec.bars
              if (v := r.get(key)) is not None and v > 0 and math.isfinite(v)]
    marks = [1.0, *(x for x, _ in spec.lines)]
    lo = min(values + marks) / 1.3
    hi = max(values + marks) * 1.3
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for j, (key, label) in enumerate(spec.bars):
        ys, xs = [], []
        for i, r in enumerate(rows):
            v = r.get(key)
            if v is not None and v > 0 and math.isfinite(v):
                ys.append(i + (j - (k - 1) / 2) * height)
                xs.append(v)
        # bars grow from 1.0, so faster-than-reference bars point left
        ax.barh(ys, [x - 1.0 for x in xs], left=1.0, height=height, label=label,
                color=colors[j % len(colors)])
    for i, r in enumerate(rows):
        if all(r.get(key) is None for key, _ in spec.bars):
            ax.text(1.0, i, f"  {r.get('status', 'n/a')}", va="center", fontsize=8,
                    color="0.4")
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    mantissas = (1, 2, 5) if hi / lo > 30 else (1, 1.5, 2, 3, 5, 7)
    ticks = [round(m * 10.0 ** e, 6) for e in range(-4, 5) for m in mantissas]
    ticks = [t for t in ticks if lo <= t <= hi]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axvline(1.0, color="black", linewidth=1.0)
    for x, text in spec.lines:
        ax.axvline(x, color="0.3", linestyle=":", linewidth=1.0, label=text)
    ax.set_yticks(range(len(rows)), [spec.label(r) for r in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first row on top
    ax.set_xlabel(spec.xlabel)
    ax.set_title(spec.title, fontsize=10)
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.legend(fontsize=8, loc="outside lower center", ncols=len(spec.bars) + len(spec.lines))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# --------------------------------------------------------------------------- environment


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_revision(root: Path | None = None) -> str:
    """``HEAD``'s short hash; a dirty tree adds the SHA-1 of its diff against ``HEAD``.

    ``"abc1234 + diff sha1 0f3e5a9c1b2d"`` ties a result to exact code: apply the diff
    with that hash to the commit to measure the same code again. Changes under
    ``benchmarks/results`` (what a run writes) and untracked files are not part of it;
    untracked files are named (``+ N untracked``) so that a row measured with them
    says so.
    """
    root = Path(__file__).resolve().parents[1] if root is None else root
    outside_results = ["--", ".", ":(exclude)benchmarks/results"]
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                             capture_output=True, text=True, timeout=10).stdout.strip()
        if not rev:
            return "unknown"
        diff = subprocess.run(["git", "diff", "HEAD", "--binary", *outside_results],
                              cwd=root, capture_output=True, timeout=30).stdout
        untracked = subprocess.run(
            ["git", "ls-files", "--others", "--exclude-standard", *outside_results],
            cwd=root, capture_output=True, text=True, timeout=30).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if diff:
        rev += f" + diff sha1 {hashlib.sha1(diff).hexdigest()[:12]}"
    if untracked:
        rev += f" + {len(untracked)} untracked"
    return rev


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return "unknown"
    libs = {f"{i.get('internal_api')} {i.get('version') or ''}".strip()
            for i in threadpool_info()}
    return ", ".join(sorted(libs)) or "none loaded"


def environment() -> dict:
    """Machine, versions and date, as plain data."""
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{_cpu_model()}, {os.cpu_count()} logical CPUs, "
                   f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": {name: _version(dist) for name, dist in (
            ("numpy", "numpy"), ("scipy", "scipy"), ("scikit-learn", "scikit-learn"),
            ("torch", "torch"), ("mlnotes", "mlnotes"), ("threadpoolctl", "threadpoolctl"),
            ("numba", "numba"))},
        "thread_libraries": _blas(),
        "git": _git_revision(),
    }


# --------------------------------------------------------------------------- report


def output_paths(out_dir: Path, suite: str, quick: bool,
                 variant: str = "") -> tuple[Path, Path]:
    """``<suite>.md``/``.png``, or ``<suite>-quick.md``/``.png`` in quick mode.

    ``variant`` (e.g. ``"-intelex"``, ``"-allcores"``) is appended to the stem, so runs
    with other options never overwrite the default tables.
    """
    stem = (f"{suite}-quick" if quick else suite) + variant
    out_dir = Path(out_dir)
    return out_dir / f"{stem}.md", out_dir / f"{stem}.png"


def render_markdown(result, ctx, env: dict, chart_path: Path | None) -> str:
    """The full Markdown report of one suite."""
    v = env["versions"]
    mode = ("quick (`--quick`: big datasets reduced, see the n_train column)"
            if ctx.quick else "full (acceptance sizes)")
    lines = [
        f"# Benchmark {result.title or result.suite}",
        "",
        f"- command: `{ctx.command}`",
        f"- mode: {mode}",
        f"- date: {env['date']}; git {env['git']}",
        f"- machine: {env['machine']}; Python {env['python']}",
        "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        (f"- threads: all {os.cpu_count()} cores for every library (`--threads all`: BLAS, "
         "numba, torch, oneDAL; `n_jobs=-1` where an estimator has it)"
         if getattr(ctx, "all_cores", False) else
         f"- threads: 1 (threadpoolctl `threadpool_limits(1)` over {env['thread_libraries']}; "
         "`torch.set_num_threads(1)`; OMP/BLAS/numba thread variables set to 1"
         + ("; oneDAL `daal4py.daalinit(1)`" if getattr(ctx, "intelex", False) else "")
         + ")"),
        *[f"- {line}" for line in result.method],
        "",
        markdown_table(result.rows, result.columns),
        *result.summary,
    ]
    if chart_path is not None:
        lines += ["", f"![time ratios]({chart_path.name})"]
    for fig in result.figures:
        lines += ["", f"![{Path(fig).stem}]({Path(fig).name})"]
    return "\n".join(lines) + "\n"


def write_report(result, ctx, env: dict | None = None) -> tuple[str, Path, Path | None]:
    """Write the Markdown file and the chart; return ``(markdown, md_path, png_path)``."""
    env = environment() if env is None else env
    md_path, png_path = output_paths(ctx.out_dir, result.suite, ctx.quick,
                                      getattr(ctx, "variant", ""))
    md_path.parent.mkdir(parents=True, exist_ok=True)
    if result.chart is not None and result.rows:
        write_ratio_chart(result.rows, png_path, result.chart)
    else:
        png_path = None
    text = render_markdown(result, ctx, env, png_path)
    tmp = md_path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(md_path)
    return text, md_path, png_path


# --------------------------------------------------------------------------- estimator suite


def _dataset_label(row: dict) -> str:
    return row["dataset"] + (" †" if row.get("acceptance") else "")


def _shape(row: dict) -> str:
    return f"{row['n_train']:,} x {row['n_features']}"


def _status_text(row: dict) -> str:
    status = row["status"]
    if status == "ok":
        return "ok" + (" (see messages)" if row.get("message") else "")
    msg = (row.get("message") or "").removeprefix("ImportError: ")
    return f"{status}: {msg[:90]}{'...' if len(msg) > 90 else ''}" if msg else status


def estimator_columns(reference_label: str = "ref", intelex: bool = False) -> list[Column]:
    """Columns of an :class:`~benchmarks.harness.EstimatorSuite` table.

    With ``intelex``, scikit-learn-intelex's score and fit+predict time follow, with the
    ratios ours / sklearnex and sklearnex / reference.
    """
    r = reference_label
    extra = [
        Column("score sklearnex", "score_ix", fmt_score, align="right"),
        Column("fit+predict ms sklearnex", value=_total_ms_ix, align="right"),
        Column("ours / sklearnex", "total_ratio_ix", fmt_ratio, align="right"),
        Column(f"sklearnex / {r}", "ix_ratio_ref", fmt_ratio, align="right"),
        Column("sklearnex", value=lambda row: row.get("intelex_status") or "-"),
    ] if intelex else []
    return [
        Column("case", "case"),
        Column("dataset", value=_dataset_label),
        Column("n_train x d", value=_shape, align="right"),
        Column("metric", "metric"),
        Column("score ours", "score_ours", fmt_score, align="right"),
        Column(f"score {r}", "score_ref", fmt_score, align="right"),
        Column("fit ms ours", "fit_ours", fmt_ms, align="right"),
        Column(f"fit ms {r}", "fit_ref", fmt_ms, align="right"),
        Column("fit ratio", "fit_ratio", fmt_ratio, align="right"),
        Column("predict ms ours", "predict_ours", fmt_ms, align="right"),
        Column(f"predict ms {r}", "predict_ref", fmt_ms, align="right"),
        Column("predict ratio", "predict_ratio", fmt_ratio, align="right"),
        Column("fit+predict ratio", "total_ratio", fmt_ratio, align="right"),
        *extra,
        Column("status", value=_status_text),
    ]


def _total_ms_ix(row: dict) -> str:
    f, p = row.get("fit_ix"), row.get("predict_ix")
    return "-" if f is None or p is None else fmt_ms(f + p)


def estimator_chart(suite: str, ctx, acceptance=None) -> ChartSpec:
    lines = []
    if acceptance is not None:
        lines.append((acceptance.max_ratio,
                      f"acceptance limit {acceptance.max_ratio:g}x (fit+predict, † rows)"))
    return ChartSpec(
        title=f"{suite} ({ctx.mode} mode): time ratio mlnotes / reference, one thread",
        bars=(("fit_ratio", "fit"), ("predict_ratio", "predict"),
              ("total_ratio", "fit+predict")),
        label=lambda r: f"{r['case']} | {_dataset_label(r)}",
        lines=tuple(lines),
    )


# --------------------------------------------------------------------------- run summary

_VERDICT = re.compile(r"\*\*(NOT met|met)\b")


def _row_label(row: dict) -> str:
    name = str(row.get("case") or row.get("model") or "?")
    where = row.get("dataset") or row.get("table") or row.get("env")
    return f"{name} / {where}" if where else name


def suite_headline(result) -> dict:
    """One suite in a few numbers: rows, geo-mean and worst time ratio, verdicts.

    The ratio is ``result.ratio_key`` if set, else ``total_ratio`` (fit+predict time,
    ours / reference) or, for throughput suites, ``1 / speed_ratio``; every value is
    turned into a time ratio (< 1: ours faster). Verdicts are the ``**met**`` /
    ``**NOT met**`` marks of the summary lines (else the rows' ``verdict`` fields).
    """
    rows = result.rows
    key, invert = result.ratio_key, result.ratio_higher_is_better
    if key is None:
        if any(r.get("total_ratio") is not None for r in rows):
            key, invert = "total_ratio", False
        elif any(r.get("speed_ratio") is not None for r in rows):
            key, invert = "speed_ratio", True
    ratios = []
    for r in rows:
        v = r.get(key) if key else None
        if isinstance(v, (int, float)) and v > 0 and math.isfinite(v):
            ratios.append((1.0 / v if invert else float(v), r))
    values = [v for v, _ in ratios]
    geo = math.exp(sum(map(math.log, values)) / len(values)) if values else math.nan
    worst = max(ratios, key=lambda t: t[0], default=None)
    marks = [m for line in result.summary for m in _VERDICT.findall(line)]
    if not marks:
        marks = [("NOT met" if str(r.get("verdict", "")).startswith("NOT met") else "met")
                 for r in rows if str(r.get("verdict", "")).startswith(("met", "NOT met"))]
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[str(r.get("status", "ok"))] = statuses.get(str(r.get("status", "ok")), 0) + 1
    return {
        "suite": result.suite, "rows": len(rows), "statuses": statuses,
        "geomean": geo, "n_ratios": len(values),
        "worst": (worst[0], _row_label(worst[1])) if worst else None,
        "met": marks.count("met"), "not_met": marks.count("NOT met"),
        "failed": bool(result.failed),
    }


def run_summary(headlines: Sequence[dict], *, elapsed: float, ctx, files: dict,
                crashed: Sequence[str] = (), skipped: Sequence[str] = ()) -> str:
    """The one-screen summary of a run (plain text, also valid Markdown)."""
    width = max([len(h["suite"]) for h in headlines] + [len(c) for c in crashed] + [5])
    lines = [f"Summary ({ctx.mode} mode{', subset' if ctx.subset else ''}, "
             f"{elapsed / 60:.1f} min; time ratio = ours / reference, < 1 is faster)", "",
             f"{'suite':<{width}}  time  rows  geo-mean  worst row                       "
             "verdicts"]
    for h in headlines:
        bad = {k: v for k, v in h["statuses"].items() if k != "ok"}
        rows = f"{h['rows']}" + (f" ({', '.join(f'{v} {k}' for k, v in bad.items())})"
                                 if bad else "")
        geo = "-" if math.isnan(h["geomean"]) else f"{h['geomean']:.2f}x"
        worst = "-" if h["worst"] is None else f"{h['worst'][0]:.2f}x {h['worst'][1]}"
        if len(worst) > 31:
            worst = worst[:30] + "…"
        verdicts = (f"{h['met']} met" + (f", {h['not_met']} NOT met" if h["not_met"] else "")
                    if h["met"] or h["not_met"] else "-")
        took = f"{h['seconds']:.0f}s" if h.get("seconds") is not None else "-"
        lines.append(f"{h['suite']:<{width}}  {took:>4}  {h['rows']:>4}  {geo:>8}  "
                     f"{worst:<31} {verdicts}" + (f"   [{rows}]" if bad else ""))
    for name in crashed:
        lines.append(f"{name:<{width}}  crashed (traceback above)")
    if skipped:
        lines.append(f"not run, time budget spent: {', '.join(skipped)}")
    if files:
        lines += ["", f"Tables and charts: {Path(next(iter(files.values()))).parent}/"]
    return "\n".join(lines) + "\n"
