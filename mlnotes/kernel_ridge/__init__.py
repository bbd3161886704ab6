"""Kernel ridge regression (chapter 14 of the notes: the kernel trick)."""

from ._kernel_ridge import KernelRidge

__all__ = ["KernelRidge"]
