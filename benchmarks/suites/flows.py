"""Normalising flows of chapter 49 against zuko, KernelDensity and GaussianMixture.

One table, one row per (dataset, model): the held-out negative log-likelihood (nats per
row, lower is better) next to the true entropy of the dataset (the floor), the gap
``NLL - H``, the fit time and the time to draw 10,000 samples.

Datasets: the 2-D densities of :mod:`mlnotes.datasets` (two moons, checkerboard, eight
Gaussians, rings, pinwheel), ``N_TRAIN`` training rows (``random_state=0``) and ``N_TEST`` held-out
rows (``random_state=1``); quick mode uses two moons only, with fewer rows and epochs.

Models:

- ``RealNVP``, ``MAF``, ``Glow``, ``NeuralSplineFlow`` of :mod:`mlnotes.density` at
  their defaults, ``random_state=0`` (quick mode: ``max_iter=QUICK_EPOCHS``);
- zuko's ``NSF`` and ``MAF`` at zuko's default architecture (3 transforms, hidden
  ``(64, 64)``, 8 bins), trained here on the *same* standardised data, batch size,
  epochs, seed, optimiser (Adam, our default ``learning_rate_init``, cosine annealing,
  gradient norm clipped at 5) as ours, float32, one thread; their log-density includes
  the same standardisation term. Acceptance: our NeuralSplineFlow and MAF at least as
  good in NLL as zuko's NSF and MAF, and no slower to fit;
- scikit-learn's ``KernelDensity`` with the bandwidth chosen by 3-fold
  cross-validation over 10 values from 0.02 to 0.5 (geometric) and
  ``GaussianMixture(n_components=8, random_state=0)``.

Timing: every fit is timed once, in wall-clock and in CPU seconds of this process
(one thread, so CPU time is the work done, insensitive to other processes on a loaded
machine; the cross-validation is part of the KDE's fit); sampling is the median of 3
draws of 10,000 rows. The speed acceptance (ours vs zuko) is the ``speed / zuko``
column: ``SPEED_REPEATS`` interleaved short fits (``SPEED_EPOCHS`` epochs on the same
training rows, same batches and optimiser) of ours and zuko's after one warm-up fit of
each, the ratio of the median CPU times. Figures: ``flows-<dataset>.png`` (``-quick`` appended in quick mode): the
data and 2,000 samples of every model (top row), and every model's log-density on a
grid (bottom row).
"""

from __future__ import annotations

import math
import statistics
import time
import traceback
import warnings

import numpy as np

from benchmarks.harness import SuiteResult, single_thread

N_TRAIN, N_TEST = 10_000, 20_000
QUICK_N_TRAIN, QUICK_N_TEST, QUICK_EPOCHS = 2_000, 5_000, 12
SPEED_EPOCHS, SPEED_REPEATS = 3, 5
N_SAMPLE = 10_000
GAP_MAX, GAP_GOAL = 0.15, 0.05
FLOWS = ("RealNVP", "MAF", "Glow", "NeuralSplineFlow")
ZUKO = ("zuko-NSF", "zuko-MAF")
BASELINES = ("KernelDensity-cv", "GaussianMixture-8")
MODELS = FLOWS + ZUKO + BASELINES


# ------------------------------------------------------------------------ zuko side


