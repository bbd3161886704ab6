r"""
Trees, forests, boosting and nearest neighbours
===============================================

Four non-linear classifiers of chapters 13, 23 and 24 on the same two moons. A decision
tree (chapter 13) splits one feature at a time, choosing the split that most reduces the
Gini impurity :math:`G = 1 - \sum_k p_k^2`, so its regions are boxes; a random forest
averages many trees grown on bootstrap samples; AdaBoost (chapter 23) re-weights the
points each stump got wrong, with stage weight
:math:`\alpha_m = \log\frac{1 - \varepsilon_m}{\varepsilon_m} + \log(K - 1)` (SAMME);
:math:`k`-nearest neighbours (chapter 24) takes a majority vote among the :math:`k`
closest training points.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

from mlnotes.ensemble import AdaBoostClassifier, RandomForestClassifier
from mlnotes.neighbors import KNeighborsClassifier
from mlnotes.tree import DecisionTreeClassifier

X, y = make_moons(n_samples=400, noise=0.3, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0)

models = {
    "DecisionTreeClassifier (ch 13)": DecisionTreeClassifier(random_state=0),
    "DecisionTree, max_depth=4": DecisionTreeClassifier(max_depth=4, random_state=0),
    "RandomForestClassifier (ch 13)": RandomForestClassifier(n_estimators=50,
                                                             random_state=0),
    "AdaBoostClassifier (ch 23)": AdaBoostClassifier(n_estimators=50, random_state=0),
    "KNeighborsClassifier k=1 (ch 24)": KNeighborsClassifier(n_neighbors=1),
    "KNeighborsClassifier k=15": KNeighborsClassifier(n_neighbors=15),
}

# %%
# Decision regions, with training and held-out accuracy
# -----------------------------------------------------
# The unpruned tree and 1-NN fit the training set perfectly and pay for it on the
# held-out half; depth limits, averaging, boosting and larger :math:`k` trade some
# training accuracy for a smoother, better-generalising boundary.
xx, yy = np.meshgrid(np.linspace(-2, 3, 150), np.linspace(-1.6, 2.0, 150))
grid = np.c_[xx.ravel(), yy.ravel()]
fig, axes = plt.subplots(2, 3, figsize=(12, 7), sharex=True, sharey=True)
for ax, (name, model) in zip(axes.ravel(), models.items()):
    model.fit(X_train, y_train)
    proba = model.predict_proba(grid)[:, 1].reshape(xx.shape)
    ax.contourf(xx, yy, proba, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.7)
    ax.scatter(X_train[:, 0], X_train[:, 1], c=y_train, cmap="coolwarm", s=10,
               edgecolors="k", linewidths=0.2)
    ax.set_title(f"{name}\ntrain {model.score(X_train, y_train):.2f}, "
                 f"test {model.score(X_test, y_test):.2f}", fontsize=9)
fig.tight_layout()
plt.show()

# %%
# Boosting, stage by stage
# ------------------------
# Held-out error of AdaBoost as stumps are added (``staged_predict``), against a single
# stump and the unpruned tree.
booster = models["AdaBoostClassifier (ch 23)"]
staged = [np.mean(pred != y_test) for pred in booster.staged_predict(X_test)]
stump = DecisionTreeClassifier(max_depth=1).fit(X_train, y_train)
tree = models["DecisionTreeClassifier (ch 13)"]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(np.arange(1, len(staged) + 1), staged, label="AdaBoost (SAMME)")
ax.axhline(1 - stump.score(X_test, y_test), color="C1", ls="--", label="one stump")
ax.axhline(1 - tree.score(X_test, y_test), color="C2", ls=":", label="unpruned tree")
ax.set_xlabel("boosting rounds")
ax.set_ylabel("held-out error")
ax.legend()
fig.tight_layout()
plt.show()
