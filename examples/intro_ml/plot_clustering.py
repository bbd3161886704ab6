r"""
k-means, hierarchical, spectral clustering and Gaussian mixtures side by side
=============================================================================

Chapters 19 and 20 group unlabelled points in four ways. k-means minimises the
within-cluster sum of squares :math:`\sum_i \lVert x_i - \mu_{c(i)} \rVert^2` (Lloyd's
algorithm from a k-means++ start), so its clusters are Voronoi cells; agglomerative
clustering merges the two closest clusters, where "closest" is the linkage (single,
complete, average, Ward); spectral clustering runs k-means on the leading eigenvectors
of the normalised graph Laplacian :math:`L = I - D^{-1/2} W D^{-1/2}` of a similarity
graph, so it follows connected shapes; a Gaussian mixture fitted by EM gives each point
soft responsibilities
:math:`r_{ik} \propto \pi_k \mathcal N(x_i \mid \mu_k, \Sigma_k)`.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_blobs, make_circles, make_moons
from sklearn.metrics import adjusted_rand_score

from mlnotes.cluster import AgglomerativeClustering, KMeans, SpectralClustering
from mlnotes.mixture import GaussianMixture

rng = np.random.default_rng(0)
X_aniso, y_aniso = make_blobs(n_samples=300, centers=3, random_state=170)
X_aniso = X_aniso @ np.array([[0.6, -0.6], [-0.4, 0.8]])
datasets = {
    "two moons": make_moons(n_samples=300, noise=0.06, random_state=0),
    "circles": make_circles(n_samples=300, factor=0.45, noise=0.05, random_state=0),
    "stretched blobs": (X_aniso, y_aniso),
}

# %%
# Four algorithms, three datasets
# -------------------------------
# The title of each panel gives the adjusted Rand index against the generating labels
# (1 is a perfect match, 0 is chance).
fig, axes = plt.subplots(3, 5, figsize=(14, 8.2))
for row, (data_name, (X, y)) in enumerate(datasets.items()):
    k = len(np.unique(y))
    models = {
        "KMeans": KMeans(n_clusters=k, n_init=5, random_state=0),
        "Agglomerative (ward)": AgglomerativeClustering(n_clusters=k, linkage="ward"),
        "Agglomerative (single)": AgglomerativeClustering(n_clusters=k,
                                                          linkage="single"),
        "SpectralClustering": SpectralClustering(n_clusters=k,
                                                 affinity="nearest_neighbors",
                                                 n_neighbors=15, random_state=0),
        "GaussianMixture (full)": GaussianMixture(n_components=k, n_init=3,
                                                  random_state=0),
    }
    for col, (name, model) in enumerate(models.items()):
        labels = model.fit_predict(X)
        ax = axes[row, col]
        ax.scatter(X[:, 0], X[:, 1], c=labels, cmap="tab10", s=6, vmin=0, vmax=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{name}\nARI {adjusted_rand_score(y, labels):.2f}", fontsize=9)
        if col == 0:
            ax.set_ylabel(data_name)
fig.tight_layout()
plt.show()

# %%
# k-means draws straight boundaries between centroids; single linkage and spectral
# clustering follow the moons and the rings; the full-covariance mixture is the one
# model that adapts to stretched, elliptical clusters.
#
# Choosing the number of components
# ---------------------------------
# The mixture's BIC :math:`= -2 \log \hat L + p \log n` on the stretched blobs, for
# :math:`k = 1, \dots, 7`: the minimum sits at the true 3.
X = datasets["stretched blobs"][0]
ks = np.arange(1, 8)
bic = [GaussianMixture(n_components=k, random_state=0).fit(X).bic(X) for k in ks]
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(ks, bic, "o-")
ax.set_xlabel("number of components k")
ax.set_ylabel("BIC")
fig.tight_layout()
plt.show()