class ZukoFlow:
    """A zuko flow trained exactly like our flows (same data, batches, optimiser, seed).

    The data are standardised as :class:`mlnotes.density.flows._base.FlowDensity` does
    (weighted mean and standard deviation of each feature) and the log-density adds
    ``-sum(log scale)``; batches of ``batch_size`` rows in an order drawn from
    ``RandomState(seed)`` every epoch; Adam with a per-epoch cosine-annealed step size
    and gradient clipping, as the defaults of our flows.
    """

    def __init__(self, kind="NSF", epochs=50, batch_size=256, learning_rate_init=0.002,
                 gradient_clipping=5.0, random_state=0):
        self.kind = kind
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.gradient_clipping = gradient_clipping
        self.random_state = random_state

    def fit(self, X):
        import torch
        import zuko

        X = np.asarray(X, dtype=np.float64)
        self.mean_, self.scale_ = X.mean(axis=0), X.std(axis=0)
        Z = torch.as_tensor((X - self.mean_) / self.scale_, dtype=torch.float32)
        rng = np.random.RandomState(self.random_state)
        with torch.random.fork_rng():
            torch.manual_seed(self.random_state)
            flow = getattr(zuko.flows, self.kind)(features=X.shape[1])
            opt = torch.optim.Adam(flow.parameters(), lr=self.learning_rate_init)
            n = Z.shape[0]
            for epoch in range(self.epochs):
                perm = torch.as_tensor(rng.permutation(n))
                for start in range(0, n, self.batch_size):
                    xb = Z[perm[start:start + self.batch_size]]
                    loss = -flow().log_prob(xb).mean()
                    opt.zero_grad()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(flow.parameters(),
                                                   self.gradient_clipping)
                    opt.step()
                lr = 0.5 * self.learning_rate_init * (
                    1 + math.cos(math.pi * (epoch + 1) / self.epochs))
                for group in opt.param_groups:
                    group["lr"] = lr
        self.flow_ = flow.double().eval()
        return self

    def score_samples(self, X):
        import torch

        Z = (np.asarray(X, dtype=np.float64) - self.mean_) / self.scale_
        with torch.no_grad():
            lp = self.flow_().log_prob(torch.as_tensor(Z)).numpy()
        return lp - np.log(self.scale_).sum()

    def sample(self, n_samples, random_state=0):
        import torch

        with torch.random.fork_rng(), torch.no_grad():
            torch.manual_seed(random_state)
            Z = self.flow_().sample((n_samples,)).numpy()
        return Z * self.scale_ + self.mean_


# ----------------------------------------------------------------------- the suite

ZUKO_OF = {"NeuralSplineFlow": "zuko-NSF", "MAF": "zuko-MAF"}


def _speed_ratio(model, X):
    """CPU time of our fit over zuko's: median of interleaved short fits.

    One warm-up fit of each, then ``SPEED_REPEATS`` rounds of (ours, zuko), each a fit
    of ``SPEED_EPOCHS`` epochs on ``X`` at the defaults (zuko: as in ``_make``).
    """
    import mlnotes.density as density

    def ours():
        return getattr(density, model)(max_iter=SPEED_EPOCHS, random_state=0)

    def theirs():
        z = _make(ZUKO_OF[model], quick=False)
        z.epochs = SPEED_EPOCHS
        return z

    def cpu(make):
        est = make()
        c0 = time.process_time()
        est.fit(X)
        return time.process_time() - c0

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpu(ours), cpu(theirs)
        times = [(cpu(ours), cpu(theirs)) for _ in range(SPEED_REPEATS)]
    return statistics.median(t[0] for t in times) / statistics.median(t[1] for t in times)



def _make(model, quick):
    if model in FLOWS:
        import mlnotes.density as density

        params = dict(random_state=0)
        if quick:
            params["max_iter"] = QUICK_EPOCHS
        return getattr(density, model)(**params)
    if model in ZUKO:
        import mlnotes.density as density

        kind = model.split("-")[1]
        ours = density.NeuralSplineFlow() if kind == "NSF" else density.MAF()
        epochs = QUICK_EPOCHS if quick else ours.max_iter
        return ZukoFlow(kind, epochs=epochs, batch_size=ours.batch_size,
                        learning_rate_init=ours.learning_rate_init,
                        gradient_clipping=ours.gradient_clipping, random_state=0)
    if model == "KernelDensity-cv":
        from sklearn.model_selection import GridSearchCV
        from sklearn.neighbors import KernelDensity

        class _CVKernelDensity:
            def fit(self, X):
                search = GridSearchCV(KernelDensity(),
                                      {"bandwidth": np.geomspace(0.02, 0.5, 10)}, cv=3)
                self.kde_ = search.fit(X).best_estimator_
                return self

            def score_samples(self, X):
                return self.kde_.score_samples(X)

            def sample(self, n, random_state=0):
                return self.kde_.sample(n, random_state=random_state)

        return _CVKernelDensity()
    from sklearn.mixture import GaussianMixture

    class _GMM(GaussianMixture):
        def sample(self, n_samples=1, random_state=0):
            self.random_state = random_state
            return super().sample(n_samples)[0]

    return _GMM(n_components=8, random_state=0)


