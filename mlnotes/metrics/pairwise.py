r"""Kernels and pairwise distances (chapter 14 of the notes: the kernel trick).

Every function here **is scikit-learn's** (:mod:`sklearn.metrics.pairwise`), re-exported
unchanged. The kernel machines of mlnotes (:class:`~mlnotes.kernel_ridge.KernelRidge`,
:class:`~mlnotes.decomposition.KernelPCA`,
:class:`~mlnotes.linear_model.KernelPerceptron`) import these same functions from
scikit-learn directly, so user code and the estimators compute kernels identically. The
chapter needs no kernel that scikit-learn lacks, so nothing is added.

A kernel :math:`k(x, z) = \langle \phi(x), \phi(z) \rangle` is an inner product in a
feature space :math:`\phi` never computed explicitly; by Mercer's theorem a symmetric
function is a kernel exactly when every Gram matrix :math:`K_{ij} = k(x_i, x_j)` it
produces is positive semi-definite. The kernels of the chapter:

.. math::

    k_{\text{linear}}(x, z) &= x^\top z, \\
    k_{\text{poly}}(x, z) &= (\gamma\, x^\top z + c_0)^d, \\
    k_{\text{rbf}}(x, z) &= \exp(-\gamma \|x - z\|_2^2), \\
    k_{\text{laplacian}}(x, z) &= \exp(-\gamma \|x - z\|_1), \\
    k_{\text{sigmoid}}(x, z) &= \tanh(\gamma\, x^\top z + c_0)
    \quad\text{(not positive semi-definite in general)}, \\
    k_{\text{cosine}}(x, z) &= \frac{x^\top z}{\|x\|_2 \|z\|_2}.

:func:`pairwise_kernels` dispatches on the kernel's name (``"linear"``, ``"poly"``,
``"rbf"``, ``"laplacian"``, ``"sigmoid"``, ``"cosine"``, ...) or calls a user function
on every pair of rows; ``gamma=None`` means :math:`1 / n_\text{features}`.

Examples
--------
>>> import numpy as np
>>> from mlnotes.metrics.pairwise import rbf_kernel
>>> X = np.array([[0.0, 0.0], [1.0, 0.0]])
>>> rbf_kernel(X, gamma=1.0).round(4)
array([[1.    , 0.3679],
       [0.3679, 1.    ]])
"""

from sklearn.metrics.pairwise import (
    cosine_similarity,
    euclidean_distances,
    laplacian_kernel,
    linear_kernel,
    pairwise_kernels,
    polynomial_kernel,
    rbf_kernel,
    sigmoid_kernel,
)

__all__ = [
    "cosine_similarity", "euclidean_distances", "laplacian_kernel", "linear_kernel",
    "pairwise_kernels", "polynomial_kernel", "rbf_kernel", "sigmoid_kernel",
]
