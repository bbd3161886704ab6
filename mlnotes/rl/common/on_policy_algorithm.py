"""The on-policy loop: collect ``n_steps`` from every env, then one ``train()`` call.

An on-policy algorithm file subclasses :class:`OnPolicyAlgorithm` and writes only its
``train()`` (the loss) and its extra hyperparameters; optional hooks:
``_default_policy_kwargs()`` (e.g. A2C's RMSprop), ``_make_rollout_buffer()``.
"""

from abc import abstractmethod

import numpy as np
import torch
from gymnasium import spaces

from ...utils._validation import check_int, check_real
from .base_class import BaseAlgorithm
from .buffers import DictRolloutBuffer, RolloutBuffer
from .policies import ActorCriticCnnPolicy, ActorCriticPolicy, MultiInputActorCriticPolicy
from .schedules import get_schedule_fn


class OnPolicyAlgorithm(BaseAlgorithm):
    """Base class of the on-policy agents (A2C, REINFORCE, NPG, PPO-style methods).

    Parameters
    ----------
    policy : str or type
        Policy class or ``"MlpPolicy"``.
    env : gymnasium.Env, VecEnv or str
        The environment.
    learning_rate : float or callable
        Learning rate or schedule of the remaining progress.
    n_steps : int
        Steps collected from each environment per update.
    gamma : float
        Discount factor.
    gae_lambda : float
        GAE parameter (1: Monte-Carlo returns bootstrapped at the rollout end).
    ent_coef : float
        Entropy bonus coefficient.
    vf_coef : float
        Value-loss coefficient.
    max_grad_norm : float or None
        Gradient clipping norm (``None``: no clipping).
    use_sde : bool, default=False
        Generalised state-dependent exploration (gSDE, Box actions): passed to the
        policy; the noise weights are redrawn at every rollout start and, when
        ``sde_sample_freq > 0``, every ``sde_sample_freq`` steps.
    sde_sample_freq : int, default=-1
        Steps between two gSDE noise draws (-1: only at the rollout start).
    rollout_buffer_class : type, default=None
        Rollout storage: :class:`~mlnotes.rl.common.RolloutBuffer` (or
        :class:`~mlnotes.rl.common.DictRolloutBuffer` for Dict observations) when
        ``None``, else a subclass of it.
    rollout_buffer_kwargs : dict, default=None
        Extra arguments of the rollout storage.
    policy_kwargs : dict, default=None
        Extra policy arguments.
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    monitor_wrapper : bool, default=True
        Wrap a single env in SB3's ``Monitor``.
    verbose : int, default=0
        Verbosity.
    seed : int, default=None
        Seed.
    device : str or torch.device, default="auto"
        Device.

    Attributes
    ----------
    rollout_buffer : RolloutBuffer
        Storage of the current rollout.
    """

    policy_aliases = {"MlpPolicy": ActorCriticPolicy, "CnnPolicy": ActorCriticCnnPolicy,
                      "MultiInputPolicy": MultiInputActorCriticPolicy}

    def __init__(self, policy, env, learning_rate, n_steps, gamma, gae_lambda, ent_coef,
                 vf_coef, max_grad_norm, use_sde=False, sde_sample_freq=-1,
                 rollout_buffer_class=None, rollout_buffer_kwargs=None, policy_kwargs=None,
                 stats_window_size=100, tensorboard_log=None, monitor_wrapper=True, verbose=0,
                 seed=None, device="auto"):
        super().__init__(policy, env, learning_rate, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
                         verbose=verbose, device=device, monitor_wrapper=monitor_wrapper,
                         seed=seed)
        check_int(n_steps, "n_steps", 1)
        check_real(gamma, "gamma", 0, 1)
        check_real(gae_lambda, "gae_lambda", 0, 1)
        check_real(ent_coef, "ent_coef", 0)
        check_real(vf_coef, "vf_coef", 0)
        if max_grad_norm is not None:
            check_real(max_grad_norm, "max_grad_norm", 0, low_open=True)
        self.n_steps, self.gamma, self.gae_lambda = int(n_steps), float(gamma), float(gae_lambda)
        self.ent_coef, self.vf_coef = float(ent_coef), float(vf_coef)
        self.max_grad_norm = None if max_grad_norm is None else float(max_grad_norm)
        if isinstance(sde_sample_freq, bool) or not isinstance(sde_sample_freq, (int, np.integer)):
            raise ValueError(f"sde_sample_freq must be an int, got {sde_sample_freq!r}.")
        self.use_sde = bool(use_sde)
        self.sde_sample_freq = int(sde_sample_freq)
        if self.use_sde and self.action_space is not None \
                and not isinstance(self.action_space, spaces.Box):
            raise ValueError(
                "generalized State-Dependent Exploration (gSDE) can only be used with "
                f"continuous (Box) actions, not {self.action_space}.")
        if rollout_buffer_class is not None and not (
                isinstance(rollout_buffer_class, type)
                and issubclass(rollout_buffer_class, RolloutBuffer)):
            raise TypeError("rollout_buffer_class must be None or a subclass of "
                            f"mlnotes.rl.common.RolloutBuffer, got {rollout_buffer_class!r}.")
        if rollout_buffer_kwargs is not None and not isinstance(rollout_buffer_kwargs, dict):
            raise TypeError("rollout_buffer_kwargs must be a dict or None.")
        self.rollout_buffer_class = rollout_buffer_class
        self.rollout_buffer_kwargs = dict(rollout_buffer_kwargs or {})
        self.rollout_buffer = None

    # ------------------------------------------------------------------ hooks

    def _default_policy_kwargs(self):
        """Policy arguments the algorithm sets unless the user gave them."""
        return {}

    def _make_rollout_buffer(self):
        """Build the rollout storage (override for another buffer)."""
        buffer_class = getattr(self, "rollout_buffer_class", None)
        if buffer_class is None:
            buffer_class = (DictRolloutBuffer
                            if isinstance(self.observation_space, spaces.Dict)
                            else RolloutBuffer)
        return buffer_class(self.n_steps, self.observation_space, self.action_space,
                            device=self.device, gamma=self.gamma,
                            gae_lambda=self.gae_lambda, n_envs=self.n_envs,
                            **getattr(self, "rollout_buffer_kwargs", {}))

    def _setup_model(self):
        self.lr_schedule = get_schedule_fn(self.learning_rate)
        self.set_random_seed(self.seed)
        kwargs = dict(self._default_policy_kwargs(), **self.policy_kwargs)
        if getattr(self, "use_sde", False):
            kwargs["use_sde"] = True  # as SB3 (policies without gSDE need not take it)
        self.policy = self.policy_class(self.observation_space, self.action_space,
                                        self.lr_schedule, **kwargs).to(self.device)
        self.rollout_buffer = self._make_rollout_buffer()

    @abstractmethod
    def train(self):
        """One update from the rollout in ``self.rollout_buffer`` (the algorithm's loss)."""

    # ------------------------------------------------------------------ rollout loop

    def collect_rollouts(self, env, callback, rollout_buffer, n_rollout_steps):
        """Fill ``rollout_buffer`` with ``n_rollout_steps`` steps of every environment.

        Parameters
        ----------
        env : VecEnv
            The training environment.
        callback : stable_baselines3.common.callbacks.BaseCallback
            Called at every step (with ``locals`` updated) and around the rollout.
        rollout_buffer : RolloutBuffer
            The storage.
        n_rollout_steps : int
            Steps per environment.

        Returns
        -------
        continue_training : bool
            ``False`` when a callback asked to stop.
        """
        policy = self.policy
        policy.set_training_mode(False)
        rollout_buffer.reset()
        use_sde = getattr(self, "use_sde", False)
        sde_sample_freq = getattr(self, "sde_sample_freq", -1)
        if use_sde:
            policy.reset_noise(env.num_envs)
        callback.on_rollout_start()
        box = isinstance(self.action_space, spaces.Box)
        squash = box and getattr(policy, "squash_output", False)
        if box:
            low, high = self.action_space.low, self.action_space.high
        device, gamma = self.device, self.gamma
        n_steps = 0
        while n_steps < n_rollout_steps:
            if use_sde and sde_sample_freq > 0 and n_steps % sde_sample_freq == 0:
                policy.reset_noise(env.num_envs)  # a new exploration matrix
            with torch.inference_mode():
                obs_tensor = _obs_tensor(self._last_obs, device)
                actions_t, values, log_probs = policy(obs_tensor)
            actions = actions_t.cpu().numpy()
            if squash:  # tanh-squashed gSDE actions: [-1, 1] -> bounds
                clipped_actions = policy.unscale_action(actions)
            else:
                clipped_actions = np.clip(actions, low, high) if box else actions
            new_obs, rewards, dones, infos = env.step(clipped_actions)
            self.num_timesteps += env.num_envs
            callback.update_locals(locals())
            if not callback.on_step():
                return False
            self._update_info_buffer(infos, dones)
            n_steps += 1
            if dones.any():
                self._episode_num += int(dones.sum())
                rewards = self._bootstrap_truncated(rewards, dones, infos)
            rollout_buffer.add(self._last_obs, actions, rewards, dones,
                               values.cpu().numpy(), log_probs.cpu().numpy())
            self._last_obs = new_obs
            self._last_episode_starts = dones
        with torch.inference_mode():
            values = policy.predict_values(_obs_tensor(new_obs, device))
        rollout_buffer.compute_returns_and_advantage(last_values=values.cpu().numpy(),
                                                     dones=dones)
        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    def _bootstrap_truncated(self, rewards, dones, infos):
        """Add ``gamma * V(terminal observation)`` to the rewards of time-limit ends."""
        idx = [i for i in np.flatnonzero(dones)
               if infos[i].get("TimeLimit.truncated", False)
               and infos[i].get("terminal_observation") is not None]
        if not idx:
            return rewards
        if isinstance(self.observation_space, spaces.Dict):
            terminal = {k: np.stack([np.asarray(infos[i]["terminal_observation"][k])
                                     for i in idx]) for k in self.observation_space.spaces}
        else:
            terminal = np.stack([np.asarray(infos[i]["terminal_observation"]) for i in idx])
        with torch.inference_mode():
            v = self.policy.predict_values(_obs_tensor(terminal, self.device))
        rewards = np.array(rewards, dtype=np.float32)
        rewards[idx] += self.gamma * v.cpu().numpy()
        return rewards

    def learn(self, total_timesteps, callback=None, log_interval=1,
              tb_log_name="OnPolicyAlgorithm", reset_num_timesteps=True, progress_bar=False):
        """Alternate rollouts and updates until ``total_timesteps`` steps were taken.

        Parameters
        ----------
        total_timesteps : int
            Environment steps (summed over the environments).
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s); one whose ``on_step`` returns ``False`` stops training.
        log_interval : int, default=1
            Iterations between log dumps (``None``: never).
        tb_log_name : str, default="OnPolicyAlgorithm"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : OnPolicyAlgorithm
            The trained agent.
        """
        iteration = 0
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        if self.rollout_buffer.n_envs != self.env.num_envs:
            self.rollout_buffer = self._make_rollout_buffer()
        callback.on_training_start(locals(), globals())
        while self.num_timesteps < total_timesteps:
            if not self.collect_rollouts(self.env, callback, self.rollout_buffer, self.n_steps):
                break
            iteration += 1
            self._update_current_progress_remaining(self.num_timesteps, total_timesteps)
            if log_interval is not None and iteration % log_interval == 0:
                self.dump_logs(iteration)
            self.train()
        callback.on_training_end()
        return self

    def _check_finite_loss(self, loss):
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"{type(self).__name__} training diverged: the loss is {loss.item()} at "
                f"update {self._n_updates} ({self.num_timesteps} steps). Lower the "
                "learning rate or check the environment's rewards and observations."
            )


def _obs_tensor(obs, device):
    if isinstance(obs, dict):
        return {k: torch.as_tensor(v, device=device) for k, v in obs.items()}
    return torch.as_tensor(obs, device=device)


