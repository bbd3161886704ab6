"""What every offline agent shares: ``fit(dataset, n_steps)`` and observation statistics.

An offline agent is an off-policy agent (TD3, SAC) whose ``train(gradient_steps,
batch_size)`` is its loss; :class:`OfflineMixin` fills a replay buffer with the dataset
(standardising observations by the dataset's statistics if asked), runs ``train`` in
chunks and evaluates between chunks. The statistics are a module saved with the agent
and applied in ``predict``.
"""

import warnings
from numbers import Integral

import numpy as np
import torch
from sklearn.utils import check_scalar
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.utils import configure_logger

from ..common.continuous_policies import optimizer_step
from ..common.off_policy_algorithm import polyak_update
from ..common.replay_buffer import ReplayBuffer
from ._dataset import check_dataset, fill_replay_buffer

__all__ = []

#: numpydoc entries that every offline agent documents alike; :func:`offline_doc` puts
#: them in each class docstring, so the rendered documentation lists every parameter
_DOC_PARTS = {
    "common_parameters": """verbose : int, default=0
        Verbosity.
    seed : int, default=None
        Seed (global generators, as SB3).
    device : str, default="auto"
        Torch device.
    _init_setup_model : bool, default=True
        Build the networks at construction.""",
    "eval_history": """eval_history_ : list of tuple
        ``(gradient_steps, mean_return, std_return)`` of the evaluations during ``fit``.""",
}


def offline_doc(cls):
    """Class decorator: fill the ``%(common_parameters)s`` and ``%(eval_history)s``
    entries of an offline agent's docstring."""
    if cls.__doc__:  # None under python -OO
        cls.__doc__ = cls.__doc__ % _DOC_PARTS
    return cls


class ObservationStats(torch.nn.Module):
    """Mean and standard deviation of the dataset's observations (saved with the agent)."""

    def __init__(self, shape):
        super().__init__()
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("std", torch.ones(shape))

    def normalize(self, obs):
        return (obs - self.mean.cpu().numpy()) / self.std.cpu().numpy()


def _progress_bar(total):
    """SB3's progress bar (tqdm's rich bar) over ``total`` gradient steps."""
    try:
        from tqdm import TqdmExperimentalWarning
        from tqdm.rich import tqdm
    except ImportError as error:  # pragma: no cover - tqdm and rich are in the rl extra
        raise ImportError("fit(progress_bar=True) needs tqdm and rich: "
                          "pip install 'mlnotes[rl]'.") from error
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TqdmExperimentalWarning)
        return tqdm(total=total, unit="step", desc="gradient steps")


