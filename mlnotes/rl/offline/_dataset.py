"""Offline-RL datasets: the format, collection from any policy, and training from one.

A dataset is a dict of arrays with one row per transition (the D4RL/Minari layout):
``observations`` (n, ...), ``actions`` (n, ...), ``rewards`` (n,),
``next_observations`` (n, ...), ``terminals`` (n,) — 1 where the episode terminated
— and ``timeouts`` (n,) — 1 where a time limit cut it. A time-limit end is not a
termination: its target still bootstraps from ``next_observations``.
"""

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from ..tabular._model import make_env

__all__ = ["collect_dataset", "check_dataset", "make_dataset"]

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
    return _stack(rows)


#: The behaviour agents and return targets of :func:`make_dataset`: the agent (class
#: name in :mod:`mlnotes.rl` and its arguments), the evaluation return at which training
#: stops for ``"medium"`` and ``"expert"``, the most training steps spent looking for it,
#: the training steps between evaluations and the episodes per evaluation. SAC on
#: Pendulum goes from -1,200 to -200 within about 1,000 steps, so a medium policy is
#: only caught with short chunks: with 200-step chunks and a -700 target the first
#: passing evaluation was already -259 (seed 0); with 100-step chunks, 10 episodes and
#: a -800 target the behaviour policies of seeds 0-4 stopped at -663, -562, -746, -701
#: and -768 (2,400-2,700 training steps), their noisy data at -648 to -779.
DATASET_RECIPES = {
    "Pendulum-v1": {"agent": ("SAC", {}), "medium": -800.0, "expert": -200.0,
                    "max_train_steps": 30_000, "noise_std": 0.1, "chunk": 100,
                    "eval_episodes": 10},
    "CartPole-v1": {"agent": ("PPO", {}), "medium": 150.0, "expert": 475.0,
                    "max_train_steps": 100_000, "noise_std": 0.0, "chunk": 1_000},
}
QUALITIES = ("random", "medium", "medium-replay", "expert")


class _Recorder(gym.Wrapper):
    """Records every transition the wrapped env produces (the medium-replay data)."""

    def __init__(self, env):
        super().__init__(env)
        self.rows = {k: [] for k in (*_KEYS, "timeouts")}
        self._obs = None

    def reset(self, **kwargs):
        self._obs, info = self.env.reset(**kwargs)
        return self._obs, info

    def step(self, action):
        next_obs, reward, terminated, truncated, info = self.env.step(action)
        for key, value in zip(self.rows, (self._obs, action, reward, next_obs, terminated,
                                          truncated)):
            self.rows[key].append(np.asarray(value))
        self._obs = next_obs
        return next_obs, reward, terminated, truncated, info


def _stack(rows):
    data = {k: np.stack(v) for k, v in rows.items()}
    for key in ("rewards", "terminals", "timeouts"):
        data[key] = data[key].astype(np.float32)
    return data


def _episode_return(data):
    """Mean return of the complete episodes of a dataset (None if there is none)."""
    ends = np.flatnonzero((data["terminals"] > 0) | (data["timeouts"] > 0))
    if len(ends) == 0:
        return None
    sums = np.add.reduceat(data["rewards"][:ends[-1] + 1], np.r_[0, ends[:-1] + 1])
    return float(sums.mean())


