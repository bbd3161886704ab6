"""The ``imports`` suite: import time of each mlnotes subpackage vs scikit-learn's module.

Each import is timed in a fresh interpreter (``python -c``) that first imports numpy
(the baseline both share), then the module, reading ``time.perf_counter`` around the
second import; ours and scikit-learn's alternate, and the row reports the medians.
Criterion of the maintainability issue: every subpackage at most 1.5x scikit-learn's
import time for the same module. Importing an mlnotes subpackage also loads numba and
the subpackage's kernels from the cache (not compiled), which is most of the
difference.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from typing import Sequence

from benchmarks.harness import RunContext, SuiteResult, geometric_mean
from benchmarks.report import Column, fmt_ratio

#: (mlnotes module, scikit-learn module)
PAIRS = {
    "linear_model": ("mlnotes.linear_model", "sklearn.linear_model"),
    "tree": ("mlnotes.tree", "sklearn.tree"),
    "ensemble": ("mlnotes.ensemble", "sklearn.ensemble"),
    "cluster": ("mlnotes.cluster", "sklearn.cluster"),
    "neighbors": ("mlnotes.neighbors", "sklearn.neighbors"),
    "svm": ("mlnotes.svm", "sklearn.svm"),
    "decomposition": ("mlnotes.decomposition", "sklearn.decomposition"),
    "mixture": ("mlnotes.mixture", "sklearn.mixture"),
    "preprocessing": ("mlnotes.preprocessing", "sklearn.preprocessing"),
    "neural_network": ("mlnotes.neural_network", "sklearn.neural_network"),
}
MAX_RATIO = 1.5
SCRIPT = ("import time, numpy; t = time.perf_counter(); import {module}; "
          "print(time.perf_counter() - t)")


def import_seconds(module: str) -> float:
    """Seconds to import ``module`` in a fresh interpreter after numpy."""
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(module=module)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _ms(v):
    return "–" if v is None else f"{v * 1e3:.0f}"


class ImportsSuite:
    """Import times in fresh interpreters; follows ``harness.Suite``."""

    name = "imports"
    description = "import time of mlnotes subpackages vs scikit-learn's modules"
    quick_cases = ("linear_model",)

    def case_names(self):
        return list(PAIRS)

    def describe(self):
        return [f"{case}: import {ours} vs import {ref}"
                for case, (ours, ref) in PAIRS.items()]

    def run(self, ctx: RunContext, cases: Sequence[str] | None = None) -> SuiteResult:
        chosen = [c for c in self.case_names() if cases is None or c in cases]
        repeats = max(3, ctx.repeats)
        rows = []
        for case in chosen:
            ours_mod, ref_mod = PAIRS[case]
            if ctx.time_left() <= 0:
                rows.append({"case": case, "status": "skipped", "total_ratio": None,
                             "ours": None, "ref": None})
                continue
            ours, ref = [], []
            try:
                for r in range(repeats):
                    pair = ((ours_mod, ours), (ref_mod, ref))
                    for module, times in (pair if r % 2 == 0 else pair[::-1]):
                        times.append(import_seconds(module))
            except subprocess.CalledProcessError as exc:
                rows.append({"case": case, "status": f"error: {exc.stderr[-200:]}",
                             "total_ratio": None, "ours": None, "ref": None})
                continue
            t_ours, t_ref = statistics.median(ours), statistics.median(ref)
            rows.append({"case": case, "ours_module": ours_mod, "ref_module": ref_mod,
                         "ours": t_ours, "ref": t_ref, "total_ratio": t_ours / t_ref,
                         "status": "ok"})
            ctx.log(f"[imports] {case}: {t_ours * 1e3:.0f} ms vs {t_ref * 1e3:.0f} ms")
        measured = [r for r in rows if r["total_ratio"] is not None]
        over = [r["case"] for r in measured if r["total_ratio"] > MAX_RATIO]
        summary = ["", "### Acceptance", ""]
        if measured:
            summary.append(f"- geometric mean of import-time ratios: "
                           f"{geometric_mean(r['total_ratio'] for r in measured):.2f}x")
            verdict = "met" if not over else f"NOT met (over {MAX_RATIO}x: {', '.join(over)})"
            summary.append(f"- every subpackage at most {MAX_RATIO}x scikit-learn's: "
                           f"**{verdict}**")
        columns = [
            Column("subpackage", "case"),
            Column("import ms mlnotes", "ours", _ms, align="right"),
            Column("import ms scikit-learn", "ref", _ms, align="right"),
            Column("ratio", "total_ratio", fmt_ratio, align="right"),
            Column("status", "status"),
        ]
        method = [f"timing: each import in a fresh interpreter after `import numpy`; the "
                  f"median of {repeats} runs per side, alternating; numba kernels load "
                  "from the on-disk cache (`python -m mlnotes.compile` at install)."]
        return SuiteResult(suite=self.name, rows=rows, columns=columns,
                           title=f"{self.name}: {self.description}", method=method,
                           summary=summary, failed=any(r["status"].startswith("error")
                                                       for r in rows))


SUITE = ImportsSuite()