class FlowsSuite:
    """Held-out NLL vs the true entropy, fit and sample time, one row per model."""

    name = "flows"
    description = ("mlnotes.density flows (chapter 49) vs zuko NSF/MAF, KernelDensity "
                   "and GaussianMixture on 2-D densities of known entropy")
    quick_cases = [f"{m}-two_moons" for m in MODELS]

    def _datasets(self, quick):
        from mlnotes.datasets import DENSITIES

        return ("two_moons",) if quick else DENSITIES

    def case_names(self):
        from mlnotes.datasets import DENSITIES

        return [f"{m}-{d}" for d in DENSITIES for m in MODELS]

    def describe(self):
        return [f"{c}: held-out NLL, fit and sample time" for c in self.case_names()]

    def _run_model(self, model, dataset, data, ctx):
        from mlnotes.datasets import entropy

        X_train, X_test = data
        row = {"suite": self.name, "case": f"{model}-{dataset}", "dataset": dataset,
               "model": model, "n_train": X_train.shape[0], "n_test": X_test.shape[0],
               "entropy": entropy(dataset), "nll": None, "gap": None, "fit": None,
               "fit_cpu": None, "speed_ratio": None, "sample": None, "status": "ok", "message": "", "estimator": None,
               "mode": ctx.mode}
        try:
            est = _make(model, ctx.quick)
        except ImportError as exc:
            row["status"], row["message"] = "not available", str(exc)[:200]
            return row
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0, c0 = time.perf_counter(), time.process_time()
                est.fit(X_train)
                row["fit"] = time.perf_counter() - t0
                row["fit_cpu"] = time.process_time() - c0
                row["nll"] = float(-np.mean(est.score_samples(X_test)))
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    est.sample(N_SAMPLE, random_state=0)
                    times.append(time.perf_counter() - t0)
                row["sample"] = statistics.median(times)
        except Exception as exc:
            ctx.log(f"[{self.name}] {row['case']} raised:")
            traceback.print_exc()
            row["status"], row["message"] = "error", f"{type(exc).__name__}: {exc}"[:200]
            return row
        row["gap"] = row["nll"] - row["entropy"]
        row["estimator"] = est
        if model in ZUKO_OF:
            try:
                row["speed_ratio"] = _speed_ratio(model, X_train)
            except ImportError:
                pass
        return row

    def run(self, ctx, cases=None):
        from mlnotes.datasets import make_density

        rows = []
        n_train, n_test = (QUICK_N_TRAIN, QUICK_N_TEST) if ctx.quick else (N_TRAIN, N_TEST)
        data_by_name = {}
        with single_thread():
            for dataset in self._datasets(ctx.quick):
                chosen = [m for m in MODELS if cases is None or f"{m}-{dataset}" in cases]
                if not chosen:
                    continue
                data = (make_density(dataset, n_train, random_state=0),
                        make_density(dataset, n_test, random_state=1))
                data_by_name[dataset] = data
                for model in chosen:
                    if ctx.time_left() <= 0:
                        break
                    row = self._run_model(model, dataset, data, ctx)
                    rows.append(row)
                    ctx.log(f"[{self.name}] {row['case']}: NLL {_fmt(row['nll'])} "
                            f"(H {row['entropy']:.4f}), fit {_fmt(row['fit'], 2)} s "
                            f"[{row['status']}]")
        for r in rows:
            ref = next((x for x in rows if x["dataset"] == r["dataset"]
                        and x["model"] == ZUKO_OF.get(r["model"])), None)
            r["vs_zuko_nll"] = (r["nll"] - ref["nll"] if ref and ref["nll"] is not None
                                and r["nll"] is not None else None)
            r["fit_ratio"] = (r["fit"] / ref["fit"] if ref and ref["fit"] and r["fit"]
                              else None)
            r["fit_cpu_ratio"] = (r["fit_cpu"] / ref["fit_cpu"] if ref and ref["fit_cpu"]
                                  and r["fit_cpu"] else None)
        figures = []
        try:
            figures = self._figures(rows, data_by_name, ctx)
        except Exception:  # a plotting problem must not lose the table
            traceback.print_exc()
        for r in rows:
            r.pop("estimator", None)
        return SuiteResult(
            suite=self.name, rows=rows, columns=_columns(),
            title=f"{self.name}: {self.description}", method=_method_lines(ctx),
            summary=_summary(rows, ctx.quick), figures=figures, ratio_key="speed_ratio",
            failed=any(r["status"] == "error" for r in rows))

    def _figures(self, rows, data_by_name, ctx):
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt

        suffix = "-quick" if ctx.quick else ""
        ctx.out_dir.mkdir(parents=True, exist_ok=True)
        out = []
        for dataset, (X_train, _) in data_by_name.items():
            fitted = [r for r in rows if r["dataset"] == dataset and r["estimator"]]
            lo, hi = X_train.min(axis=0) - 0.5, X_train.max(axis=0) + 0.5
            gx, gy = np.linspace(lo[0], hi[0], 160), np.linspace(lo[1], hi[1], 160)
            grid = np.array(np.meshgrid(gx, gy, indexing="xy")).reshape(2, -1).T
            n = len(fitted) + 1
            fig, axes = plt.subplots(2, n, figsize=(2.2 * n, 4.6), layout="constrained",
                                     squeeze=False)
            from mlnotes.datasets import log_density

            panels = [("data", X_train[:2000], log_density(dataset, grid))]
            for r in fitted:
                est = r["estimator"]
                panels.append((f"{r['model']}\nNLL-H {r['gap']:+.3f}",
                               np.asarray(est.sample(2000, random_state=0)),
                               est.score_samples(grid)))
            for j, (title, S, lp) in enumerate(panels):
                ax = axes[0, j]
                ax.scatter(S[:, 0], S[:, 1], s=1, alpha=0.4, color="k")
                ax.set_xlim(lo[0], hi[0])
                ax.set_ylim(lo[1], hi[1])
                ax.set_title(title, fontsize=7)
                ax = axes[1, j]
                dens = np.exp(np.asarray(lp).reshape(160, 160))
                ax.contourf(gx, gy, dens, levels=12, cmap="viridis")
                for a in axes[:, j]:
                    a.set_xticks([])
                    a.set_yticks([])
            axes[1, 0].set_ylabel("density (data: the true one)", fontsize=7)
            axes[0, 0].set_ylabel("2,000 samples", fontsize=7)
            fig.suptitle(f"{dataset}: samples (top) and density (bottom), "
                         f"{ctx.mode} mode", fontsize=9)
            path = ctx.out_dir / f"flows-{dataset}{suffix}.png"
            fig.savefig(path, dpi=100)
            plt.close(fig)
            out.append(path)
        return out


