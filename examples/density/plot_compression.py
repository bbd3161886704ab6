r"""
Compression with a density model: code length against log-likelihood
=====================================================================

Chapter 57 turns any model of discrete data into a compressor: an arithmetic coder
spends about :math:`-\log_2 p(x)` bits on a row :math:`x`, so the best achievable code
length is the model's negative log-likelihood in bits,

.. math::

    \text{bits}(x) \approx -\log_2 p_\theta(x) = \frac{-\log p_\theta(x)}{\log 2},

and a better density model is a better compressor. Here the 8x8 digits, binarised,
are coded with two models of :mod:`mlnotes.density` — independent pixels (a
:class:`~mlnotes.density.Histogram` per pixel) and an autoregressive
:class:`~mlnotes.density.MADE` — and compared with general-purpose compressors on the
same bits.
"""

import bz2
import gzip
import lzma

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits

from mlnotes.compression import decode, encode
from mlnotes.density import MADE, Histogram

torch.set_num_threads(1)
X = (load_digits().data >= 8).astype(int)
X_train, X_test = X[:1500], X[1500:]

# %%
# Fit the models, code the held-out images, decode them back
# ----------------------------------------------------------
models = {
    "Histogram (independent pixels)": Histogram().fit(X_train),
    "MADE (autoregressive)": MADE(hidden_layer_sizes=(128,), max_iter=40,
                                  random_state=0).fit(X_train),
}
n = len(X_test)
bits = {}
for name, model in models.items():
    code = encode(model, X_test)
    assert np.array_equal(decode(model, code, n_rows=n), X_test)  # lossless
    nll_bits = -model.score(X_test) / np.log(2)
    bits[name] = (8 * len(code) / n, nll_bits)
    print(f"{name}: {8 * len(code) / n:.1f} bits/image coded, "
          f"{nll_bits:.1f} bits/image NLL")

packed = np.packbits(X_test.astype(np.uint8), axis=1).tobytes()
general = {"gzip": gzip.compress(packed, 9), "bz2": bz2.compress(packed, 9),
           "lzma": lzma.compress(packed)}

# %%
# Bits per image
# --------------
# The 64 raw bits of an image, the general-purpose compressors on the packed bits,
# and the two models: their code lengths sit on their NLL (the black ticks).
labels = ["raw bits"] + list(general) + list(bits)
values = [64.0] + [8 * len(c) / n for c in general.values()] + [b[0] for b in bits.values()]
fig, ax = plt.subplots(figsize=(8, 3.8))
bars = ax.barh(labels, values, color=["0.7"] * 4 + ["C0", "C1"])
for i, (coded, nll) in enumerate(bits.values()):
    ax.plot([nll, nll], [4 + i - 0.4, 4 + i + 0.4], "k-", lw=2)
ax.bar_label(bars, fmt="%.1f", padding=3)
ax.set_xlabel("bits per held-out image (lower is better)")
ax.invert_yaxis()
fig.tight_layout()
plt.show()
