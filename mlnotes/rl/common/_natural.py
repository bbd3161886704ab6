r"""Natural-gradient machinery for NPG and TRPO (chapters 28 and 32; private).

The natural gradient solves :math:`F x = g` where :math:`F` is the Fisher information
matrix of the policy, :math:`F = E_{s, a \sim \pi}[\nabla \log \pi(a|s)
\nabla \log \pi(a|s)^\top]`. :math:`F` is never formed: it is the Hessian at
:math:`\theta_{old}` of the mean KL divergence
:math:`\bar D(\theta) = E_s[KL(\pi_{\theta_{old}}(\cdot|s) \,\|\, \pi_\theta(\cdot|s))]`
(the KL and its gradient vanish there), so a product :math:`F v` costs two backward
passes (double backpropagation), and conjugate gradient solves the system from such
products alone. The step :math:`\beta x` with :math:`\beta = \sqrt{2\epsilon / x^\top F x}`
moves the policy by a KL of about :math:`\epsilon` (the second-order expansion
:math:`\bar D(\theta_{old} + \beta x) \approx \tfrac12 \beta^2 x^\top F x`).
"""

import math

import torch

__all__ = []  # private helpers; imported by the NPG and TRPO agents


def _as_list(params):
    params = list(params)
    if not params:
        raise ValueError("params is empty.")
    return params


def flat_grad(output, params, retain_graph=False, create_graph=False):
    """Gradient of a scalar ``output`` w.r.t. ``params``, concatenated into one vector.

    Parameters that ``output`` does not depend on get zero gradient. As in
    ``torch.autograd.grad``, ``create_graph=True`` also keeps the graph.
    """
    params = _as_list(params)
    grads = torch.autograd.grad(
        output, params, retain_graph=retain_graph or create_graph,
        create_graph=create_graph,
        allow_unused=True,
    )
    return torch.cat([
        (torch.zeros_like(p) if g is None else g).reshape(-1)
        for g, p in zip(grads, params)
    ])


def get_flat_params(params):
    """The parameters' values, detached and concatenated into one 1-D tensor."""
    return torch.cat([p.detach().reshape(-1) for p in _as_list(params)])


def set_flat_params(params, flat):
    """Copy the 1-D tensor ``flat`` into ``params`` in place (the inverse of get)."""
    params = _as_list(params)
    n = sum(p.numel() for p in params)
    if flat.ndim != 1 or flat.numel() != n:
        raise ValueError(
            f"flat must be a 1-D tensor of {n} elements, got shape {tuple(flat.shape)}."
        )
    offset = 0
    with torch.no_grad():
        for p in params:
            k = p.numel()
            p.copy_(flat[offset:offset + k].view_as(p))
            offset += k


def fisher_vector_product(kl_fn, params, damping=0.0):
    r"""Closure ``v -> F v + damping * v`` by double backprop through the mean KL.

    Parameters
    ----------
    kl_fn : callable
        ``kl_fn()`` returns the scalar mean KL divergence between a *detached* copy of
        the current policy (:math:`\pi_{\theta_{old}}`) and the policy as a function
        of ``params``. It is called once, here: its gradient (with graph) is reused by
        every product.
    params : iterable of torch.Tensor
        The policy parameters (``requires_grad=True``).
    damping : float, default=0.0
        Tikhonov damping added to the Fisher matrix, making it positive definite.

    Returns
    -------
    fvp : callable
        ``fvp(v)`` for a 1-D tensor ``v`` of the parameters' total size returns
        :math:`(F + \text{damping} \, I) v`.
    """
    params = _as_list(params)
    if damping < 0:
        raise ValueError(f"damping must be >= 0, got {damping!r}.")
    grad_kl = flat_grad(kl_fn(), params, create_graph=True)
    n = grad_kl.numel()

    def fvp(v):
        if v.ndim != 1 or v.numel() != n:
            raise ValueError(f"v must be a 1-D tensor of {n} elements.")
        v = v.detach().to(grad_kl.dtype)
        # grad of (grad KL . v) is the Hessian-vector product H v = F v at theta_old
        Fv = flat_grad(grad_kl @ v, params, retain_graph=True).detach()
        return Fv + damping * v if damping else Fv

    return fvp


def conjugate_gradient(Avp, b, n_iters=10, residual_tol=1e-10):
    r"""Solve :math:`A x = b` for symmetric positive definite :math:`A` given products.

    Parameters
    ----------
    Avp : callable
        ``Avp(p)`` returns :math:`A p`.
    b : torch.Tensor of shape (n,)
        Right-hand side.
    n_iters : int, default=10
        Maximum number of iterations (exact after ``n`` in exact arithmetic).
    residual_tol : float, default=1e-10
        Stop when the squared residual norm :math:`\|b - A x\|^2` falls below it.

    Returns
    -------
    x : torch.Tensor of shape (n,)
        The approximate solution, starting from :math:`x_0 = 0`. Iteration stops early
        (keeping the current iterate) if a search direction has no positive
        curvature, which only happens when :math:`A` is not positive definite.
    """
    b = b.detach()
    x = torch.zeros_like(b)
    r = b.clone()
    p = b.clone()
    rr = torch.dot(r, r)
    for _ in range(n_iters):
        if rr.item() < residual_tol:
            break
        Ap = Avp(p)
        pAp = torch.dot(p, Ap)
        if not pAp.item() > 0:
            break
        alpha = rr / pAp
        x += alpha * p
        r -= alpha * Ap
        rr_new = torch.dot(r, r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def natural_step_size(x, Fx, max_kl):
    r"""Step length :math:`\beta = \sqrt{2\,\epsilon / x^\top F x}` for a KL radius.

    Parameters
    ----------
    x : torch.Tensor of shape (n,)
        Search direction (the natural gradient :math:`F^{-1} g`).
    Fx : torch.Tensor of shape (n,)
        :math:`F x`.
    max_kl : float
        KL radius :math:`\epsilon > 0`.

    Returns
    -------
    beta : float
        The step length; 0.0 when :math:`x^\top F x \le 0` (a zero direction).
    """
    if not max_kl > 0:
        raise ValueError(f"max_kl must be > 0, got {max_kl!r}.")
    xFx = float(torch.dot(x, Fx))
    if not xFx > 0:
        return 0.0
    return math.sqrt(2.0 * max_kl / xFx)
