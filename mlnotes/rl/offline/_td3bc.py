r"""TD3+BC: TD3 with a behaviour-cloning term, learned from a fixed dataset (ch. 38-39).

Fujimoto and Gu (2021) make TD3 work offline with two changes: observations are
standardised by the dataset's mean and standard deviation, and the actor maximises

.. math::

    \lambda\, Q_1(s, \pi(s)) - (\pi(s) - a)^2, \qquad
    \lambda = \frac{\alpha}{\frac{1}{N}\sum_i |Q_1(s_i, a_i)|},

on dataset pairs :math:`(s, a)`: the squared error keeps the policy near the actions
the data support (where the critic can be trusted), and :math:`\lambda` makes the
trade-off independent of the scale of the returns.
"""

import numpy as np
import torch
from numbers import Real
from sklearn.utils import check_scalar
from stable_baselines3.common.evaluation import evaluate_policy

from ..actor_critic._td3 import TD3
from ..common.replay_buffer import ReplayBuffer
from ._dataset import check_dataset, fill_replay_buffer

__all__ = ["TD3BC"]


class _ObservationStats(torch.nn.Module):
    """Mean and standard deviation of the dataset's observations (saved with the agent)."""

    def __init__(self, shape):
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("std", torch.ones(shape))

    def normalize(self, obs):
        return (obs - self.mean.cpu().numpy()) / self.std.cpu().numpy()


