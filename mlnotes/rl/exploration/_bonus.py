r"""Exploration bonuses as vectorised-env wrappers, usable with any agent (ch. 36-37).

Both wrappers add an intrinsic reward to the environment's reward,
:math:`r_t = r^e_t + \beta\, b(s_{t+1})`, where :math:`b` is large for observations
the agent has rarely seen:

- :class:`CountBonus` (Tang et al., 2017): :math:`b(s) = 1 / \sqrt{n(\phi(s))}` with
  :math:`n` the visit count of the SimHash code :math:`\phi(s) = \operatorname{sign}(A
  g(s))` of the standardised observation (:math:`A` a fixed Gaussian matrix with
  ``n_bits`` rows), which groups nearby continuous observations into one count.
- :class:`RND` (Burda et al., 2019): :math:`b(s) = \|f(s) - \hat f(s)\|^2` where
  :math:`f` is a fixed, randomly initialised network and :math:`\hat f` a predictor
  trained online to imitate it; the error stays high on observations unlike those
  trained on. As in the paper, observations are standardised (running statistics,
  clipped to [-5, 5]) and the bonus is divided by a running standard deviation of the
  discounted intrinsic return.

They are Stable-Baselines3 ``VecEnvWrapper`` s: wrap the training env and pass it to
any agent, ours or SB3's. The extrinsic and intrinsic rewards of each step are in
``info["extrinsic_reward"]`` and ``info["intrinsic_reward"]``; a ``Monitor`` inside
the vectorised env still reports extrinsic episode returns.
"""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils import check_scalar
from gymnasium import spaces
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecEnvWrapper

__all__ = ["CountBonus", "RND"]


def _check_box(venv, name):
    space = venv.observation_space
    if not isinstance(space, spaces.Box):
        raise ValueError(f"{name} needs Box observations, got {space!r}.")
    return int(np.prod(space.shape))


class _BonusWrapper(VecEnvWrapper):
    """Adds ``beta * bonus(next observations)`` to the rewards; subclasses give the bonus."""

    def __init__(self, venv, beta):
        super().__init__(venv)
        check_scalar(beta, "beta", Real, min_val=0)
        self.beta = float(beta)
        self.obs_rms = RunningMeanStd(shape=venv.observation_space.shape)

    def reset(self):
        """Reset every environment (the observations update the running statistics).

        Returns
        -------
        obs : numpy.ndarray
            The first observations.
        """
        obs = self.venv.reset()
        self.obs_rms.update(np.asarray(obs, dtype=np.float64))
        return obs

    def _standardise(self, obs):
        obs = np.asarray(obs, dtype=np.float64)
        return np.clip((obs - self.obs_rms.mean) / np.sqrt(self.obs_rms.var + 1e-8), -5, 5)

    def step_wait(self):
        """Step the environments and add the bonus to their rewards.

        Returns
        -------
        obs : numpy.ndarray
            Next observations (the next episode's first one where an episode ended).
        rewards : numpy.ndarray
            Extrinsic reward plus ``beta`` times the bonus of the state reached.
        dones : numpy.ndarray
            Episode ends.
        infos : list of dict
            The env's infos, with ``extrinsic_reward`` and ``intrinsic_reward``.
        """
        obs, rewards, dones, infos = self.venv.step_wait()
        # the state each transition reached: the true final observation where the
        # episode ended (the VecEnv already returns the next episode's first one)
        reached = np.array(obs, dtype=np.float64, copy=True)
        for i in np.flatnonzero(dones):
            final = infos[i].get("terminal_observation")
            if final is not None:
                reached[i] = final
        self.obs_rms.update(reached)
        bonus = self.bonus(reached)
        for i, info in enumerate(infos):
            info["extrinsic_reward"] = float(rewards[i])
            info["intrinsic_reward"] = float(bonus[i])
        return obs, rewards + self.beta * bonus.astype(rewards.dtype), dones, infos

    def bonus(self, observations):
        """Intrinsic reward of each observation (updates the bonus's statistics)."""
        raise NotImplementedError


