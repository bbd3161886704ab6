r"""Lossless compression with a fitted density model (chapter 57 of the notes).

:func:`encode` turns rows into bytes with an arithmetic coder driven by the model's
probabilities; :func:`decode` inverts it exactly. Any fitted discrete model of
:mod:`mlnotes.density` can drive the coder: the autoregressive models (MADE,
PixelCNN, TransformerAR, RNNDensity), through their per-feature conditional
distributions in ``ordering_``, and the 1-D models (Histogram,
DiscretizedLogisticMixture), whose features are independent. The code length is
within a few bits of :math:`-\log_2 p(X)`, the model's negative log-likelihood in
bits: a better density model is a better compressor.
"""

from ._arithmetic import decode, encode

__all__ = ["decode", "encode"]
