"""Learning theory (chapter 22 of the notes): concentration, union and VC bounds.

No library a practitioner would pick implements these; each function is checked
against its closed form and by simulation in ``tests/learning_theory``.
"""

from ._bounds import (
    finite_class_bound,
    finite_class_sample_size,
    growth_function_bound,
    hoeffding_bound,
    hoeffding_epsilon,
    hoeffding_sample_size,
    sauer_lemma,
    vc_bound,
    vc_sample_size,
)

__all__ = [
    "finite_class_bound", "finite_class_sample_size", "growth_function_bound",
    "hoeffding_bound", "hoeffding_epsilon", "hoeffding_sample_size", "sauer_lemma",
    "vc_bound", "vc_sample_size",
]
