r"""
PCA, kernel PCA and random projections
======================================

Principal component analysis (chapter 18) projects centred data on the leading
eigenvectors of its covariance :math:`\frac{1}{n} X^\top X = V \Lambda V^\top`
(chapter 8); eigenvalue :math:`\lambda_j` is the variance along component :math:`j`.
Random projections (chapter 21) skip the eigendecomposition: by the
Johnson-Lindenstrauss lemma, a random Gaussian map to

.. math::

    k \ge \frac{4 \log n}{\varepsilon^2 / 2 - \varepsilon^3 / 3}

dimensions keeps every pairwise distance within a factor :math:`1 \pm \varepsilon`
with high probability, whatever the original dimension.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits, make_circles
from sklearn.metrics import euclidean_distances

from mlnotes.decomposition import PCA, KernelPCA
from mlnotes.random_projection import (
    GaussianRandomProjection,
    SparseRandomProjection,
    johnson_lindenstrauss_min_dim,
)

digits = load_digits()
X, y = digits.data, digits.target

# %%
# Digits in two dimensions, and the explained variance
# ----------------------------------------------------
pca = PCA(n_components=30).fit(X)
Z = pca.transform(X)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
sc = axes[0].scatter(Z[:, 0], Z[:, 1], c=y, cmap="tab10", s=6)
axes[0].set_xlabel("component 1")
axes[0].set_ylabel("component 2")
axes[0].set_title("PCA of the 8x8 digits (64 dimensions)")
fig.colorbar(sc, ax=axes[0], ticks=range(10))
axes[1].bar(np.arange(1, 31), pca.explained_variance_ratio_, label="per component")
axes[1].plot(np.arange(1, 31), np.cumsum(pca.explained_variance_ratio_), "C1o-",
             ms=3, label="cumulative")
axes[1].set_xlabel("component")
axes[1].set_ylabel("explained variance ratio")
axes[1].legend()
fig.tight_layout()
plt.show()

# %%
# Kernel PCA unrolls what a linear projection cannot
# --------------------------------------------------
# Two concentric circles: no linear projection separates them, the leading
# component of an RBF kernel PCA does.
Xc, yc = make_circles(n_samples=400, factor=0.3, noise=0.05, random_state=0)
lin = PCA(n_components=2).fit_transform(Xc)
kpca = KernelPCA(n_components=2, kernel="rbf", gamma=10).fit_transform(Xc)
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
for ax, (title, data) in zip(axes, [("data", Xc), ("PCA", lin),
                                    ("KernelPCA(rbf, gamma=10)", kpca)]):
    ax.scatter(data[:, 0], data[:, 1], c=yc, cmap="coolwarm", s=6)
    ax.set_title(title)
fig.tight_layout()
plt.show()

# %%
# Random projections: distortion against the Johnson-Lindenstrauss bound
# ----------------------------------------------------------------------
# Ratios of projected to original pairwise distances of 300 digits, for a growing
# target dimension :math:`k`; the dashed line is the dimension the lemma asks for
# :math:`\varepsilon = 0.5`.
sample = X[:300]
iu = np.triu_indices(len(sample), 1)
d_orig = euclidean_distances(sample)[iu]
ks = [5, 10, 20, 40, 64]
fig, ax = plt.subplots(figsize=(7, 4))
for offset, (cls, color) in zip([-0.6, 0.6], [(GaussianRandomProjection, "C0"),
                                              (SparseRandomProjection, "C2")]):
    ratios = []
    for k in ks:
        proj = cls(n_components=k, random_state=0).fit_transform(sample)
        ratios.append(euclidean_distances(proj)[iu] / d_orig)
    parts = ax.violinplot(ratios, positions=np.array(ks) + offset, widths=2.5,
                          showextrema=False)
    for body in parts["bodies"]:
        body.set_color(color)
    ax.plot([], [], color=color, lw=6, label=cls.__name__)
ax.axhline(1.0, color="k", lw=0.8)
k_jl = johnson_lindenstrauss_min_dim(len(sample), eps=0.5)
ax.set_title(f"JL bound for n=300, eps=0.5: k >= {k_jl} (more than the 64 inputs)")
ax.set_xlabel("target dimension k")
ax.set_ylabel("projected / original distance")
ax.legend()
fig.tight_layout()
plt.show()