class CountBonus(_BonusWrapper):
    r"""Count-based exploration bonus over SimHash codes of the observations.

    :math:`b(s) = 1/\sqrt{n(\phi(s))}`, :math:`\phi(s) = \operatorname{sign}(A\,
    \tilde s)` with :math:`\tilde s` the observation standardised by running statistics
    and :math:`A` an ``n_bits`` x ``obs_dim`` standard Gaussian matrix drawn once.
    Counts are incremented before the bonus is computed, so a first visit pays
    ``beta``. Chapter 37 of the notes; see the user guide, "Exploration".

    Parameters
    ----------
    venv : stable_baselines3.common.vec_env.VecEnv
        The environment (Box observations).
    beta : float, default=0.01
        Scale of the bonus.
    n_bits : int, default=32
        Length :math:`k` of the hash code (more bits: finer cells).
    seed : int, default=None
        Seed of the projection matrix.

    Attributes
    ----------
    counts : dict
        Visit count of each hash code.

    Examples
    --------
    >>> from stable_baselines3.common.env_util import make_vec_env
    >>> from mlnotes.rl import CountBonus
    >>> env = CountBonus(make_vec_env("MountainCar-v0", n_envs=2, seed=0), seed=0)
    >>> obs = env.reset()
    >>> obs, rewards, dones, infos = env.step([0, 2])
    >>> sorted(infos[0])[:2]
    ['TimeLimit.truncated', 'extrinsic_reward']
    """

    def __init__(self, venv, beta=0.01, n_bits=32, seed=None):
        dim = _check_box(venv, "CountBonus")
        super().__init__(venv, beta)
        check_scalar(n_bits, "n_bits", Integral, min_val=1, max_val=64)
        self.n_bits = int(n_bits)
        self.projection = np.random.default_rng(seed).standard_normal((self.n_bits, dim))
        self._powers = (1 << np.arange(self.n_bits, dtype=np.uint64)).astype(np.uint64)
        self.counts = {}

    def hash(self, observations):
        """SimHash codes of a batch of observations.

        Parameters
        ----------
        observations : numpy.ndarray of shape (n, ...)
            Observations.

        Returns
        -------
        codes : numpy.ndarray of uint64, shape (n,)
            One integer code per observation.
        """
        z = self._standardise(observations).reshape(len(observations), -1)
        bits = (z @ self.projection.T > 0).astype(np.uint64)
        return (bits * self._powers).sum(axis=1, dtype=np.uint64)

    def bonus(self, observations):
        """:math:`1/\\sqrt{n}` after counting each observation's code.

        Parameters
        ----------
        observations : numpy.ndarray of shape (n, ...)
            The observations reached.

        Returns
        -------
        bonus : numpy.ndarray of shape (n,)
            The intrinsic rewards.
        """
        out = np.empty(len(observations))
        for i, code in enumerate(self.hash(observations).tolist()):
            count = self.counts.get(code, 0) + 1
            self.counts[code] = count
            out[i] = 1.0 / np.sqrt(count)
        return out


class _RNDNet(torch.nn.Sequential):
    def __init__(self, dim, hidden, out):
        layers, width = [], dim
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.LeakyReLU()]
            width = h
        layers.append(torch.nn.Linear(width, out))
        super().__init__(*layers)


