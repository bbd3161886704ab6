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

from numbers import Real

from sklearn.utils import check_scalar

from ..actor_critic._td3 import TD3
from ._base import OfflineMixin, offline_doc

__all__ = ["TD3BC"]


@offline_doc
class TD3BC(OfflineMixin, TD3):
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
    %(common_parameters)s

    Attributes
    ----------
    %(eval_history)s

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

    def _actor_loss(self, data):
        pi = self.actor(data.observations)
        q = self.critic.q1_forward(data.observations, pi)
        lam = self.alpha / q.abs().mean().detach().clamp_min(1e-6)
        return -lam * q.mean() + (pi - data.actions).square().mean()
