"""VAE, GAN and DDPM of chapters 50-52 against KernelDensity and GaussianMixture.

One table, one row per (dataset, model): the held-out negative log-likelihood (nats per
row; for the VAE and DDPM minus their *lower bound*, so an upper bound on their NLL; the
GAN has none) next to the true entropy of the dataset (the floor), the gap ``NLL - H``,
the kernel MMD between 2,000 samples of the model and 2,000 held-out rows, the fit time
and the time to draw 10,000 samples (1,000 in quick mode).

Datasets: the 2-D densities of :mod:`mlnotes.datasets` (two moons, checkerboard, eight
Gaussians, rings, pinwheel), ``N_TRAIN`` training rows (``random_state=0``) and ``N_TEST``
held-out rows (``random_state=1``); quick mode uses two moons only, with fewer rows and
epochs (a smoke run, not the acceptance).

Models: ``VAE``, ``DDPM`` and ``GAN`` (WGAN-GP) of :mod:`mlnotes.density` at their
defaults with ``random_state=0``, and ``GAN-ns``, the non-saturating loss with one
critic step per generator step; scikit-learn's ``KernelDensity`` with the bandwidth
chosen by 3-fold cross-validation over 10 values from 0.02 to 0.5,
``GaussianMixture(n_components=8)`` and a single Gaussian (``GaussianMixture(1)``, the
MMD baseline of the GAN). Acceptance (full mode): the VAE and DDPM bounds within
``GAP_MAX`` = 0.4 nats of the entropy; the GAN's MMD well below the single Gaussian's
(``MMD_RATIO`` = 0.5).

MMD: the squared maximum mean discrepancy with a Gaussian kernel of bandwidth 0.2 on
coordinates divided by the training standard deviation (biased V-statistic). Timing:
every fit once, sampling the median of 3 draws of 10,000 rows, one thread. Figures:
``latent-<dataset>.png`` (``-quick`` in quick mode): the data and 2,000 samples of every
model.
"""

from __future__ import annotations

import statistics
import time
import traceback
import warnings

import numpy as np

from benchmarks.harness import SuiteResult, single_thread

N_TRAIN, N_TEST = 5_000, 2_000
QUICK_N_TRAIN, QUICK_N_TEST, QUICK_EPOCHS = 1_000, 300, 8
N_SAMPLE, QUICK_N_SAMPLE, N_MMD = 10_000, 1_000, 2_000
GAP_MAX = 0.4
MMD_RATIO = 0.5
OURS = ("VAE", "DDPM", "GAN", "GAN-ns")
BASELINES = ("KernelDensity-cv", "GaussianMixture-8", "Gaussian")
MODELS = OURS + BASELINES


def mmd2(A, B, scale, bandwidth=0.2):
    """Biased squared MMD with a Gaussian kernel on ``X / scale``."""
    A, B = A / scale, B / scale

    def k(P, Q):
        d2 = (P**2).sum(1)[:, None] + (Q**2).sum(1)[None] - 2 * P @ Q.T
        return np.exp(-np.maximum(d2, 0) / (2 * bandwidth**2)).mean()

    return float(k(A, A) + k(B, B) - 2 * k(A, B))


def _make(model, quick):
    import mlnotes.density as density

    if model in OURS:
        params = dict(random_state=0)
        if model == "GAN-ns":
            params.update(loss="non-saturating", n_critic=1)
        if quick:
            params["max_iter"] = QUICK_EPOCHS
            if model == "DDPM":
                params.update(n_steps=50, n_bound_samples=2)
        return getattr(density, model.split("-")[0])(**params)
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

    return _GMM(n_components=8 if model == "GaussianMixture-8" else 1, random_state=0)


