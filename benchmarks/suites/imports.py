"""The ``imports`` suite: import time of each mlnotes subpackage vs scikit-learn's module.

Each import is timed in a fresh interpreter (``python -c``) that first imports numpy
(the baseline both share), then the module, reading ``time.perf_counter`` around the
second import; ours and scikit-learn's alternate, and the row reports the medians.
Criterion of the maintainability issue: every subpackage at most 1.5x scikit-learn's
import time for the same module. Importing an mlnotes subpackage also loads numba and
the subpackage's kernels from the cache (not compiled), which is most of the
difference.

Each interpreter also reports the CPU time of the import (``time.process_time``): on a
loaded machine wall time includes the waits for a core, which CPU time leaves out, so
the CPU-time ratio is close to what an idle machine shows.
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
SCRIPT = ("import time, numpy; t = time.perf_counter(); c = time.process_time(); "
          "import {module}; print(time.perf_counter() - t, time.process_time() - c)")


def import_seconds(module: str, cpu: bool = False):
    """Seconds to import ``module`` in a fresh interpreter after numpy.

    With ``cpu=True``, returns ``(wall seconds, CPU seconds)``.
    """
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(module=module)],
                         capture_output=True, text=True, check=True)
    wall, cpu_s = (float(v) for v in out.stdout.strip().splitlines()[-1].split())
    return (wall, cpu_s) if cpu else wall


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
                             "ours": None, "ref": None, "cpu_ratio": None})
                continue
            ours, ref, ours_cpu, ref_cpu = [], [], [], []
            try:
                for r in range(repeats):
                    pair = ((ours_mod, ours, ours_cpu), (ref_mod, ref, ref_cpu))
                    for module, times, cpu in (pair if r % 2 == 0 else pair[::-1]):
                        wall, cpu_s = import_seconds(module, cpu=True)
                        times.append(wall)
                        cpu.append(cpu_s)
            except subprocess.CalledProcessError as exc:
                rows.append({"case": case, "status": f"error: {exc.stderr[-200:]}",
                             "total_ratio": None, "ours": None, "ref": None,
                             "cpu_ratio": None})
                continue
            t_ours, t_ref = statistics.median(ours), statistics.median(ref)
            c_ours, c_ref = statistics.median(ours_cpu), statistics.median(ref_cpu)
            rows.append({"case": case, "ours_module": ours_mod, "ref_module": ref_mod,
                         "ours": t_ours, "ref": t_ref, "total_ratio": t_ours / t_ref,
                         "ours_cpu": c_ours, "ref_cpu": c_ref, "cpu_ratio": c_ours / c_ref,
                         "status": "ok"})
            ctx.log(f"[imports] {case}: {t_ours * 1e3:.0f} ms vs {t_ref * 1e3:.0f} ms "
                    f"(CPU {c_ours * 1e3:.0f} vs {c_ref * 1e3:.0f} ms)")
        measured = [r for r in rows if r["total_ratio"] is not None]
        over = [r["case"] for r in measured if r["total_ratio"] > MAX_RATIO]
        summary = ["", "### Acceptance", ""]
        if measured:
            summary.append(f"- geometric mean of import-time ratios: "
                           f"{geometric_mean(r['total_ratio'] for r in measured):.2f}x")
            verdict = "met" if not over else f"NOT met (over {MAX_RATIO}x: {', '.join(over)})"
            summary.append(f"- every subpackage at most {MAX_RATIO}x scikit-learn's: "
                           f"**{verdict}**")
            over_cpu = [r["case"] for r in measured if r["cpu_ratio"] > MAX_RATIO]
            summary.append(f"- the same on CPU time (the machine's load left out): "
                           f"{'met' if not over_cpu else 'not met: ' + ', '.join(over_cpu)}")
        columns = [
            Column("subpackage", "case"),
            Column("import ms mlnotes", "ours", _ms, align="right"),
            Column("import ms scikit-learn", "ref", _ms, align="right"),
            Column("ratio", "total_ratio", fmt_ratio, align="right"),
            Column("CPU ms mlnotes", "ours_cpu", _ms, align="right"),
            Column("CPU ms scikit-learn", "ref_cpu", _ms, align="right"),
            Column("CPU ratio", "cpu_ratio", fmt_ratio, align="right"),
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
