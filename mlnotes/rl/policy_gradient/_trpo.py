r"""Trust region policy optimisation (TRPO), chapter 32."""

import math

import numpy as np
import torch
from gymnasium import spaces
from torch.nn import functional as F

from ..common._natural import (
    conjugate_gradient,
    fisher_vector_product,
    flat_grad,
    get_flat_params,
    natural_step_size,
    set_flat_params,
)
from ..common._optim import explained_variance
from ...utils._validation import check_int, check_real
from ..common.on_policy_algorithm import OnPolicyAlgorithm
from ._ppo import _SB3OnPolicyMixin, _base_extras, _take


def mean_kl(policy, obs, old_params):
    r"""Mean :math:`KL(\pi_{old}(\cdot \mid s) \,\|\, \pi_\theta(\cdot \mid s))` over ``obs``.

    ``old_params`` is ``policy.action_params(obs)`` of the old policy, detached;
    the result is a function of the policy's current parameters.
    """
    new, log_std = policy.action_params(obs)
    old, old_log_std = old_params
    if isinstance(policy.action_space, spaces.Discrete):
        old_logp, logp = torch.log_softmax(old, -1), torch.log_softmax(new, -1)
        return (old_logp.exp() * (old_logp - logp)).sum(-1).mean()
    var_old, var = torch.exp(2 * old_log_std), torch.exp(2 * log_std)
    kl = log_std - old_log_std + (var_old + (old - new).square()) / (2 * var) - 0.5
    return kl.sum(-1).mean()


def _log_prob(policy, obs, actions):
    params, log_std = policy.action_params(obs)
    return policy.distribution.log_prob_entropy(params, log_std, actions)[0]


def backtracking_line_search(evaluate, theta_old, step, objective_old, max_kl,
                             shrinking_factor=0.8, max_iter=10):
    r"""Largest step :math:`\theta_{old} + \alpha^k \Delta` meeting TRPO's two conditions.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(theta)`` returns ``(objective, kl)`` (floats) of the policy with
        the flat parameters ``theta``.
    theta_old : torch.Tensor of shape (P,)
        Current parameters.
    step : torch.Tensor of shape (P,)
        Full step :math:`\Delta` (the natural direction scaled to the KL radius).
    objective_old : float
        Surrogate objective at ``theta_old``.
    max_kl : float
        KL radius :math:`\delta`.
    shrinking_factor : float, default=0.8
        :math:`\alpha`, the factor of each backtracking step.
    max_iter : int, default=10
        Number of candidates :math:`k = 0, \ldots, \text{max\_iter} - 1`.

    Returns
    -------
    theta : torch.Tensor of shape (P,)
        The first candidate whose KL is below ``max_kl`` and whose objective exceeds
        ``objective_old``, or ``theta_old`` when none does.
    accepted : bool
        Whether a candidate was accepted.
    objective : float
        Objective at ``theta`` (``objective_old`` when rejected).
    kl : float
        KL at ``theta`` (0 when rejected).
    """
    coef = 1.0
    for _ in range(max_iter):
        theta = theta_old + coef * step
        objective, kl = evaluate(theta)
        if kl < max_kl and objective > objective_old:
            return theta, True, objective, kl
        coef *= shrinking_factor
    return theta_old, False, objective_old, 0.0