class LatentSuite:
    """Held-out NLL (or bound) vs the true entropy, MMD, fit and sample time."""

    name = "latent"
    description = ("mlnotes.density VAE, GAN, DDPM (chapters 50-52) vs KernelDensity and "
                   "GaussianMixture on 2-D densities of known entropy")
    quick_cases = [f"{m}-two_moons" for m in MODELS]

    def _datasets(self, quick):
        from mlnotes.datasets import DENSITIES

        return ("two_moons",) if quick else DENSITIES

    def case_names(self):
        from mlnotes.datasets import DENSITIES

        return [f"{m}-{d}" for d in DENSITIES for m in MODELS]

    def describe(self):
        return [f"{c}: held-out NLL or bound, MMD, fit and sample time"
                for c in self.case_names()]

    def _run_model(self, model, dataset, data, ctx):
        from mlnotes.datasets import entropy

        X_train, X_test = data
        row = {"suite": self.name, "case": f"{model}-{dataset}", "dataset": dataset,
               "model": model, "n_train": X_train.shape[0], "n_test": X_test.shape[0],
               "entropy": entropy(dataset), "nll": None, "gap": None, "mmd": None,
               "fit": None, "sample": None, "status": "ok", "message": "",
               "estimator": None, "mode": ctx.mode}
        est = _make(model, ctx.quick)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                est.fit(X_train)
                row["fit"] = time.perf_counter() - t0
                if hasattr(est, "score_samples"):
                    row["nll"] = float(-np.mean(est.score_samples(X_test)))
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    est.sample(QUICK_N_SAMPLE if ctx.quick else N_SAMPLE, random_state=0)
                    times.append(time.perf_counter() - t0)
                row["sample"] = statistics.median(times)
                n = min(N_MMD, X_test.shape[0])
                S = np.asarray(est.sample(n, random_state=1))
                row["mmd"] = mmd2(S, X_test[:n], X_train.std(axis=0))
        except Exception as exc:
            ctx.log(f"[{self.name}] {row['case']} raised:")
            traceback.print_exc()
            row["status"], row["message"] = "error", f"{type(exc).__name__}: {exc}"[:200]
            return row
        if row["nll"] is not None:
            row["gap"] = row["nll"] - row["entropy"]
        row["estimator"] = est
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
                            f"(H {row['entropy']:.4f}), MMD {_fmt(row['mmd'], 5)}, fit "
                            f"{_fmt(row['fit'], 2)} s [{row['status']}]")
        for r in rows:
            ref = next((x for x in rows if x["dataset"] == r["dataset"]
                        and x["model"] == "Gaussian" and x["mmd"] is not None), None)
            r["mmd_ratio"] = (r["mmd"] / ref["mmd"] if ref and r["mmd"] is not None
                              and ref["mmd"] > 0 else None)
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
            summary=_summary(rows, ctx.quick), figures=figures, ratio_key="mmd_ratio",
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
            n = len(fitted) + 1
            fig, axes = plt.subplots(1, n, figsize=(2.2 * n, 2.5), layout="constrained",
                                     squeeze=False)
            panels = [("data", X_train[:2000])]
            for r in fitted:
                gap = "" if r["gap"] is None else f"\nNLL-H {r['gap']:+.3f}"
                panels.append((f"{r['model']}{gap}\nMMD {r['mmd']:.4f}",
                               np.asarray(r["estimator"].sample(2000, random_state=0))))
            for ax, (title, S) in zip(axes[0], panels):
                ax.scatter(S[:, 0], S[:, 1], s=1, alpha=0.4, color="k")
                ax.set_xlim(lo[0], hi[0])
                ax.set_ylim(lo[1], hi[1])
                ax.set_title(title, fontsize=7)
                ax.set_xticks([])
                ax.set_yticks([])
            fig.suptitle(f"{dataset}: 2,000 samples of every model, {ctx.mode} mode",
                         fontsize=9)
            path = ctx.out_dir / f"latent-{dataset}{suffix}.png"
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
        Column("held-out NLL (bound)", value=lambda r: _fmt(r["nll"]), align="right"),
        Column("NLL − H", value=lambda r: _fmt(r["gap"]), align="right"),
        Column("MMD²", value=lambda r: _fmt(r["mmd"], 5), align="right"),
        Column("MMD / Gaussian", value=lambda r: _fmt(r.get("mmd_ratio"), 3),
               align="right"),
        Column("fit s", value=lambda r: _fmt(r["fit"], 2), align="right"),
        Column("sample ms (10k rows; quick 1k)", value=lambda r: "–" if r["sample"] is None
               else f"{1000 * r['sample']:.1f}", align="right"),
        Column("status", value=lambda r: r["status"] + (
            f": {r['message']}" if r["message"] else "")),
    ]


def _method_lines(ctx):
    n_train, n_test = (QUICK_N_TRAIN, QUICK_N_TEST) if ctx.quick else (N_TRAIN, N_TEST)
    return [
        f"{n_train:,} training and {n_test:,} held-out rows per dataset (seeds 0 and 1); "
        "held-out NLL = -mean(score_samples) in nats (VAE: minus the IWAE bound, DDPM: "
        "minus the variational bound; both upper bounds on the NLL); H = the true "
        "entropy (`mlnotes.datasets.entropy`).",
        "models at their defaults" + (f" but max_iter={QUICK_EPOCHS} and a 50-step DDPM "
                                      "(quick mode)" if ctx.quick else "")
        + ", random_state=0; MMD² between 2,000 samples and the held-out rows "
        "(Gaussian kernel, bandwidth 0.2 in training-std units); fit timed once, "
        "sampling 10,000 rows median of 3, one thread.",
    ]


def _summary(rows, quick=False):
    lines = ["", "### Verdicts", ""]
    if quick:
        lines += [f"Quick mode trains for {QUICK_EPOCHS} epochs on {QUICK_N_TRAIN:,} rows: "
                  "a smoke run of the table and figure, not the acceptance (run the full "
                  "mode).", ""]
    for r in rows:
        if r["model"] in ("VAE", "DDPM") and r["gap"] is not None:
            verdict = "ok" if r["gap"] <= GAP_MAX else "FAILS"
            lines.append(f"- {r['dataset']} / {r['model']}: bound NLL - H = "
                         f"{r['gap']:+.4f} ({verdict}; bound {GAP_MAX})")
        if r["model"].startswith("GAN") and r.get("mmd_ratio") is not None:
            verdict = "ok" if r["mmd_ratio"] <= MMD_RATIO else "FAILS"
            lines.append(f"- {r['dataset']} / {r['model']}: MMD {r['mmd_ratio']:.3f}x the "
                         f"single Gaussian's ({verdict}; bound {MMD_RATIO}x)")
    return lines


SUITE = LatentSuite()
