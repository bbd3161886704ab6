r"""Conservative Q-learning for discrete actions (Kumar, Zhou, Tucker and Levine, 2020).

DQN's Huber loss plus the CQL(H) penalty, which for a finite action set is exact (no
sampling): the log-sum-exp of the Q-values over all actions minus the Q-value of the
dataset's action,

.. math::

    L = \mathbb{E}_{(s,a) \sim \mathcal{D}}\Big[\ell_\delta\big(Q(s, a) - y\big)
    + \alpha \Big(\log \sum_{a'} e^{Q(s, a')} - Q(s, a)\Big)\Big],
    \qquad y = r + \gamma (1 - d) \max_{a'} \bar Q(s', a').

The penalty is a soft maximum minus the data's value: it pushes every action's value
down and the dataset's up, so the greedy policy stays on actions the data support.
"""

from numbers import Integral, Real

import torch
from sklearn.utils import check_scalar

from ..common.off_policy_algorithm import polyak_update
from ..value_based._dqn import DQN
from ._base import OfflineMixin, offline_doc

__all__ = ["DiscreteCQL"]


@offline_doc
class DiscreteCQL(OfflineMixin, DQN):
    r"""Conservative Q-learning for discrete actions: DQN with the CQL(H) penalty.

    Constructed like the other agents (``DiscreteCQL("MlpPolicy", env)``: the env gives
    the spaces; Discrete actions), it learns with ``fit(dataset, n_steps)`` from a fixed
    dataset; ``learn`` continues online with the same loss. The target network is copied
    every ``target_update_interval`` *gradient* steps (offline there are no env steps to
    count; DQN counts env steps). Defaults are d3rlpy's ``DiscreteCQL``'s. Chapters
    38-39 of the notes; see the user guide, "Offline RL".

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` (DQN's policy), ``"CnnPolicy"`` or ``"MultiInputPolicy"``.
    env : gymnasium.Env, VecEnv or str
        An environment with the dataset's spaces (Discrete actions).
    learning_rate : float or callable, default=6.25e-5
        Adam's step size.
    buffer_size : int, default=1_000_000
        Replay buffer size of online ``learn``.
    batch_size : int, default=32
        Minibatch size.
    gamma : float, default=0.99
        Discount factor.
    target_update_interval : int, default=8000
        Gradient steps between copies of the Q-network into the target network.
    cql_alpha : float, default=1.0
        Weight :math:`\alpha` of the conservative penalty (0: plain offline DQN).
    max_grad_norm : float, default=10
        Gradient clipping norm (DQN's).
    normalize_observations : bool, default=False
        Standardise observations by the dataset's statistics.
    policy_kwargs : dict, default=None
        DQN policy arguments.
    %(common_parameters)s

    Attributes
    ----------
    %(eval_history)s

    Examples
    --------
    >>> from mlnotes.rl import DiscreteCQL
    >>> from mlnotes.rl.offline import collect_dataset
    >>> data = collect_dataset("CartPole-v1", n_steps=300, seed=0)
    >>> agent = DiscreteCQL("MlpPolicy", "CartPole-v1", seed=0).fit(data, n_steps=20)
    >>> agent.predict(data["observations"][:3], deterministic=True)[0].shape
    (3,)
    """

    def __init__(self, policy, env, learning_rate=6.25e-5, buffer_size=1_000_000,
                 batch_size=32, gamma=0.99, target_update_interval=8000, cql_alpha=1.0,
                 max_grad_norm=10, normalize_observations=False, policy_kwargs=None,
                 verbose=0, seed=None, device="auto", _init_setup_model=True):
        check_scalar(cql_alpha, "cql_alpha", Real, min_val=0)
        check_scalar(target_update_interval, "target_update_interval", Integral, min_val=1)
        self.cql_alpha = float(cql_alpha)
        self.normalize_observations = bool(normalize_observations)
        self.eval_history_ = []
        super().__init__(policy, env, learning_rate=learning_rate, buffer_size=buffer_size,
                         learning_starts=0, batch_size=batch_size, tau=1.0, gamma=gamma,
                         target_update_interval=target_update_interval,
                         max_grad_norm=max_grad_norm, policy_kwargs=policy_kwargs,
                         verbose=verbose, seed=seed, device=device,
                         _init_setup_model=_init_setup_model)

    def _q_penalty(self, q_values, current):
        """The CQL(H) penalty :math:`\\alpha(\\log\\sum_{a'} e^{Q(s,a')} - Q(s,a))`.

        Parameters
        ----------
        q_values : torch.Tensor of shape (batch, n_actions)
            :math:`Q(s, \\cdot)`.
        current : torch.Tensor of shape (batch, 1)
            :math:`Q(s, a)` of the dataset's actions.

        Returns
        -------
        penalty : torch.Tensor or None
            A scalar (None when ``cql_alpha`` is 0).
        """
        if self.cql_alpha == 0:
            return None
        return self.cql_alpha * (torch.logsumexp(q_values, dim=1, keepdim=True)
                                 - current).mean()

    def _on_step(self):
        # the target network follows gradient steps (train), not env steps
        self._n_calls += 1
        self.exploration_rate = self.exploration_schedule(self._current_progress_remaining)
        self.logger.record("rollout/exploration_rate", self.exploration_rate)

    def train(self, gradient_steps, batch_size=100):
        """Gradient steps of DQN's loss plus the penalty; target copies in between.

        Parameters
        ----------
        gradient_steps : int
            Number of gradient steps.
        batch_size : int, default=100
            Minibatch size.
        """
        interval = self.target_update_interval
        left = int(gradient_steps)
        while left > 0:
            n = min(left, interval - self._n_updates % interval)
            super().train(n, batch_size)  # the target network is fixed within a phase
            left -= n
            if self._n_updates % interval == 0:
                polyak_update(self._q_params, self._target_params, 1.0)
                polyak_update(self._q_buffers, self._target_buffers, 1.0)