def _fmt(v, digits=4):
    return "–" if v is None else f"{v:.{digits}f}"


def _columns():
    from benchmarks.report import Column

    return [
        Column("dataset", "dataset"),
        Column("model", "model"),
        Column("n_train", value=lambda r: f"{r['n_train']:,}", align="right"),
        Column("entropy H", value=lambda r: _fmt(r["entropy"]), align="right"),
        Column("held-out NLL", value=lambda r: _fmt(r["nll"]), align="right"),
        Column("NLL − H", value=lambda r: _fmt(r["gap"]), align="right"),
        Column("NLL − zuko", value=lambda r: _fmt(r.get("vs_zuko_nll")), align="right"),
        Column("fit s", value=lambda r: _fmt(r["fit"], 2), align="right"),
        Column("fit / zuko", value=lambda r: _fmt(r.get("fit_ratio"), 3), align="right"),
        Column("fit CPU s", value=lambda r: _fmt(r.get("fit_cpu"), 2), align="right"),
        Column("fit CPU / zuko", value=lambda r: _fmt(r.get("fit_cpu_ratio"), 3),
               align="right"),
        Column(f"speed / zuko ({SPEED_REPEATS}x{SPEED_EPOCHS} ep)",
               value=lambda r: _fmt(r.get("speed_ratio"), 3), align="right"),
        Column("sample 10k ms", value=lambda r: "–" if r["sample"] is None
               else f"{1000 * r['sample']:.1f}", align="right"),
        Column("status", value=lambda r: r["status"] + (
            f": {r['message']}" if r["message"] else "")),
    ]


