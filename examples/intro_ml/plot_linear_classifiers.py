r"""
Linear and generative classifiers side by side
==============================================

Chapters 2, 3, 6, 7 and 10 of the notes fit a line (or a conic) between two classes in
very different ways: the perceptron corrects mistakes, the linear SVM maximises the
margin, SGD and logistic regression minimise a smooth loss, and the generative models
(nearest centroid, LDA, QDA, Gaussian naive Bayes) fit one Gaussian per class and apply
Bayes' rule

.. math::

    \hat y(x) = \arg\max_k \; \log \pi_k + \log \mathcal N(x \mid \mu_k, \Sigma_k).

LDA shares one covariance :math:`\Sigma` between the classes, so its boundary is a
line; QDA fits one :math:`\Sigma_k` per class and draws a conic.
"""

# %%
# Two overlapping Gaussian classes with different covariances
# ------------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from mlnotes.discriminant_analysis import (
    LinearDiscriminantAnalysis,
    QuadraticDiscriminantAnalysis,
)
from mlnotes.linear_model import LogisticRegression, Perceptron, SGDClassifier
from mlnotes.naive_bayes import GaussianNB
from mlnotes.neighbors import NearestCentroid
from mlnotes.svm import LinearSVC

rng = np.random.default_rng(0)
n = 150
X = np.vstack([
    rng.multivariate_normal([-1.0, 0.0], [[1.0, 0.6], [0.6, 1.0]], n),
    rng.multivariate_normal([1.2, 0.8], [[0.4, -0.2], [-0.2, 1.6]], n),
])
y = np.repeat([0, 1], n)

classifiers = {
    "Perceptron (ch 2)": Perceptron(random_state=0),
    "LinearSVC (ch 2)": LinearSVC(),
    "NearestCentroid (ch 2)": NearestCentroid(),
    "SGDClassifier, log loss (ch 3)": SGDClassifier(loss="log_loss", random_state=0),
    "LogisticRegression (ch 10)": LogisticRegression(),
    "LDA (ch 7)": LinearDiscriminantAnalysis(),
    "QDA (ch 7)": QuadraticDiscriminantAnalysis(),
    "GaussianNB (ch 7)": GaussianNB(),
}

# %%
# Decision regions and training accuracy
# ---------------------------------------
xx, yy = np.meshgrid(np.linspace(-4.5, 4.5, 200), np.linspace(-4, 5, 200))
grid = np.c_[xx.ravel(), yy.ravel()]

fig, axes = plt.subplots(2, 4, figsize=(13, 6.5), sharex=True, sharey=True)
for ax, (name, clf) in zip(axes.ravel(), classifiers.items()):
    clf.fit(X, y)
    zz = clf.predict(grid).reshape(xx.shape)
    ax.contourf(xx, yy, zz, levels=[-0.5, 0.5, 1.5], colors=["#9ecae1", "#fdae6b"],
                alpha=0.6)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=8, edgecolors="k",
               linewidths=0.2)
    ax.set_title(f"{name}\ntrain accuracy {clf.score(X, y):.2f}", fontsize=9)
fig.tight_layout()
plt.show()

# %%
# Only QDA bends its boundary: the two classes have different covariances, which the
# other models either ignore (linear rules) or assume diagonal (naive Bayes, whose
# boundary is a conic aligned with the axes).
