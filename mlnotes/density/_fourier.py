"""Fourier features of a network's input, shared by the VAE, DDPM, GAN and the flows.

The one implementation of ``u -> (u, sin 2^k u_j, cos 2^k u_j)``, ``k < L``; the user
guide's density page ("Fourier features") gives the maths and the measured effect.
"""

import math

import torch
from torch import nn


class _FourierFeatures(nn.Module):
    r"""``u -> [u, sin(2^k u_j), cos(2^k u_j)]`` for ``k < n_frequencies``, per feature.

    Layout: the inputs, then every sine (feature by feature, frequencies ascending),
    then every cosine in the same order, so ``n_out = n_in (1 + 2 L)``. Computed as one
    affine map and one sine, :math:`\sin(u F + \phi)` with :math:`\phi = \pi/2` on the
    cosine columns: three operations per call, which matters for the small,
    many-layered conditioners of a flow.

    Sinusoidal features of the (standardised) input let a small multilayer perceptron
    represent functions that change on a scale much finer than the spread of its input
    (sharp edges, thin rings), which a plain MLP learns only slowly (Tancik et al.,
    "Fourier Features Let Networks Learn High Frequency Functions in Low Dimensional
    Domains", NeurIPS 2020).
    """

    def __init__(self, n_in, n_frequencies, dtype=None):
        super().__init__()
        dtype = torch.get_default_dtype() if dtype is None else dtype
        L, d = int(n_frequencies), int(n_in)
        F = torch.zeros(d, 2 * d * L, dtype=torch.float64)
        for j in range(d):
            for k in range(L):
                F[j, j * L + k] = F[j, d * L + j * L + k] = 2.0 ** k
        phase = torch.cat([torch.zeros(d * L, dtype=torch.float64),
                           torch.full((d * L,), math.pi / 2, dtype=torch.float64)])
        # built in float64, then rounded once to the module's dtype (converting a
        # float32 module to float64 later keeps float32's rounding of pi / 2)
        self.register_buffer("freqs", F.to(dtype))
        self.register_buffer("phase", phase.to(dtype))
        self.n_out = d * (1 + 2 * L)

    def forward(self, u):
        F, phase = self.freqs, self.phase
        if F.dtype != u.dtype:
            F, phase = F.to(u.dtype), phase.to(u.dtype)
        if u.dim() == 2:
            angle = torch.addmm(phase, u, F)
        else:
            angle = torch.matmul(u, F) + phase
        return torch.cat([u, torch.sin(angle)], dim=-1)