def _method_lines(ctx):
    n_train, n_test = (QUICK_N_TRAIN, QUICK_N_TEST) if ctx.quick else (N_TRAIN, N_TEST)
    return [
        f"{n_train:,} training and {n_test:,} held-out rows per dataset (seeds 0 and 1); "
        "held-out NLL = -mean(score_samples) in nats; H = the true entropy "
        "(`mlnotes.datasets.entropy`), the floor of the NLL.",
        "flows at their defaults" + (f" but max_iter={QUICK_EPOCHS} (quick mode)"
                                     if ctx.quick else "") + ", random_state=0; zuko "
        "NSF/MAF trained on the same data with the same batches, epochs, seed and "
        "optimiser; fit timed once, sampling 10,000 rows median of 3, one thread.",
    ]


def _summary(rows, quick=False):
    lines = ["", "### Verdicts", ""]
    if quick:
        lines += [f"Quick mode trains for {QUICK_EPOCHS} epochs on {QUICK_N_TRAIN:,} rows: "
                  "a smoke run of the table and figures, not the quality or speed "
                  "acceptance (run the full mode).", ""]
    for r in rows:
        if r["model"] in FLOWS and r["gap"] is not None:
            verdict = ("goal" if r["gap"] <= GAP_GOAL else "ok" if r["gap"] <= GAP_MAX
                       else "FAILS")
            beats = []
            for b in BASELINES:
                ref = next((x["nll"] for x in rows if x["dataset"] == r["dataset"]
                            and x["model"] == b and x["nll"] is not None), None)
                beats.append(f"{b}: " + ("–" if ref is None else
                                         "yes" if r["nll"] < ref else "no"))
            lines.append(f"- {r['dataset']} / {r['model']}: NLL - H = {r['gap']:+.4f} "
                         f"({verdict}; bound {GAP_MAX}, goal {GAP_GOAL}); better than "
                         + ", ".join(beats))
        if r["model"] in ZUKO_OF and r.get("vs_zuko_nll") is not None:
            speed = r.get("speed_ratio")
            speed = speed if speed is not None else r.get("fit_cpu_ratio")
            ok = r["vs_zuko_nll"] <= 0 and (speed or math.inf) <= 1.0
            lines.append(f"  - vs zuko: NLL {r['vs_zuko_nll']:+.4f}, fit CPU time "
                         f"{_fmt(r.get('fit_cpu_ratio'), 3)}x (whole fit), "
                         f"{_fmt(r.get('speed_ratio'), 3)}x (interleaved median; "
                         f"wall {_fmt(r.get('fit_ratio'), 3)}x) "
                         f"({'ok' if ok else 'FAILS'})")
    return lines


SUITE = FlowsSuite()
