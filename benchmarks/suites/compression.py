"""Lossless compression (chapter 57): arithmetic coding with density models vs gzip/bz2/lzma.

One table, one row per coder: the bits per image of the held-out binarised digits
(``load_digits``, pixel >= 8, 64 binary pixels per image, 30% held out with
``random_state=0``: the ``digits`` table of the density suite).

- Every discrete model of :mod:`mlnotes.density` that drives
  :func:`mlnotes.compression.encode`: the autoregressive MADE, PixelCNN (``image_shape=(8,
  8)``), TransformerAR and RNNDensity at their defaults with ``random_state=0`` (quick
  mode: a few epochs), and the 1-D Histogram and DiscretizedLogisticMixture. For each:
  the code length, the model's NLL in bits (``-sum(conditional_log_likelihood) /
  log 2``), their ratio (acceptance: at most 1.01, plus a few bytes), whether
  :func:`~mlnotes.compression.decode` returns the images exactly (acceptance), and
  the encode and decode times.
- The standard library's ``gzip``, ``bz2`` and ``lzma`` at their highest presets on the
  same images, given the best of two byte layouts: one byte per pixel (0/1) and the
  pixels packed 8 per byte (``np.packbits``: 8 bytes per image, the raw size).

The models were fitted on the training images; their parameters are not counted in the
code length (as usual for a model shared by sender and receiver).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import time
import traceback
import warnings

import numpy as np

from benchmarks.harness import SuiteResult, single_thread

AR_MODELS = ("MADE", "PixelCNN", "TransformerAR", "RNNDensity")
ONE_D = ("Histogram", "DiscretizedLogisticMixture")
STDLIB = ("gzip", "bz2", "lzma")
MODELS = AR_MODELS + ONE_D + STDLIB
QUICK_EPOCHS = 2
QUICK_N_TEST = 60
MAX_RATIO = 1.01
SLACK_BITS = 16


def _load(quick):
    from benchmarks.suites.density import load_binarized_digits

    X_train, X_test, _ = load_binarized_digits()
    X_train, X_test = X_train.astype(np.int64), X_test.astype(np.int64)
    if quick:
        X_test = X_test[:QUICK_N_TEST]
    return X_train, X_test


def _make(model, quick):
    import mlnotes.density as density

    params = {}
    if model in AR_MODELS:
        params["random_state"] = 0
        if quick:
            params["max_iter"] = QUICK_EPOCHS
    if model == "PixelCNN":
        params["image_shape"] = (8, 8)
    return getattr(density, model)(**params)


def _stdlib_bits(name, X):
    compress = {"gzip": lambda b: gzip.compress(b, compresslevel=9),
                "bz2": lambda b: bz2.compress(b, compresslevel=9),
                "lzma": lambda b: lzma.compress(b, preset=9 | lzma.PRESET_EXTREME)}[name]
    layouts = {"one byte per pixel": X.astype(np.uint8).tobytes(),
               "packed bits": np.packbits(X.astype(np.uint8), axis=1).tobytes()}
    sizes = {k: len(compress(v)) for k, v in layouts.items()}
    best = min(sizes, key=sizes.get)
    return 8 * sizes[best], best


class CompressionSuite:
    """Bits per held-out image: arithmetic coding with each model vs the stdlib."""

    name = "compression"
    description = ("mlnotes.compression arithmetic coding with every discrete density "
                   "model vs gzip, bz2 and lzma on binarised digits")
    quick_cases = list(MODELS)

    def case_names(self):
        return list(MODELS)

    def describe(self):
        return [f"{m}: bits per held-out binarised digit" for m in MODELS]

    def _run(self, model, X_train, X_test, ctx):
        from mlnotes.compression import decode, encode

        n = X_test.shape[0]
        row = {"suite": self.name, "case": model, "model": model, "n_train":
               X_train.shape[0], "n_test": n, "bits_per_image": None,
               "nll_bits_per_image": None, "ratio": None, "exact": None, "fit": None,
               "encode": None, "decode": None, "layout": "", "status": "ok",
               "message": "", "mode": ctx.mode}
        try:
            if model in STDLIB:
                t0 = time.perf_counter()
                bits, layout = _stdlib_bits(model, X_test)
                row["encode"] = time.perf_counter() - t0
                row["bits_per_image"], row["layout"], row["exact"] = bits / n, layout, True
                return row
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = _make(model, ctx.quick)
                t0 = time.perf_counter()
                est.fit(X_train)
                row["fit"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                data = encode(est, X_test)
                row["encode"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                back = decode(est, data, n)
                row["decode"] = time.perf_counter() - t0
                if hasattr(est, "conditional_log_likelihood"):
                    nll = -est.conditional_log_likelihood(X_test).sum()
                else:
                    nll = -est.score_samples(X_test).sum()
            row["exact"] = bool(np.array_equal(back, X_test))
            row["bits_per_image"] = 8 * len(data) / n
            row["nll_bits_per_image"] = float(nll / np.log(2) / n)
            row["ratio"] = row["bits_per_image"] / row["nll_bits_per_image"]
            row["layout"] = "arithmetic code"
        except Exception as exc:
            ctx.log(f"[{self.name}] {model} raised:")
            traceback.print_exc()
            row["status"], row["message"] = "error", f"{type(exc).__name__}: {exc}"[:200]
        return row

    def run(self, ctx, cases=None):
        X_train, X_test = _load(ctx.quick)
        rows = []
        with single_thread():
            for model in MODELS:
                if cases is not None and model not in cases:
                    continue
                if ctx.time_left() <= 0:
                    break
                row = self._run(model, X_train, X_test, ctx)
                rows.append(row)
                ctx.log(f"[{self.name}] {model}: {_fmt(row['bits_per_image'], 2)} bits per "
                        f"image [{row['status']}]")
        ref = min((r["bits_per_image"] for r in rows if r["model"] in STDLIB
                   and r["bits_per_image"] is not None), default=None)
        for r in rows:
            r["vs_best_stdlib"] = (r["bits_per_image"] / ref if ref and
                                   r["bits_per_image"] is not None else None)
        return SuiteResult(
            suite=self.name, rows=rows, columns=_columns(),
            title=f"{self.name}: {self.description}", method=_method_lines(ctx, X_test),
            summary=_summary(rows, X_test.shape[0]), ratio_key="vs_best_stdlib",
            failed=any(r["status"] == "error" for r in rows))


def _fmt(v, digits=3):
    return "–" if v is None else f"{v:.{digits}f}"


def _columns():
    from benchmarks.report import Column

    return [
        Column("coder", "model"),
        Column("bits / image", value=lambda r: _fmt(r["bits_per_image"], 2),
               align="right"),
        Column("model NLL bits / image", value=lambda r: _fmt(r["nll_bits_per_image"], 2),
               align="right"),
        Column("code / NLL", value=lambda r: _fmt(r["ratio"], 5), align="right"),
        Column("/ best stdlib", value=lambda r: _fmt(r.get("vs_best_stdlib"), 3),
               align="right"),
        Column("exact round trip", value=lambda r: "–" if r["exact"] is None
               else ("yes" if r["exact"] else "NO")),
        Column("bytes", "layout"),
        Column("fit s", value=lambda r: _fmt(r["fit"], 2), align="right"),
        Column("encode s", value=lambda r: _fmt(r["encode"], 2), align="right"),
        Column("decode s", value=lambda r: _fmt(r["decode"], 2), align="right"),
        Column("status", value=lambda r: r["status"] + (
            f": {r['message']}" if r["message"] else "")),
    ]


def _method_lines(ctx, X_test):
    return [
        f"binarised digits (pixel >= 8), 1,257 training images, {X_test.shape[0]:,} "
        "held-out images coded as one message; raw size 64 bits per image.",
        "models at their defaults" + (f" but max_iter={QUICK_EPOCHS} (quick mode)"
                                      if ctx.quick else "") + ", random_state=0; "
        "gzip/bz2/lzma at their highest presets, best of two byte layouts.",
    ]


def _summary(rows, n_test):
    lines = ["", "### Verdicts", ""]
    for r in rows:
        if r["ratio"] is None:
            continue
        slack = SLACK_BITS / n_test / r["nll_bits_per_image"]
        ok = r["exact"] and r["ratio"] <= MAX_RATIO + slack
        lines.append(f"- {r['model']}: round trip {'exact' if r['exact'] else 'NOT exact'},"
                     f" code / NLL = {r['ratio']:.5f} ({'ok' if ok else 'FAILS'}; bound "
                     f"{MAX_RATIO} plus {SLACK_BITS} bits), {r['bits_per_image']:.2f} bits "
                     "per image")
    return lines


SUITE = CompressionSuite()
