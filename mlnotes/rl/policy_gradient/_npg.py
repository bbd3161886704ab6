r"""Natural policy gradient (NPG), chapter 28."""

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
from ...utils._validation import check_int, check_real
from ..common.on_policy_algorithm import OnPolicyAlgorithm


class NPG(OnPolicyAlgorithm):
    r"""Natural policy gradient with a KL radius, conjugate gradient and a critic baseline.

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` or a policy class
        (:class:`~mlnotes.rl.common.ActorCriticPolicy` or a subclass).
    env : gymnasium.Env, stable_baselines3.common.vec_env.VecEnv or str
        The environment (an id string is made with ``gymnasium.make``). Box or
        Discrete observations, Box or Discrete actions.
    learning_rate : float or callable, default=1e-3
        Adam's learning rate of the critic (the actor moves by the natural step, not
        by the optimiser), or a schedule of the remaining progress.
    n_steps : int, default=1024
        Steps collected from each environment per update.
    gamma : float, default=0.99
        Discount factor.
    gae_lambda : float, default=0.95
        GAE parameter of the advantages (1: Monte-Carlo returns bootstrapped with the
        critic at the batch end; episodes cut by a time limit are bootstrapped too).
    target_kl : float, default=0.05
        KL radius :math:`\delta` of one update: the step is scaled so that the
        second-order estimate of the mean KL between the old and the new policy is
        :math:`\delta`.
    cg_iters : int, default=10
        Conjugate-gradient iterations.
    cg_damping : float, default=0.1
        Damping :math:`\lambda` added to the Fisher matrix (:math:`F + \lambda I`).
    n_critic_updates : int, default=10
        Epochs of Adam on the critic's squared error per batch (the critic is the
        baseline of the next batch).
    critic_batch_size : int, default=64
        Minibatch size of the critic's epochs.
    normalize_advantage : bool, default=True
        Standardise the advantages of each batch.
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    policy_kwargs : dict, default=None
        Policy arguments (``net_arch``, ``activation_fn``, ``ortho_init``,
        ``log_std_init``, ``optimizer_class``, ``optimizer_kwargs``; the optimiser
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
        Storage of the last batch.

    Notes
    -----
    Chapter 28 of the notes. The vanilla gradient is the steepest ascent direction in
    parameter space; the natural gradient is the steepest ascent direction under a
    constraint on the change of the *policy*,

    .. math::

        \max_{\Delta} \; g^\top \Delta \quad \text{s.t.} \quad
        \bar D_{KL}(\pi_\theta \,\|\, \pi_{\theta + \Delta}) \approx
        \tfrac12 \Delta^\top F \Delta \le \delta,

    with :math:`g = \frac1N \sum_i \nabla_\theta \log \pi_\theta(a_i \mid s_i)
    \hat A_i` (GAE advantages, critic baseline) and :math:`F =
    E[\nabla \log \pi \, \nabla \log \pi^\top]` the Fisher information, the Hessian
    of the mean KL at :math:`\theta`. The Lagrangian gives :math:`\Delta = \beta
    F^{-1} g`; conjugate gradient computes :math:`x \approx F^{-1} g` from
    Fisher-vector products (double backpropagation of the mean KL,
    :func:`mlnotes.rl.common._natural.fisher_vector_product`), and the constraint
    fixes

    .. math::

        \beta = \sqrt{\frac{2 \delta}{x^\top F x}}, \qquad
        \theta \leftarrow \theta + \beta x .

    No line search is done (that is TRPO's addition): the KL of a step is
    :math:`\delta` only to second order. After the actor step the critic is fitted
    to the :math:`\lambda`-returns for ``n_critic_updates`` epochs of Adam.

    References
    ----------
    .. [1] S. Kakade, "A natural policy gradient", NeurIPS 2001.
    .. [2] J. Peters and S. Schaal, "Natural actor-critic", Neurocomputing 71, 2008.

    Examples
    --------
    >>> from mlnotes.rl import NPG
    >>> agent = NPG("MlpPolicy", "CartPole-v1", n_steps=100, seed=0).learn(200)
    >>> action, _ = agent.predict(agent.env.reset(), deterministic=True)
    >>> action.shape
    (1,)
    """

    # Dict observations (MultiInputPolicy) are not supported by this file's update
    policy_aliases = {k: v for k, v in OnPolicyAlgorithm.policy_aliases.items()
                      if k != "MultiInputPolicy"}

    def __init__(self, policy, env, learning_rate=1e-3, n_steps=1024, gamma=0.99,
                 gae_lambda=0.95, target_kl=0.05, cg_iters=10, cg_damping=0.1,
                 n_critic_updates=10, critic_batch_size=64, normalize_advantage=True,
                 stats_window_size=100, tensorboard_log=None, policy_kwargs=None,
                 verbose=0, seed=None, device="auto", _init_setup_model=True):
        super().__init__(policy, env, learning_rate=learning_rate, n_steps=n_steps,
                         gamma=gamma, gae_lambda=gae_lambda, ent_coef=0.0, vf_coef=1.0,
                         max_grad_norm=None, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, verbose=verbose, seed=seed,
                         device=device)
        check_real(target_kl, "target_kl", 0, low_open=True)
        check_int(cg_iters, "cg_iters", 1)
        check_real(cg_damping, "cg_damping", 0)
        check_int(n_critic_updates, "n_critic_updates", 0)
        check_int(critic_batch_size, "critic_batch_size", 1)
        self.target_kl = float(target_kl)
        self.cg_iters = int(cg_iters)
        self.cg_damping = float(cg_damping)
        self.n_critic_updates = int(n_critic_updates)
        self.critic_batch_size = int(critic_batch_size)
        self.normalize_advantage = bool(normalize_advantage)
        if _init_setup_model:
            self._setup_model()

    def actor_parameters(self):
        """Parameters the action distribution depends on (all but the critic's).

        Returns
        -------
        params : list of torch.nn.Parameter
            Shared layers, actor layers, action head and ``log_std``.
        """
        return [p for name, p in self.policy.named_parameters()
                if not name.startswith("value_net")]

    def mean_kl(self, obs, old_params):
        r"""Mean :math:`KL(\pi_{old}(\cdot \mid s) \,\|\, \pi_\theta(\cdot \mid s))`.

        Parameters
        ----------
        obs : torch.Tensor of shape (N,) + obs_shape
            States of the batch.
        old_params : tuple of torch.Tensor
            ``policy.action_params(obs)`` of the old policy, detached: logits, or the
            means and ``log_std``.

        Returns
        -------
        kl : torch.Tensor
            Scalar mean KL (a function of the current parameters).
        """
        new, log_std = self.policy.action_params(obs)
        old, old_log_std = old_params
        if isinstance(self.action_space, spaces.Discrete):
            old_logp, logp = torch.log_softmax(old, -1), torch.log_softmax(new, -1)
            return (old_logp.exp() * (old_logp - logp)).sum(-1).mean()
        var_old, var = torch.exp(2 * old_log_std), torch.exp(2 * log_std)
        kl = (log_std - old_log_std + (var_old + (old - new).square()) / (2 * var) - 0.5)
        return kl.sum(-1).mean()

    def natural_direction(self, obs, actions, advantages):
        """Policy gradient, natural direction and step length on a batch.

        Parameters
        ----------
        obs : torch.Tensor of shape (N,) + obs_shape
            States.
        actions : torch.Tensor
            Actions taken.
        advantages : torch.Tensor of shape (N,)
            Advantage estimates.

        Returns
        -------
        g : torch.Tensor of shape (P,)
            :math:`\\nabla_\\theta \\frac1N \\sum \\log \\pi(a_i \\mid s_i) A_i`.
        x : torch.Tensor of shape (P,)
            Conjugate gradient's solution of :math:`(F + \\lambda I) x = g`.
        beta : float
            Step length :math:`\\sqrt{2 \\delta / x^\\top (F + \\lambda I) x}`.
        """
        policy, params = self.policy, self.actor_parameters()
        _, log_prob, _ = policy.evaluate_actions(obs, actions)
        g = flat_grad((log_prob * advantages).mean(), params)
        with torch.no_grad():
            old = tuple(None if t is None else t.detach().clone()
                        for t in policy.action_params(obs))
        fvp = fisher_vector_product(lambda: self.mean_kl(obs, old), params,
                                    damping=self.cg_damping)
        x = conjugate_gradient(fvp, g, n_iters=self.cg_iters)
        beta = natural_step_size(x, fvp(x), self.target_kl)
        return g, x, beta

    def train(self):
        """One natural-gradient step of the actor, then the critic's regression."""
        policy = self.policy
        policy.set_training_mode(True)
        self._update_learning_rate(policy.optimizer)
        batch = next(self.rollout_buffer.get(batch_size=None))
        obs, actions = batch.observations, batch.actions
        advantages = batch.advantages
        if self.normalize_advantage and advantages.numel() > 1:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        # actor: theta <- theta + beta F^-1 g
        params = self.actor_parameters()
        g, x, beta = self.natural_direction(obs, actions, advantages)
        if not (torch.isfinite(g).all() and torch.isfinite(x).all() and math.isfinite(beta)):
            self._check_finite_loss(torch.tensor(float("nan")))
        with torch.no_grad():
            old = tuple(None if t is None else t.detach().clone()
                        for t in policy.action_params(obs))
        set_flat_params(params, get_flat_params(params) + beta * x)
        with torch.no_grad():
            kl = self.mean_kl(obs, old).item()
        # critic: Adam on (R_t - V(s_t))^2 (value parameters only)
        returns, n = batch.returns, obs.shape[0]
        value_losses = []
        for _ in range(self.n_critic_updates):
            perm = torch.randperm(n, device=obs.device)
            for start in range(0, n, self.critic_batch_size):
                idx = perm[start:start + self.critic_batch_size]
                value_loss = F.mse_loss(policy.predict_values(obs[idx]), returns[idx])
                self._check_finite_loss(value_loss)
                policy.optimizer.zero_grad(set_to_none=True)
                value_loss.backward()
                for p in params:  # a shared trunk is moved by the actor step only
                    p.grad = None
                policy.optimizer.step()
                value_losses.append(value_loss.item())
        self._n_updates += 1
        buf = self.rollout_buffer
        y_true, y_pred = buf.returns[:buf.pos].ravel(), buf.values[:buf.pos].ravel()
        var = np.var(y_true)
        record = self.logger.record
        record("train/n_updates", self._n_updates, exclude="tensorboard")
        record("train/kl", kl)
        record("train/step_size", beta)
        record("train/grad_norm", g.norm().item())
        record("train/explained_variance",
               float("nan") if var == 0 else float(1 - np.var(y_true - y_pred) / var))
        if value_losses:
            record("train/value_loss", float(np.mean(value_losses)))
        if policy.log_std is not None:
            record("train/std", torch.exp(policy.log_std).mean().item())
