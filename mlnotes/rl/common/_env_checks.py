"""Checks on what the training environment returns (SB3's ``VecCheckNan``, as errors).

Every agent trains on the ``VecEnv`` built by ``BaseAlgorithm._wrap_env``, whose
outermost layer is :class:`CheckFiniteEnv`: a NaN or infinite observation (at reset or
after a step) or reward stops ``learn`` with a ``ValueError`` naming the environment as
the cause, before it can reach a loss (where it would look like a divergence of
training). Integer observations (images, Discrete) cannot hold NaN and are not scanned.
"""

import numpy as np
from stable_baselines3.common.vec_env import VecEnvWrapper


def _non_finite(value):
    """Whether a float array (or a dict of them) holds a NaN or an infinity."""
    if isinstance(value, dict):
        return any(_non_finite(v) for v in value.values())
    if isinstance(value, tuple):
        return any(_non_finite(v) for v in value)
    if value.dtype.kind not in "fc":
        return False
    return not np.isfinite(value).all()


def _bad_envs(value):
    """Indices of the environments whose entry of a batched array is not finite."""
    if isinstance(value, dict):
        bad = set()
        for v in value.values():
            bad.update(_bad_envs(v))
        return sorted(bad)
    value = np.asarray(value)
    if value.dtype.kind not in "fc":
        return []
    flat = value.reshape(value.shape[0], -1) if value.ndim > 1 else value.reshape(-1, 1)
    return [int(i) for i in np.flatnonzero(~np.isfinite(flat).all(axis=1))]


class CheckFiniteEnv(VecEnvWrapper):
    """Raise when the wrapped env returns a NaN or infinite observation or reward.

    Parameters
    ----------
    venv : stable_baselines3.common.vec_env.VecEnv
        The environment to watch.
    """

    def __init__(self, venv):
        super().__init__(venv)
        self._steps = 0

    def reset(self):
        obs = self.venv.reset()
        if _non_finite(obs):
            self._raise("observation", "at reset", obs)
        return obs

    def step_wait(self):
        obs, rewards, dones, infos = self.venv.step_wait()
        self._steps += 1
        if _non_finite(obs):
            self._raise("observation", f"at step {self._steps}", obs)
        if rewards.dtype.kind in "fc" and not np.isfinite(rewards).all():
            self._raise("reward", f"at step {self._steps}", rewards)
        return obs, rewards, dones, infos

    def _describe(self, index):
        try:
            spec = self.venv.get_attr("spec", [index])[0]
            if spec is not None and getattr(spec, "id", None):
                return f"{spec.id!r}"
        except Exception:  # noqa: BLE001 - a best-effort name for the message
            pass
        try:
            return type(self.venv.envs[index].unwrapped).__name__
        except (AttributeError, IndexError):
            return type(self.venv.unwrapped).__name__

    def _raise(self, what, when, value):
        bad = _bad_envs(value) or [0]
        names = ", ".join(f"env {i} ({self._describe(i)})" for i in bad[:3])
        raise ValueError(
            f"The environment returned a non-finite {what} (NaN or infinity) {when}: "
            f"{names}. The cause is the environment, not training; fix the environment "
            f"(or wrap it with stable_baselines3's VecCheckNan to locate the first bad value)."
        )