class TRPO(_SB3OnPolicyMixin, OnPolicyAlgorithm):
    r"""Trust region policy optimisation, sb3-contrib's surface.

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` or a policy class
        (:class:`~mlnotes.rl.common.ActorCriticPolicy` or a subclass); the same
        ``policy_aliases`` as :class:`~mlnotes.rl.A2C`.
    env : gymnasium.Env, stable_baselines3.common.vec_env.VecEnv or str
        The environment (an id string is made with ``gymnasium.make``). Box or
        Discrete observations, Box or Discrete actions.
    learning_rate : float or callable, default=1e-3
        Adam's learning rate of the critic (the actor moves by the trust-region step),
        or a schedule of the remaining progress.
    n_steps : int, default=2048
        Steps collected from each environment per update.
    batch_size : int, default=128
        Minibatch size of the critic's epochs.
    gamma : float, default=0.99
        Discount factor.
    cg_max_steps : int, default=15
        Conjugate-gradient iterations for the natural direction.
    cg_damping : float, default=0.1
        Damping :math:`\lambda` added to the Fisher matrix (:math:`F + \lambda I`).
    line_search_shrinking_factor : float, default=0.8
        Factor :math:`\alpha` of each backtracking step.
    line_search_max_iter : int, default=10
        Candidates of the backtracking line search.
    n_critic_updates : int, default=10
        Epochs of Adam on the critic's squared error per update.
    gae_lambda : float, default=0.95
        GAE parameter of the advantages.
    use_sde : bool, default=False
        Accepted for sb3-contrib compatibility; ``True`` raises ``ValueError`` (the
        KL of the trust region is written for categorical and state-independent
        Gaussian policies, not for gSDE's state-dependent noise).
    sde_sample_freq : int, default=-1
        Steps between gSDE noise resamples (unused without gSDE).
    rollout_buffer_class : type, default=None
        Rollout storage class (``None``: :class:`~mlnotes.rl.common.RolloutBuffer`).
    rollout_buffer_kwargs : dict, default=None
        Extra arguments of the rollout buffer.
    normalize_advantage : bool, default=True
        Standardise the advantages of each update.
    target_kl : float, default=0.01
        KL radius :math:`\delta` of the trust region.
    sub_sampling_factor : int, default=1
        Use every ``sub_sampling_factor``-th step of the rollout for the actor's
        gradient, Fisher products and line search (faster; the critic uses all).
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    policy_kwargs : dict, default=None
        Policy arguments: ``net_arch``, ``activation_fn``, ``ortho_init``,
        ``log_std_init``, ``optimizer_class``, ``optimizer_kwargs`` (the optimiser
        trains the critic only).
    verbose : int, default=0
        0 silent, 1 training information.
    seed : int, default=None
        Seed (python, numpy, torch, action space, environment), as SB3.
    device : str or torch.device, default="auto"
        Device of the networks.
    _init_setup_model : bool, default=True
        Build the networks now (``load`` builds them after setting the spaces).

    Attributes
    ----------
    policy : ActorCriticPolicy
        Actor and critic.
    env : stable_baselines3.common.vec_env.VecEnv
        The training environment.
    num_timesteps : int
        Environment steps taken.
    rollout_buffer : RolloutBuffer
        Storage of the last rollout.

    Notes
    -----
    Chapter 32 of the notes. TRPO maximises the importance-weighted surrogate of the
    policy's improvement inside a trust region of the mean KL divergence,

    .. math::

        \max_\theta \; L(\theta) = \frac1N \sum_i
        \frac{\pi_\theta(a_i \mid s_i)}{\pi_{\theta_{old}}(a_i \mid s_i)} \hat A_i
        \quad \text{s.t.} \quad
        \bar D(\theta) = \frac1N \sum_i KL\big(\pi_{\theta_{old}}(\cdot \mid s_i)
        \,\|\, \pi_\theta(\cdot \mid s_i)\big) \le \delta,

    with GAE advantages :math:`\hat A_i` (standardised). Linearising :math:`L` and
    taking the quadratic model :math:`\bar D \approx \tfrac12 \Delta^\top F \Delta`
    (:math:`F` the Fisher information, the Hessian of :math:`\bar D` at
    :math:`\theta_{old}`) gives the natural gradient step of chapter 28,
    :math:`\Delta = \beta x` with :math:`x \approx (F + \lambda I)^{-1} g`
    (``cg_max_steps`` conjugate-gradient iterations on Fisher-vector products by
    double backpropagation, :mod:`mlnotes.rl.common._natural`) and
    :math:`\beta = \sqrt{2\delta / x^\top (F + \lambda I) x}`. As the quadratic model
    is only an approximation, a backtracking line search tries
    :math:`\theta_{old} + \alpha^k \Delta` for :math:`k = 0, 1, \ldots`
    (``line_search_shrinking_factor`` :math:`\alpha`, ``line_search_max_iter``
    candidates) and keeps the first one whose exact mean KL is below :math:`\delta`
    and whose surrogate improves on :math:`L(\theta_{old})`; if none does, the actor
    is left unchanged. The critic is then fitted to the :math:`\lambda`-returns by
    ``n_critic_updates`` epochs of Adam minibatches of ``batch_size`` (value
    parameters only). Logged keys are sb3-contrib's: ``train/policy_objective``,
    ``kl_divergence_loss``, ``is_line_search_success``, ``value_loss``,
    ``explained_variance``.

    Every default is sb3-contrib's TRPO's. Differences of detail: the KL is
    :math:`KL(\pi_{old} \| \pi_\theta)` as in the paper (sb3-contrib measures
    :math:`KL(\pi_\theta \| \pi_{old})`; both have the same Hessian at
    :math:`\theta_{old}`), and conjugate gradient starts from 0 (sb3-contrib from a
    small random vector).

    References
    ----------
    .. [1] J. Schulman, S. Levine, P. Moritz, M. Jordan and P. Abbeel, "Trust region
       policy optimization", ICML 2015.

    Examples
    --------
    >>> from mlnotes.rl import TRPO
    >>> agent = TRPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, seed=0)
    >>> agent = agent.learn(128)
    >>> action, _ = agent.predict(agent.env.reset(), deterministic=True)
    >>> action.shape
    (1,)
    """

    def __init__(self, policy, env, learning_rate=1e-3, n_steps=2048, batch_size=128,
                 gamma=0.99, cg_max_steps=15, cg_damping=0.1,
                 line_search_shrinking_factor=0.8, line_search_max_iter=10,
                 n_critic_updates=10, gae_lambda=0.95, use_sde=False, sde_sample_freq=-1,
                 rollout_buffer_class=None, rollout_buffer_kwargs=None,
                 normalize_advantage=True, target_kl=0.01, sub_sampling_factor=1,
                 stats_window_size=100, tensorboard_log=None, policy_kwargs=None,
                 verbose=0, seed=None, device="auto", _init_setup_model=True):
        if use_sde:
            raise ValueError(
                "TRPO(use_sde=True) is not supported: the trust region's KL is written for "
                "categorical and state-independent Gaussian policies; use use_sde=False."
            )
        passed, local = _base_extras(use_sde, sde_sample_freq, rollout_buffer_class,
                                     rollout_buffer_kwargs)
        super().__init__(policy, env, learning_rate=learning_rate, n_steps=n_steps,
                         gamma=gamma, gae_lambda=gae_lambda, ent_coef=0.0, vf_coef=0.0,
                         max_grad_norm=None, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, verbose=verbose, seed=seed,
                         device=device, **passed)
        self._init_extras(local)
        self.normalize_advantage = bool(normalize_advantage)
        self._check_batch_size(batch_size, False)
        check_int(cg_max_steps, "cg_max_steps", 1)
        check_real(cg_damping, "cg_damping", 0)
        check_real(line_search_shrinking_factor, "line_search_shrinking_factor", 0, 1,
                   low_open=True, high_open=True)
        check_int(line_search_max_iter, "line_search_max_iter", 1)
        check_int(n_critic_updates, "n_critic_updates", 0)
        check_real(target_kl, "target_kl", 0, low_open=True)
        check_int(sub_sampling_factor, "sub_sampling_factor", 1)
        self.batch_size = int(batch_size)
        self.cg_max_steps, self.cg_damping = int(cg_max_steps), float(cg_damping)
        self.line_search_shrinking_factor = float(line_search_shrinking_factor)
        self.line_search_max_iter = int(line_search_max_iter)
        self.n_critic_updates = int(n_critic_updates)
        self.target_kl = float(target_kl)
        self.sub_sampling_factor = int(sub_sampling_factor)
        if _init_setup_model:
            self._setup_model()

    def learn(self, total_timesteps, callback=None, log_interval=1, tb_log_name="TRPO",
              reset_num_timesteps=True, progress_bar=False):
        """Train for ``total_timesteps`` environment steps (sb3-contrib's ``TRPO.learn``).

        Parameters
        ----------
        total_timesteps : int
            Environment steps (summed over the environments).
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s); one whose ``on_step`` returns ``False`` stops training.
        log_interval : int, default=1
            Rollouts between log dumps (``None``: never).
        tb_log_name : str, default="TRPO"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : TRPO
            The trained agent.
        """
        return super().learn(total_timesteps, callback=callback, log_interval=log_interval,
                             tb_log_name=tb_log_name, reset_num_timesteps=reset_num_timesteps,
                             progress_bar=progress_bar)

    def actor_parameters(self):
        """Parameters the action distribution depends on (all but the critic's).

        Returns
        -------
        params : list of torch.nn.Parameter
            Shared layers, actor layers, action head and ``log_std``.
        """
        return [p for name, p in self.policy.named_parameters()
                if not name.startswith("value_net")]

    def train(self):
        """One trust-region step of the actor, then the critic's regression."""
        policy = self.policy
        policy.set_training_mode(True)
        self._update_learning_rate(policy.optimizer)
        rollout = next(self.rollout_buffer.get(batch_size=None))
        sub = slice(None, None, self.sub_sampling_factor)
        obs, actions = _take(rollout.observations, sub), rollout.actions[sub]
        old_log_prob, advantages = rollout.old_log_prob[sub], rollout.advantages[sub]
        if self.normalize_advantage and len(advantages) > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        params = self.actor_parameters()
        with torch.no_grad():
            old = tuple(None if t is None else t.detach().clone()
                        for t in policy.action_params(obs))

        # surrogate L = mean(ratio * A), its gradient g and the natural direction x
        ratio = torch.exp(_log_prob(policy, obs, actions) - old_log_prob)
        objective = (advantages * ratio).mean()
        g = flat_grad(objective, params)
        fvp = fisher_vector_product(lambda: mean_kl(policy, obs, old), params,
                                    damping=self.cg_damping)
        x = conjugate_gradient(fvp, g, n_iters=self.cg_max_steps)
        beta = natural_step_size(x, fvp(x), self.target_kl)
        if not (torch.isfinite(g).all() and torch.isfinite(x).all()
                and math.isfinite(beta)):
            self._check_finite_loss(torch.tensor(float("nan")))

        # backtracking line search on the exact KL and surrogate
        def evaluate(theta):
            set_flat_params(params, theta)
            with torch.no_grad():
                new_ratio = torch.exp(_log_prob(policy, obs, actions) - old_log_prob)
                return ((advantages * new_ratio).mean().item(),
                        mean_kl(policy, obs, old).item())

        theta, accepted, new_objective, kl = backtracking_line_search(
            evaluate, get_flat_params(params), beta * x, objective.item(), self.target_kl,
            self.line_search_shrinking_factor, self.line_search_max_iter)
        set_flat_params(params, theta)

        # critic: Adam minibatches on (R - V)^2, value parameters only
        value_losses = []
        total, observations, returns = len(rollout.returns), rollout.observations, \
            rollout.returns
        for _ in range(self.n_critic_updates):
            perm = torch.as_tensor(np.random.permutation(total), device=self.device)
            shuffled_obs, shuffled_returns = _take(observations, perm), returns[perm]
            for start in range(0, total, self.batch_size):
                batch = slice(start, start + self.batch_size)
                value_loss = F.mse_loss(policy.predict_values(_take(shuffled_obs, batch)),
                                        shuffled_returns[batch])
                self._check_finite_loss(value_loss)
                policy.optimizer.zero_grad(set_to_none=True)
                value_loss.backward()
                for p in params:  # a shared trunk is moved by the actor step only
                    p.grad = None
                policy.optimizer.step()
                value_losses.append(value_loss.detach())
        self._n_updates += 1
        buf = self.rollout_buffer
        record = self.logger.record
        record("train/policy_objective", new_objective)
        if value_losses:
            record("train/value_loss", torch.stack(value_losses).mean().item())
        record("train/kl_divergence_loss", kl)
        record("train/explained_variance",
               explained_variance(buf.values[:buf.pos].ravel(), buf.returns[:buf.pos].ravel()))
        record("train/is_line_search_success", float(accepted))
        record("train/step_size", beta)
        if policy.log_std is not None:
            record("train/std", torch.exp(policy.log_std).mean().item())
        record("train/n_updates", self._n_updates, exclude="tensorboard")