class RND(_BonusWrapper):
    r"""Random Network Distillation bonus, trained online inside the wrapper.

    :math:`b(s) = \|f(\tilde s) - \hat f(\tilde s)\|^2 / \sigma_R`, with :math:`f` a
    fixed random network, :math:`\hat f` a predictor trained by mean squared error on
    the observations met (``n_epochs`` passes over the last ``buffer_size``
    observations every ``train_freq`` vectorised steps), :math:`\tilde s` the
    observation standardised by running statistics and clipped to [-5, 5], and
    :math:`\sigma_R` a running standard deviation of the discounted intrinsic return
    (``gamma``), as in the RND paper. No callback is needed: the wrapper trains its
    predictor as steps pass through it. Chapter 37 of the notes; see the user guide,
    "Exploration".

    Parameters
    ----------
    venv : stable_baselines3.common.vec_env.VecEnv
        The environment (Box observations).
    beta : float, default=1.0
        Scale of the bonus.
    feature_dim : int, default=64
        Output size of both networks.
    hidden : tuple of int, default=(64, 64)
        Hidden widths of both networks.
    learning_rate : float, default=1e-3
        Adam step size of the predictor.
    train_freq : int, default=16
        Vectorised steps between two predictor updates.
    batch_size : int, default=256
        Minibatch size of the predictor updates.
    buffer_size : int, default=10_000
        Recent observations kept for training.
    gamma : float, default=0.99
        Discount of the intrinsic return whose running std normalises the bonus.
    seed : int, default=None
        Seed of the networks and minibatches.

    Attributes
    ----------
    target : torch.nn.Module
        The fixed random network :math:`f`.
    predictor : torch.nn.Module
        The trained network :math:`\hat f`.

    Examples
    --------
    >>> from stable_baselines3.common.env_util import make_vec_env
    >>> from mlnotes.rl import RND
    >>> env = RND(make_vec_env("MountainCar-v0", n_envs=2, seed=0), seed=0)
    >>> obs = env.reset()
    >>> obs, rewards, dones, infos = env.step([0, 2])
    >>> infos[0]["intrinsic_reward"] > 0
    True
    """

    def __init__(self, venv, beta=1.0, feature_dim=64, hidden=(64, 64), learning_rate=1e-3,
                 train_freq=16, batch_size=256, buffer_size=10_000, gamma=0.99, seed=None):
        dim = _check_box(venv, "RND")
        super().__init__(venv, beta)
        for value, name in ((feature_dim, "feature_dim"), (train_freq, "train_freq"),
                            (batch_size, "batch_size"), (buffer_size, "buffer_size")):
            check_scalar(value, name, Integral, min_val=1)
        check_scalar(learning_rate, "learning_rate", Real, min_val=0,
                     include_boundaries="neither")
        check_scalar(gamma, "gamma", Real, min_val=0, max_val=1)
        generator = torch.Generator().manual_seed(
            int(np.random.default_rng(seed).integers(2**31)))
        with torch.random.fork_rng():
            torch.manual_seed(int(torch.randint(2**31, (1,), generator=generator)))
            self.target = _RNDNet(dim, hidden, feature_dim)
            self.predictor = _RNDNet(dim, hidden, feature_dim)
        for p in self.target.parameters():
            p.requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.predictor.parameters(), lr=learning_rate)
        self.train_freq = int(train_freq)
        self.batch_size = int(batch_size)
        self.gamma = float(gamma)
        self._rng = np.random.default_rng(seed)
        self._buffer = np.zeros((int(buffer_size), dim), dtype=np.float32)
        self._size = self._pos = self._steps = 0
        self._return = np.zeros(venv.num_envs)
        self.return_rms = RunningMeanStd(shape=())

    def prediction_error(self, observations):
        """:math:`\\|f(\\tilde s) - \\hat f(\\tilde s)\\|^2` (no normalisation, no training).

        Parameters
        ----------
        observations : numpy.ndarray of shape (n, ...)
            Observations.

        Returns
        -------
        error : numpy.ndarray of shape (n,)
            Squared prediction errors.
        """
        x = torch.as_tensor(self._standardise(observations).reshape(len(observations), -1),
                            dtype=torch.float32)
        with torch.no_grad():
            return ((self.target(x) - self.predictor(x)) ** 2).sum(dim=1).double().numpy()

    def bonus(self, observations):
        """Normalised prediction error; stores the observations and trains the predictor.

        Parameters
        ----------
        observations : numpy.ndarray of shape (n, ...)
            The observations reached.

        Returns
        -------
        bonus : numpy.ndarray of shape (n,)
            The intrinsic rewards.
        """
        error = self.prediction_error(observations)
        self._return = self._return * self.gamma + error
        self.return_rms.update(self._return)
        flat = self._standardise(observations).reshape(len(observations), -1)
        for row in flat:
            self._buffer[self._pos] = row
            self._pos = (self._pos + 1) % len(self._buffer)
            self._size = min(self._size + 1, len(self._buffer))
        self._steps += 1
        if self._steps % self.train_freq == 0:
            self.train_predictor()
        return error / np.sqrt(self.return_rms.var + 1e-8)

    def train_predictor(self, n_batches=None):
        """A few Adam steps of the predictor on recent observations.

        Parameters
        ----------
        n_batches : int, default=None
            Minibatches (``None``: enough to pass over the ``train_freq`` latest steps'
            observations once, at least one).

        Returns
        -------
        loss : float
            Mean squared error of the last minibatch.
        """
        if self._size == 0:
            return float("nan")
        if n_batches is None:
            n_batches = max(1, self.train_freq * self.num_envs // self.batch_size)
        loss = torch.zeros(())
        for _ in range(n_batches):
            idx = self._rng.integers(0, self._size, min(self.batch_size, self._size))
            x = torch.as_tensor(self._buffer[idx])
            loss = ((self.target(x) - self.predictor(x)) ** 2).sum(dim=1).mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        return float(loss.detach())