def make_dataset(env, quality, n_steps=100_000, seed=0, agent=None, target_return=None,
                 max_train_steps=None, chunk=None, eval_episodes=None, noise_std=None,
                 return_agent=False):
    """Make a ``random``, ``medium``, ``medium-replay`` or ``expert`` dataset, D4RL-style.

    ``random``: uniform actions. Otherwise a behaviour agent (the recipe's for the env in
    ``mlnotes.rl.offline.DATASET_RECIPES``, or ``agent``) is trained in chunks of ``chunk`` steps and
    evaluated after each (``eval_episodes`` deterministic episodes) until its return
    reaches ``target_return`` (the recipe's ``medium`` or ``expert`` target) or
    ``max_train_steps`` pass. ``medium`` / ``expert``: ``n_steps`` transitions of that
    agent (Box actions with Gaussian noise ``noise_std``, as a fraction of half the
    action range). ``medium-replay``: every transition the agent saw while training up
    to the medium target (so ``n_steps`` is ignored). Nothing is downloaded.

    Parameters
    ----------
    env : str
        Environment id (``"Pendulum-v1"`` and ``"CartPole-v1"`` have recipes; any other
        needs ``agent`` and ``target_return``).
    quality : {"random", "medium", "medium-replay", "expert"}
        The kind of dataset.
    n_steps : int, default=100_000
        Transitions recorded (not for ``medium-replay``).
    seed : int, default=0
        Seed of the behaviour agent, the collection and the evaluations.
    agent : BaseAlgorithm, default=None
        An untrained agent (on ``env``) to train instead of the recipe's.
    target_return : float, default=None
        Evaluation return at which training stops (default: the recipe's).
    max_train_steps : int, default=None
        Most training steps (default: the recipe's).
    chunk : int, default=None
        Training steps between evaluations (default: the recipe's, else 1,000).
    eval_episodes : int, default=None
        Episodes per evaluation (default: the recipe's, else 5).
    noise_std : float, default=None
        Collection noise of Box actions (default: the recipe's).
    return_agent : bool, default=False
        Also return the trained behaviour agent (``None`` for ``random``), e.g. to
        evaluate the policy that made the data on other episodes than the recipe's.
        Everything is seeded from ``seed``, so the same call (one torch thread) remakes
        the same data and the same agent.

    Returns
    -------
    dataset : dict
        The arrays of :func:`collect_dataset` and ``metadata``: a dict with ``quality``,
        ``behaviour_return`` (the last evaluation, or None for ``random``),
        ``dataset_return`` (mean return of the complete episodes in the data, actions
        noise included; None without one) and ``train_steps``.
    agent : BaseAlgorithm or None
        The behaviour agent; only with ``return_agent=True``.

    Examples
    --------
    >>> from mlnotes.rl.offline import make_dataset
    >>> data = make_dataset("Pendulum-v1", "random", n_steps=400, seed=0)
    >>> data["observations"].shape, data["metadata"]["quality"]
    ((400, 3), 'random')
    """
    from stable_baselines3.common.evaluation import evaluate_policy

    import importlib

    if quality not in QUALITIES:
        raise ValueError(f"quality must be one of {QUALITIES}, got {quality!r}.")
    if quality == "random":
        data = collect_dataset(env, None, n_steps=n_steps, seed=seed)
        data["metadata"] = {"quality": quality, "behaviour_return": None, "train_steps": 0,
                            "dataset_return": _episode_return(data)}
        return (data, None) if return_agent else data
    env_id = env if isinstance(env, str) else None
    recipe = DATASET_RECIPES.get(env_id)
    if recipe is None and (agent is None or target_return is None):
        raise ValueError(f"No dataset recipe for {env!r} (recipes: {list(DATASET_RECIPES)}); "
                         "pass an agent and a target_return.")
    recipe = recipe or {}
    level = "expert" if quality == "expert" else "medium"
    target = recipe[level] if target_return is None else float(target_return)
    budget = recipe.get("max_train_steps", 100_000) if max_train_steps is None else \
        int(max_train_steps)
    noise = recipe.get("noise_std", 0.0) if noise_std is None else float(noise_std)
    chunk = recipe.get("chunk", 1_000) if chunk is None else int(chunk)
    eval_episodes = recipe.get("eval_episodes", 5) if eval_episodes is None else \
        int(eval_episodes)
    recorder = _Recorder(make_env(env))
    if agent is None:
        name, kwargs = recipe["agent"]
        cls = getattr(importlib.import_module("mlnotes.rl"), name)
        agent = cls("MlpPolicy", recorder, seed=seed, **kwargs)
    else:
        agent.set_env(recorder)
    eval_env = make_env(env)
    eval_env.reset(seed=seed + 10_000)
    trained, mean = 0, -np.inf
    while trained < budget:
        step = min(int(chunk), budget - trained)
        agent.learn(step, reset_num_timesteps=trained == 0)
        trained += step
        mean = evaluate_policy(agent, eval_env, n_eval_episodes=eval_episodes, warn=False)[0]
        if mean >= target:
            break
    meta = {"quality": quality, "behaviour_return": float(mean), "train_steps": trained,
            "target_return": target}
    if quality == "medium-replay":
        data = _stack(recorder.rows)
    else:
        data = collect_dataset(env, agent, n_steps=n_steps, noise_std=noise, seed=seed + 1)
    meta["dataset_return"] = _episode_return(data)
    data["metadata"] = meta
    return (data, agent) if return_agent else data


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