class OfflineMixin:
    """``fit(dataset, n_steps)`` for an off-policy agent whose ``train`` is its loss."""

    normalize_observations = False

    def _setup_model(self):
        # the agent's own networks, then the observation statistics (saved with them)
        super()._setup_model()
        self.obs_stats = ObservationStats(self.observation_space.shape)

    def _state_dict_names(self):
        return super()._state_dict_names() + ["obs_stats"]

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
            Take the most likely action.

        Returns
        -------
        actions : numpy.ndarray
            Actions in the env's bounds.
        state : None
            The recurrent state.
        """
        return super().predict(self._normalize(observation), state, episode_start,
                               deterministic)

    def _policy_actions(self, observation):
        return super()._policy_actions(self._normalize(observation))

    def learn(self, total_timesteps, callback=None, log_interval=4, tb_log_name=None,
              reset_num_timesteps=True, progress_bar=False):
        """Online training with the same losses on the agent's own replay buffer.

        Parameters
        ----------
        total_timesteps : int
            Environment steps.
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s).
        log_interval : int, default=4
            Episodes between log dumps.
        tb_log_name : str, default=None
            TensorBoard run name (the class name).
        reset_num_timesteps : bool, default=True
            Restart the step counter.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : object
            The trained agent.
        """
        if self.normalize_observations and getattr(self, "_fitted_offline", False):
            raise ValueError(
                "Online fine-tuning after fit() with normalize_observations=True is not "
                "supported (the replay buffer would mix standardised and raw "
                "observations); construct the agent with normalize_observations=False.")
        return super().learn(total_timesteps, callback=callback, log_interval=log_interval,
                             tb_log_name=tb_log_name or type(self).__name__,
                             reset_num_timesteps=reset_num_timesteps,
                             progress_bar=progress_bar)

    def _fit_buffer_size(self, n_transitions):
        """Replay buffer size for ``fit``: the dataset (an agent that fine-tunes online
        keeps room for its new transitions)."""
        return n_transitions

    def fit(self, dataset, n_steps, eval_env=None, eval_freq=5_000, n_eval_episodes=10,
            progress_bar=False):
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
            Gradient steps between evaluations; with ``verbose=1`` the logger prints
            its table (the last losses, the evaluation) as often, and writes it to
            ``tensorboard_log`` if set.
        n_eval_episodes : int, default=10
            Episodes per evaluation.
        progress_bar : bool, default=False
            Show a progress bar over the gradient steps (the one ``learn`` shows: tqdm
            and rich, in the ``rl`` extra). The steps are the same with or without it.

        Returns
        -------
        self : object
            The trained agent.
        """
        check_scalar(n_steps, "n_steps", Integral, min_val=1)
        check_scalar(eval_freq, "eval_freq", Integral, min_val=1)
        data = check_dataset(dataset, self.observation_space, self.action_space)
        if self.normalize_observations:
            mean = data["observations"].mean(axis=0)
            std = data["observations"].std(axis=0) + 1e-3
            self.obs_stats.mean.copy_(torch.as_tensor(mean))
            self.obs_stats.std.copy_(torch.as_tensor(std))
            data["observations"] = self._normalize(data["observations"])
            data["next_observations"] = self._normalize(data["next_observations"])
        self.replay_buffer = ReplayBuffer(self._fit_buffer_size(len(data["observations"])),
                                          self.observation_space, self.action_space,
                                          device=self.device, n_envs=1)
        box = hasattr(self.action_space, "low")  # Box actions are stored in [-1, 1]
        fill_replay_buffer(self.replay_buffer, data,
                           self.policy.scale_action if box else None)
        self._fitted_offline = True
        if not self._custom_logger:  # as learn(): a table every eval_freq steps if verbose
            self._logger = configure_logger(self.verbose, self.tensorboard_log,
                                            type(self).__name__, True)
        self.eval_history_ = []
        n_steps, eval_freq = int(n_steps), int(eval_freq)
        # with a bar, train in about a hundred pieces; ``train`` keeps its state (update
        # counter, optimisers) between calls, so the steps are the same either way
        piece = max(1, n_steps // 100) if progress_bar else n_steps
        bar = _progress_bar(n_steps) if progress_bar else None
        done, next_eval = 0, eval_freq
        try:
            while done < n_steps:
                chunk = min(piece, n_steps - done, next_eval - done)
                self.train(chunk, self.batch_size)
                done += chunk
                if bar is not None:
                    bar.update(chunk)
                if done == next_eval or done == n_steps:
                    next_eval += eval_freq
                    self._checkpoint(done, eval_env, n_eval_episodes)
        finally:
            if bar is not None:
                bar.close()
        return self

    def _checkpoint(self, done, eval_env, n_eval_episodes):
        """Every ``eval_freq`` steps of ``fit``: evaluate (if asked) and dump the logger."""
        if eval_env is not None:
            mean, std = evaluate_policy(self, eval_env, n_eval_episodes=n_eval_episodes,
                                        deterministic=True, warn=False)
            self.eval_history_.append((done, float(mean), float(std)))
            self.logger.record("eval/mean_reward", float(mean))
            self.logger.record("eval/std_reward", float(std))
        self.logger.record("time/gradient_steps", done)
        self.logger.dump(step=done)


class LossListMixin:
    """``train`` for an agent whose gradient step is a list of (loss, optimiser) pairs.

    A subclass defines ``losses(data)`` returning or yielding its losses in update order
    and ``_loss_names`` / ``_loss_optimizers()`` naming them and the optimiser each one
    steps (IQL: value, critics, actor; AWAC: critics, actor). Each gradient step takes
    one minibatch and steps each optimiser on its loss as soon as the loss is produced,
    then moves the target critics by Polyak averaging. So a ``losses`` that yields lets a
    later loss see the networks an earlier step changed (IQL's critics and actor use the
    stepped value network, as in the paper's code); one that returns a tuple computes
    every loss before any step (AWAC).
    """

    _loss_names = ()

    def _loss_optimizers(self):
        raise NotImplementedError  # pragma: no cover - abstract hook

    def train(self, gradient_steps, batch_size=256):
        """``gradient_steps`` updates: every loss of :meth:`losses`, then the targets.

        Parameters
        ----------
        gradient_steps : int
            Number of gradient steps.
        batch_size : int, default=256
            Minibatch size.
        """
        self.policy.set_training_mode(True)
        optimizers = self._loss_optimizers()
        self._update_learning_rate(optimizers)
        critic_params = list(self.critic.parameters())
        target_params = list(self.critic_target.parameters())
        logs = []
        for _ in range(gradient_steps):
            self._n_updates += 1
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
            losses = []
            for name, loss, opt in zip(self._loss_names, self.losses(data), optimizers):
                self._check_finite_loss(loss, name)
                opt.zero_grad()
                loss.backward()
                optimizer_step(opt)
                losses.append(loss.detach())
            polyak_update(critic_params, target_params, self.tau)
            logs.append(torch.stack(losses))
        if logs:
            means = torch.stack(logs).mean(dim=0).tolist()
            for key, value in zip(self._loss_names, means):
                self.logger.record(f"train/{key}", value)
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
