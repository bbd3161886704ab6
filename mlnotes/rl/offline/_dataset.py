"""Offline-RL datasets: the format, collection from any policy, and training from one.

A dataset is a dict of arrays with one row per transition (the D4RL/Minari layout):
``observations`` (n, ...), ``actions`` (n, ...), ``rewards`` (n,),
``next_observations`` (n, ...), ``terminals`` (n,) — 1 where the episode terminated
— and ``timeouts`` (n,) — 1 where a time limit cut it. A time-limit end is not a
termination: its target still bootstraps from ``next_observations``.
"""

import numpy as np
from gymnasium import spaces

from ..tabular._model import make_env

__all__ = ["collect_dataset", "check_dataset"]

_KEYS = ("observations", "actions", "rewards", "next_observations", "terminals")


def collect_dataset(env, policy=None, n_steps=10_000, noise_std=0.0, random_fraction=0.0,
                    seed=None):
    """Run a policy in an environment and record the transitions as a dataset.

    Parameters
    ----------
    env : gymnasium.Env or str
        A single (not vectorised) environment, or its id.
    policy : object with ``predict``, default=None
        Anything with Stable-Baselines3's ``predict(observation, deterministic=True)``
        (an mlnotes or SB3 agent, a scripted controller); ``None`` acts uniformly at
        random.
    n_steps : int, default=10_000
        Transitions to record.
    noise_std : float, default=0.0
        Gaussian noise added to Box actions, as a fraction of half the action range
        (then clipped to the bounds).
    random_fraction : float, default=0.0
        Probability of replacing the policy's action by a uniformly random one.
    seed : int, default=None
        Seed of the environment resets, the noise and the random actions.

    Returns
    -------
    dataset : dict of numpy.ndarray
        ``observations``, ``actions``, ``rewards``, ``next_observations``,
        ``terminals``, ``timeouts``.

    Examples
    --------
    >>> from mlnotes.rl.offline import collect_dataset
    >>> data = collect_dataset("Pendulum-v1", n_steps=300, seed=0)
    >>> data["observations"].shape, int(data["timeouts"].sum())
    ((300, 3), 1)
    """
    env = make_env(env)
    if hasattr(env, "num_envs"):
        raise ValueError("collect_dataset takes a single environment, not a VecEnv.")
    rng = np.random.default_rng(seed)
    space = env.action_space
    env.action_space.seed(int(rng.integers(2**31)))
    box = isinstance(space, spaces.Box)
    rows = {k: [] for k in (*_KEYS, "timeouts")}
    obs, _ = env.reset(seed=int(rng.integers(2**31)))
    for _ in range(int(n_steps)):
        if policy is None or rng.random() < random_fraction:
            action = space.sample()
        else:
            action = np.asarray(policy.predict(obs, deterministic=True)[0])
            if box and noise_std > 0:
                half = (space.high - space.low) / 2
                action = action + noise_std * half * rng.standard_normal(action.shape)
            if box:
                action = np.clip(action, space.low, space.high).astype(space.dtype)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        for key, value in zip(rows, (obs, action, reward, next_obs, terminated, truncated)):
            rows[key].append(np.asarray(value))
        obs = next_obs
        if terminated or truncated:
            obs, _ = env.reset(seed=int(rng.integers(2**31)))
    data = {k: np.stack(v) for k, v in rows.items()}
    for key in ("rewards", "terminals", "timeouts"):
        data[key] = data[key].astype(np.float32)
    return data


def check_dataset(dataset, observation_space, action_space):
    """Validate a dataset against the spaces; return it with float arrays.

    Parameters
    ----------
    dataset : dict of array-like
        The keys of the module docstring (``timeouts`` optional).
    observation_space, action_space : gymnasium.spaces.Space
        The spaces of the agent that will learn from it.

    Returns
    -------
    dataset : dict of numpy.ndarray
        Arrays reshaped to the spaces, rewards/terminals/timeouts as float32.
    """
    if not isinstance(dataset, dict):
        raise TypeError(f"The dataset must be a dict of arrays with keys {list(_KEYS)}, got "
                        f"{type(dataset).__name__}.")
    missing = [k for k in _KEYS if k not in dataset]
    if missing:
        raise ValueError(f"The dataset lacks {missing}; it needs {list(_KEYS)} (and may "
                         "have 'timeouts').")
    n = len(dataset["observations"])
    if n == 0:
        raise ValueError("The dataset is empty.")
    out = {}
    for key in _KEYS + ("timeouts",):
        if key == "timeouts" and key not in dataset:
            out[key] = np.zeros(n, dtype=np.float32)
            continue
        arr = np.asarray(dataset[key])
        if len(arr) != n:
            raise ValueError(f"The dataset's {key} has {len(arr)} rows, observations {n}.")
        if key in ("observations", "next_observations"):
            arr = arr.astype(np.float32).reshape((n, *observation_space.shape))
        elif key == "actions":
            shape = action_space.shape if isinstance(action_space, spaces.Box) else ()
            arr = arr.reshape((n, *shape))
        else:
            arr = arr.astype(np.float32).reshape(n)
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ValueError(f"The dataset's {key} contain NaN or infinity.")
        out[key] = arr
    if isinstance(action_space, spaces.Box):
        low, high = action_space.low, action_space.high
        if np.any(out["actions"] < low - 1e-6) or np.any(out["actions"] > high + 1e-6):
            raise ValueError("The dataset's actions fall outside the action space's bounds.")
    return out


def fill_replay_buffer(buffer, dataset, scale_action=None):
    """Write a checked dataset into an (empty, single-env) replay buffer."""
    n = len(dataset["observations"])
    if n > buffer.buffer_size:
        raise ValueError(f"The dataset has {n} transitions; the buffer holds "
                         f"{buffer.buffer_size} (raise buffer_size).")
    actions = dataset["actions"]
    if scale_action is not None:
        actions = scale_action(actions)
    buffer.observations[:n, 0] = dataset["observations"]
    buffer.next_observations[:n, 0] = dataset["next_observations"]
    buffer.actions[:n, 0] = np.asarray(actions).reshape(n, -1)
    buffer.rewards[:n, 0] = dataset["rewards"]
    buffer.dones[:n, 0] = np.maximum(dataset["terminals"], dataset["timeouts"])
    buffer.timeouts[:n, 0] = dataset["timeouts"] * (1 - dataset["terminals"])
    buffer.pos = n % buffer.buffer_size
    buffer.full = n == buffer.buffer_size
    return buffer