class TD3BC(TD3):
    r"""TD3+BC: offline TD3 with a behaviour-cloning regulariser.

    Constructed like the other agents (``TD3BC("MlpPolicy", env)``: the env gives the
    spaces and is used for evaluation only), it learns with ``fit(dataset, n_steps)``
    from a fixed dataset without interacting, then ``predict`` s like any agent. The
    critics are TD3's (clipped double Q with target smoothing); the actor minimises
    :math:`-\lambda Q_1(s, \pi(s)) + (\pi(s) - a)^2` with
    :math:`\lambda = \alpha / \overline{|Q_1|}`; observations are standardised by the
    dataset's statistics (``normalize_observations``), inside ``predict`` too. ``learn``
    fine-tunes online with the same losses. Chapters 38-39 of the notes; see the user
    guide, "Offline RL".

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` (TD3's policy).
    env : gymnasium.Env, VecEnv or str
        An environment with the dataset's spaces (Box actions).
    learning_rate : float or callable, default=3e-4
        Actor and critic learning rate.
    buffer_size : int, default=1_000_000
        Transitions the buffer can hold (the dataset must fit).
    batch_size : int, default=256
        Minibatch size.
    tau : float, default=0.005
        Polyak coefficient.
    gamma : float, default=0.99
        Discount factor.
    policy_delay : int, default=2
        Critic updates per actor update.
    target_policy_noise : float, default=0.2
        Target smoothing noise.
    target_noise_clip : float, default=0.5
        Its clip.
    alpha : float, default=2.5
        :math:`\alpha` of the Q-term's scale (larger: less cloning).
    normalize_observations : bool, default=True
        Standardise observations by the dataset's mean and standard deviation.
    action_noise : stable_baselines3.common.noise.ActionNoise, default=None
        Exploration noise of online ``learn`` (unused by ``fit``).
    policy_kwargs : dict, default=None
        TD3 policy arguments (default ``net_arch=[256, 256]``, the paper's).
    verbose : int, default=0
        Verbosity.
    seed : int, default=None
        Seed (global generators, as SB3).
    device : str, default="auto"
        Torch device.
    _init_setup_model : bool, default=True
        Build the networks at construction.

    Attributes
    ----------
    eval_history_ : list of tuple
        ``(gradient_steps, mean_return, std_return)`` of the evaluations during ``fit``.

    Examples
    --------
    >>> from mlnotes.rl import TD3BC
    >>> from mlnotes.rl.offline import collect_dataset
    >>> data = collect_dataset("Pendulum-v1", n_steps=400, seed=0)
    >>> agent = TD3BC("MlpPolicy", "Pendulum-v1", seed=0).fit(data, n_steps=50)
    >>> agent.predict(data["observations"][:3], deterministic=True)[0].shape
    (3, 1)
    """

    def __init__(self, policy, env, learning_rate=3e-4, buffer_size=1_000_000,
                 batch_size=256, tau=0.005, gamma=0.99, policy_delay=2,
                 target_policy_noise=0.2, target_noise_clip=0.5, alpha=2.5,
                 normalize_observations=True, action_noise=None, policy_kwargs=None,
                 verbose=0, seed=None, device="auto", _init_setup_model=True):
        check_scalar(alpha, "alpha", Real, min_val=0)
        self.alpha = float(alpha)
        self.normalize_observations = bool(normalize_observations)
        policy_kwargs = {"net_arch": [256, 256], **(policy_kwargs or {})}
        self.eval_history_ = []
        super().__init__(policy, env, learning_rate=learning_rate, buffer_size=buffer_size,
                         learning_starts=0, batch_size=batch_size, tau=tau, gamma=gamma,
                         policy_delay=policy_delay, target_policy_noise=target_policy_noise,
                         target_noise_clip=target_noise_clip, action_noise=action_noise,
                         policy_kwargs=policy_kwargs,
                         verbose=verbose, seed=seed, device=device,
                         _init_setup_model=_init_setup_model)

    def _setup_model(self):
        super()._setup_model()
        self.obs_stats = _ObservationStats(self.observation_space.shape)

    def _state_dict_names(self):
        return super()._state_dict_names() + ["obs_stats"]

    def _actor_loss(self, data):
        pi = self.actor(data.observations)
        q = self.critic.q1_forward(data.observations, pi)
        lam = self.alpha / q.abs().mean().detach().clamp_min(1e-6)
        return -lam * q.mean() + (pi - data.actions).square().mean()

    def _normalize(self, obs):
        obs = np.asarray(obs, dtype=np.float32)
        shape = self.observation_space.shape
        if not self.normalize_observations or (obs.shape != shape and obs.shape[1:] != shape):
            return obs  # a wrong shape is reported by the policy's own check
        return self.obs_stats.normalize(obs).astype(np.float32)

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        """Action(s) for observations in the env's units (standardised here after fit).

        Parameters
        ----------
        observation : array-like of shape obs_shape or (n_env,) + obs_shape
            The observation(s).
        state : None
            Recurrent state (unused).
        episode_start : numpy.ndarray, default=None
            Unused.
        deterministic : bool, default=False
            Unused: the policy is deterministic.

        Returns
        -------
        actions : numpy.ndarray
            Actions in the env's bounds.
        state : None
            The recurrent state.
        """
        return super().predict(self._normalize(observation), state, episode_start,
                               deterministic)

    def learn(self, total_timesteps, callback=None, log_interval=4, tb_log_name="TD3BC",
              reset_num_timesteps=True, progress_bar=False):
        """Online TD3+BC (the same losses on the agent's own replay buffer).

        Parameters
        ----------
        total_timesteps : int
            Environment steps.
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s).
        log_interval : int, default=4
            Episodes between log dumps.
        tb_log_name : str, default="TD3BC"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : TD3BC
            The trained agent.
        """
        if self.normalize_observations and getattr(self, "_fitted_offline", False):
            raise ValueError(
                "Online fine-tuning after fit() with normalize_observations=True is not "
                "supported (the replay buffer would mix standardised and raw "
                "observations); construct the agent with normalize_observations=False.")
        return super().learn(total_timesteps, callback=callback, log_interval=log_interval,
                             tb_log_name=tb_log_name, reset_num_timesteps=reset_num_timesteps,
                             progress_bar=progress_bar)

    def fit(self, dataset, n_steps, eval_env=None, eval_freq=5_000, n_eval_episodes=10):
        """Learn from a fixed dataset, without interacting.

        Parameters
        ----------
        dataset : dict of array-like
            ``observations``, ``actions``, ``rewards``, ``next_observations``,
            ``terminals`` and optionally ``timeouts`` (see
            :func:`mlnotes.rl.offline.collect_dataset`).
        n_steps : int
            Gradient steps.
        eval_env : gymnasium.Env, default=None
            Evaluated every ``eval_freq`` gradient steps (``evaluate_policy``,
            deterministic); results in ``eval_history_``.
        eval_freq : int, default=5_000
            Gradient steps between evaluations.
        n_eval_episodes : int, default=10
            Episodes per evaluation.

        Returns
        -------
        self : TD3BC
            The trained agent.
        """
        check_scalar(n_steps, "n_steps", int, min_val=1)
        check_scalar(eval_freq, "eval_freq", int, min_val=1)
        data = check_dataset(dataset, self.observation_space, self.action_space)
        if self.normalize_observations:
            mean = data["observations"].mean(axis=0)
            std = data["observations"].std(axis=0) + 1e-3
            self.obs_stats.mean.copy_(torch.as_tensor(mean))
            self.obs_stats.std.copy_(torch.as_tensor(std))
            data["observations"] = self._normalize(data["observations"])
            data["next_observations"] = self._normalize(data["next_observations"])
        self.replay_buffer = ReplayBuffer(len(data["observations"]), self.observation_space,
                                          self.action_space, device=self.device, n_envs=1)
        fill_replay_buffer(self.replay_buffer, data, self.policy.scale_action)
        self._fitted_offline = True
        done = 0
        self.eval_history_ = []
        while done < n_steps:
            chunk = min(eval_freq, n_steps - done)
            self.train(chunk, self.batch_size)
            done += chunk
            if eval_env is not None:
                mean, std = evaluate_policy(self, eval_env, n_eval_episodes=n_eval_episodes,
                                            deterministic=True, warn=False)
                self.eval_history_.append((done, float(mean), float(std)))
        return self
