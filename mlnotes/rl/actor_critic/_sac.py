"""Soft actor-critic (SAC), chapters 41-42 (control as inference)."""

import math

import numpy as np
import torch
from gymnasium import spaces

from ..common.continuous_policies import (
    SACCnnPolicy,
    SACMultiInputPolicy,
    SACPolicy,
    optimizer_step,
)
from ..common.off_policy_algorithm import OffPolicyAlgorithm, obs_as_tensor, polyak_update
from ._critic_ops import critic_layers, min_q_action_grad, q_values


class _TensorState:
    """State-dict view of loose tensors (``log_ent_coef``) for save/load."""

    def __init__(self, **tensors):
        self.tensors = tensors

    def state_dict(self):
        return {name: t.detach().clone() for name, t in self.tensors.items()}

    def load_state_dict(self, state):
        # as a non-strict torch load: unknown names raise, missing ones are left as they
        # are (set_parameters(exact_match=True) already requires every group)
        unknown = set(state) - set(self.tensors)
        if unknown:
            raise RuntimeError(f"Unexpected tensors {sorted(unknown)}; expected "
                               f"{sorted(self.tensors)}.")
        with torch.no_grad():
            for name, value in state.items():
                self.tensors[name].copy_(value)


def _parse_ent_coef(ent_coef):
    """``(learned, initial value)`` from SB3's ``ent_coef`` ("auto", "auto_0.1", float)."""
    if isinstance(ent_coef, str):
        if ent_coef == "auto":
            return True, 1.0
        if ent_coef.startswith("auto_"):
            try:
                value = float(ent_coef[5:])
            except ValueError:
                value = float("nan")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(
                    f"ent_coef={ent_coef!r}: the initial value after 'auto_' must be a "
                    "positive number, e.g. 'auto_0.1'.")
            return True, value
        raise ValueError(f"ent_coef must be a number, 'auto' or 'auto_<init>', got {ent_coef!r}.")
    if isinstance(ent_coef, bool) or not isinstance(ent_coef, (int, float, np.number)) \
            or not math.isfinite(ent_coef) or ent_coef < 0:
        raise ValueError(
            f"ent_coef must be a non-negative number, 'auto' or 'auto_<init>', got {ent_coef!r}.")
    return False, float(ent_coef)


class SAC(OffPolicyAlgorithm):
    """Soft actor-critic (SAC), Stable-Baselines3's surface and defaults.

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` or a policy class
        (:class:`~mlnotes.rl.common.continuous_policies.SACPolicy` or a subclass).
    env : gymnasium.Env, stable_baselines3.common.vec_env.VecEnv or str
        The environment (an id string is made with ``gymnasium.make``): Box or
        Discrete observations, a bounded Box action space (anything else raises at
        construction).
    learning_rate : float or callable, default=3e-4
        Learning rate of the actor, the critics and the temperature, or a schedule of
        the remaining progress.
    buffer_size : int, default=1_000_000
        Replay buffer size.
    learning_starts : int, default=100
        Steps of uniformly random actions before the first update.
    batch_size : int, default=256
        Minibatch size of each gradient step.
    tau : float, default=0.005
        Polyak coefficient of the target critics.
    gamma : float, default=0.99
        Discount factor.
    train_freq : int or tuple of (int, str), default=1
        Update every ``train_freq`` steps, or ``(n, "episode")``.
    gradient_steps : int, default=1
        Gradient steps per update (-1: as many as env steps collected).
    action_noise : stable_baselines3.common.noise.ActionNoise, default=None
        Extra exploration noise, added in the [-1, 1] action space.
    replay_buffer_class : type, default=None
        Replay buffer class (default :class:`~mlnotes.rl.common.replay_buffer.ReplayBuffer`).
    replay_buffer_kwargs : dict, default=None
        Extra replay buffer arguments.
    optimize_memory_usage : bool, default=False
        Memory-saving replay buffer.
    n_steps : int, default=1
        n-step returns in the critic's target (``NStepReplayBuffer``) when > 1.
    ent_coef : float or str, default="auto"
        Temperature :math:`\\alpha`: a number keeps it fixed, ``"auto"`` learns it
        (initial value 1), ``"auto_0.1"`` learns it from 0.1.
    target_update_interval : int, default=1
        Gradient steps between two Polyak updates of the target critics.
    target_entropy : float or "auto", default="auto"
        Entropy :math:`\\bar{\\mathcal H}` the learned temperature aims at;
        ``"auto"`` is :math:`-\\dim \\mathcal A`.
    use_sde : bool, default=False
        Generalised state-dependent exploration (gSDE) instead of independent Gaussian
        noise: the noise is a linear function of the actor's last hidden layer whose
        weights are redrawn every ``sde_sample_freq`` steps.
    sde_sample_freq : int, default=-1
        Steps between two gSDE weight draws (-1: once per rollout).
    use_sde_at_warmup : bool, default=False
        Explore with gSDE instead of uniform actions during warm-up.
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    policy_kwargs : dict, default=None
        Policy arguments: ``net_arch`` (list, or ``dict(pi=[...], qf=[...])``),
        ``activation_fn``, ``n_critics``, ``optimizer_class``, ``optimizer_kwargs``,
        ``share_features_extractor``.
    verbose : int, default=0
        0 silent, 1 training information.
    seed : int, default=None
        Seed (python, numpy, torch, action space, environment): the same seed gives
        the same agent.
    device : str or torch.device, default="auto"
        Device of the networks.
    _init_setup_model : bool, default=True
        Build the networks now (``load`` builds them after setting the spaces).

    Attributes
    ----------
    policy : SACPolicy
        Actor, critics and target critics.
    actor : SquashedGaussianActor
        Alias of ``policy.actor`` (with ``actor.optimizer``).
    critic, critic_target : ContinuousCritic
        Aliases of ``policy.critic`` (with ``critic.optimizer``) and
        ``policy.critic_target``.
    log_ent_coef : torch.Tensor or None
        :math:`\\log\\alpha` when the temperature is learned.
    ent_coef_optimizer : torch.optim.Adam or None
        Its optimiser.
    target_entropy : float
        The entropy target (a number after setup).
    replay_buffer : ReplayBuffer
        The experience replay.
    num_timesteps : int
        Environment steps taken.

    Notes
    -----
    **Maximum entropy.** Chapter 42 (control as inference) treats optimality as an
    observed variable, :math:`p(\\mathcal O_t \\mid s_t, a_t) \\propto \\exp(r(s_t, a_t)/\\alpha)`;
    the variational posterior over trajectories that keeps the true dynamics is a policy
    maximising the evidence lower bound, which is, up to :math:`\\alpha`, the
    maximum-entropy objective

    .. math::

        J(\\pi) = \\sum_t \\mathbb E_{(s_t, a_t) \\sim \\rho_\\pi}\\big[\\gamma^t\\big(
        r(s_t, a_t) + \\alpha\\,\\mathcal H(\\pi(\\cdot \\mid s_t))\\big)\\big].

    Its soft Bellman equation, :math:`Q(s, a) = r + \\gamma\\,\\mathbb E_{s'}[V(s')]`
    with :math:`V(s) = \\mathbb E_{a \\sim \\pi}[Q(s, a) - \\alpha \\log \\pi(a \\mid s)]`,
    gives the critics' target, with the clipped double-Q minimum of two target
    critics :math:`\\bar Q_{1,2}` and a fresh action :math:`a' \\sim \\pi(\\cdot \\mid s')`:

    .. math::

        y = r + \\gamma (1 - d)\\Big(\\min_{j} \\bar Q_j(s', a') - \\alpha \\log \\pi(a' \\mid s')\\Big),
        \\qquad L_Q = \\tfrac12 \\sum_j \\mathbb E\\big[(Q_j(s, a) - y)^2\\big].

    :math:`d` is 1 only for a true termination: an episode cut by a time limit is
    bootstrapped from its real final observation. The actor minimises the KL divergence
    to the Boltzmann policy :math:`\\propto \\exp(Q/\\alpha)`, i.e., with the
    reparameterised squashed Gaussian :math:`a = \\tanh(\\mu_\\theta(s) +
    \\sigma_\\theta(s)\\epsilon)`,

    .. math::

        L_\\pi = \\mathbb E_{s, \\epsilon}\\big[\\alpha \\log \\pi_\\theta(a \\mid s)
        - \\min_j Q_j(s, a)\\big],

    and the temperature follows the constraint
    :math:`\\mathbb E[-\\log\\pi] \\geq \\bar{\\mathcal H}` through
    :math:`L_\\alpha = -\\mathbb E[\\log\\alpha\\,(\\log \\pi(a \\mid s) + \\bar{\\mathcal H})]`
    (gradient step on :math:`\\log \\alpha`). One gradient step updates, in SB3's order,
    the temperature, the critics, the actor (with the critics' gradients not computed),
    then the target critics :math:`\\bar\\phi \\leftarrow (1 - \\tau)\\bar\\phi + \\tau\\phi`.

    Differences from SB3 that do not change the algorithm: the squashing correction
    :math:`\\log(1 - \\tanh^2 u)` is computed exactly (SB3 adds :math:`10^{-6}` inside the
    logarithm); ``target_update_interval`` counts gradient steps over the whole run
    (SB3 counts within one ``train`` call, so with ``gradient_steps=1`` it updates at
    every step whatever the interval). ``"CnnPolicy"`` and ``"MultiInputPolicy"``
    use SB3's extractors (one per network unless ``share_features_extractor=True``).

    References
    ----------
    .. [1] T. Haarnoja, A. Zhou, P. Abbeel and S. Levine, "Soft actor-critic:
       off-policy maximum entropy deep reinforcement learning with a stochastic actor",
       ICML 2018.
    .. [2] T. Haarnoja et al., "Soft actor-critic algorithms and applications",
       arXiv:1812.05905, 2018.
    .. [3] S. Levine, "Reinforcement learning and control as probabilistic inference:
       tutorial and review", arXiv:1805.00909, 2018.

    Examples
    --------
    >>> from mlnotes.rl import SAC
    >>> agent = SAC("MlpPolicy", "Pendulum-v1", learning_starts=50, batch_size=32,
    ...             policy_kwargs=dict(net_arch=[32, 32]), seed=0).learn(100)
    >>> action, _ = agent.predict(agent.env.reset(), deterministic=True)
    >>> action.shape
    (1, 1)
    """

    policy_aliases = {"MlpPolicy": SACPolicy, "CnnPolicy": SACCnnPolicy,
                      "MultiInputPolicy": SACMultiInputPolicy}

    def __init__(self, policy, env, learning_rate=3e-4, buffer_size=1_000_000,
                 learning_starts=100, batch_size=256, tau=0.005, gamma=0.99, train_freq=1,
                 gradient_steps=1, action_noise=None, replay_buffer_class=None,
                 replay_buffer_kwargs=None, optimize_memory_usage=False, n_steps=1,
                 ent_coef="auto", target_update_interval=1, target_entropy="auto",
                 use_sde=False, sde_sample_freq=-1, use_sde_at_warmup=False,
                 stats_window_size=100, tensorboard_log=None, policy_kwargs=None, verbose=0,
                 seed=None, device="auto", _init_setup_model=True):
        super().__init__(policy, env, learning_rate, buffer_size, learning_starts, batch_size,
                         tau, gamma, train_freq, gradient_steps, action_noise,
                         replay_buffer_class=replay_buffer_class,
                         replay_buffer_kwargs=replay_buffer_kwargs,
                         optimize_memory_usage=optimize_memory_usage, n_steps=n_steps,
                         policy_kwargs=policy_kwargs, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, verbose=verbose, device=device,
                         seed=seed, use_sde=use_sde, sde_sample_freq=sde_sample_freq,
                         use_sde_at_warmup=use_sde_at_warmup,
                         supported_action_spaces=(spaces.Box,), support_multi_env=True)
        _parse_ent_coef(ent_coef)
        if isinstance(target_update_interval, bool) \
                or not isinstance(target_update_interval, (int, np.integer)) \
                or target_update_interval < 1:
            raise ValueError(
                f"target_update_interval must be an int >= 1, got {target_update_interval!r}.")
        if not (target_entropy == "auto" or (
                not isinstance(target_entropy, (bool, str))
                and isinstance(target_entropy, (int, float, np.number))
                and math.isfinite(target_entropy))):
            raise ValueError(
                f"target_entropy must be 'auto' or a finite number, got {target_entropy!r}.")
        self.ent_coef = ent_coef
        self.target_entropy = target_entropy
        self.target_update_interval = int(target_update_interval)
        self.log_ent_coef = None
        self.ent_coef_optimizer = None
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self):
        super()._setup_model()
        self.actor = self.policy.actor
        self.critic = self.policy.critic
        self.critic_target = self.policy.critic_target
        if self.target_entropy == "auto":
            self.target_entropy = float(-np.prod(self.action_space.shape).astype(np.float32))
        else:
            self.target_entropy = float(self.target_entropy)
        learned, value = _parse_ent_coef(self.ent_coef)
        if learned:
            self.log_ent_coef = torch.full((1,), math.log(value), device=self.device,
                                           requires_grad=True)
            self.ent_coef_optimizer = torch.optim.Adam([self.log_ent_coef],
                                                       lr=self.lr_schedule(1), fused=True)
        else:
            self.log_ent_coef = None
            self.ent_coef_optimizer = None
            self.ent_coef_tensor = torch.tensor(value, device=self.device)
        self._critic_params = list(self.critic.parameters())
        self._critic_target_params = list(self.critic_target.parameters())
        self._actor_params = list(self.actor.parameters())

    def _state_dict_names(self):
        names = ["policy", "actor.optimizer", "critic.optimizer"]
        if self.ent_coef_optimizer is not None:
            names += ["log_ent_coef", "ent_coef_optimizer"]
        return names

    def _resolve(self, name):
        if name == "log_ent_coef":
            return _TensorState(log_ent_coef=self.log_ent_coef)
        return super()._resolve(name)

    def _policy_actions(self, observation):
        # lean exploration path: one actor pass on the raw batch (VecEnv observations)
        with torch.no_grad():
            actions = self.actor(obs_as_tensor(observation, self.device))
        actions = actions.cpu().numpy().reshape((-1, *self.action_space.shape))
        return self.unscale_action(actions)

    def learn(self, total_timesteps, callback=None, log_interval=4, tb_log_name="SAC",
              reset_num_timesteps=True, progress_bar=False):
        """Train for ``total_timesteps`` environment steps (SB3's ``SAC.learn``).

        Parameters
        ----------
        total_timesteps : int
            Environment steps (summed over the environments).
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s); one whose ``on_step`` returns ``False`` stops training.
        log_interval : int, default=4
            Episodes between log dumps (``None``: never).
        tb_log_name : str, default="SAC"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : SAC
            The trained agent.
        """
        return super().learn(total_timesteps, callback=callback, log_interval=log_interval,
                             tb_log_name=tb_log_name, reset_num_timesteps=reset_num_timesteps,
                             progress_bar=progress_bar)

    def _critic_penalty(self, data, current_q):
        """A term added to the critics' loss (none in SAC; CQL's conservative penalty)."""
        return None

    def _next_value(self, next_observations, ent_coef):
        r"""The soft value of the next states in the critics' target,
        :math:`\min_j \bar Q_j(s', a') - \alpha \log \pi(a' \mid s')` with
        :math:`a' \sim \pi(\cdot \mid s')`, of shape ``(batch, 1)`` (CQL's default backup
        drops the entropy term)."""
        next_actions, next_log_prob = self.actor.action_log_prob(next_observations)
        next_q = self.critic_target.q_values(next_observations, next_actions)
        return next_q.min(dim=1, keepdim=True).values - ent_coef * next_log_prob.reshape(-1, 1)

    def train(self, gradient_steps, batch_size=64):
        """``gradient_steps`` updates of the temperature, the critics and the actor.

        Parameters
        ----------
        gradient_steps : int
            Number of gradient steps.
        batch_size : int, default=64
            Minibatch size.
        """
        actor, critic = self.actor, self.critic
        self.policy.set_training_mode(True)
        optimizers = [actor.optimizer, critic.optimizer]
        if self.ent_coef_optimizer is not None:
            optimizers.append(self.ent_coef_optimizer)
        self._update_learning_rate(optimizers)
        ent_coefs, ent_coef_losses, actor_losses, critic_losses = [], [], [], []
        critic_nets = critic_layers(critic)
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
            discounts = self.gamma if data.discounts is None else data.discounts
            if self.use_sde:
                actor.reset_noise()  # one gSDE matrix for the whole batch
            actions_pi, log_prob = actor.action_log_prob(data.observations)
            log_prob = log_prob.reshape(-1, 1)

            # temperature: L_alpha = -E[log alpha (log pi + target entropy)]
            if self.ent_coef_optimizer is not None:
                ent_coef = self.log_ent_coef.detach().exp()
                slack = (log_prob.detach() + self.target_entropy).mean()
                ent_coef_losses.append(-(self.log_ent_coef.detach() * slack))
                self.log_ent_coef.grad = -slack.reshape(1)  # the gradient of L_alpha
                optimizer_step(self.ent_coef_optimizer)
            else:
                ent_coef = self.ent_coef_tensor
            ent_coefs.append(ent_coef)

            # critics: soft Bellman target with the clipped double-Q minimum
            with torch.no_grad():
                next_v = self._next_value(data.next_observations, ent_coef)
                target_q = data.rewards + (1.0 - data.dones) * discounts * next_v
            current_q = q_values(critic, data.observations, data.actions, critic_nets)
            critic_loss = 0.5 * (current_q - target_q).square().mean(dim=0).sum()
            penalty = self._critic_penalty(data, current_q)
            if penalty is not None:  # a regulariser of a subclass (CQL)
                critic_loss = critic_loss + penalty
            self._check_finite_loss(critic_loss, "critic_loss")
            critic_loss.backward()
            optimizer_step(critic.optimizer)

            # actor: E[alpha log pi - min_j Q_j(s, a~pi)], gradients of the actor only
            # (the minimum's gradient reaches one network per row: each network's
            # backward pass runs on its own rows only, without weight gradients)
            min_q_pi = min_q_action_grad(critic, data.observations, actions_pi,
                                         critic_nets)
            actor_loss = (ent_coef * log_prob - min_q_pi).mean()
            self._check_finite_loss(actor_loss, "actor_loss")
            actor_loss.backward(inputs=self._actor_params)
            optimizer_step(actor.optimizer)

            critic_losses.append(critic_loss.detach())
            actor_losses.append(actor_loss.detach())
            self._n_updates += 1
            if self._n_updates % self.target_update_interval == 0:
                polyak_update(self._critic_params, self._critic_target_params, self.tau)

        record = self.logger.record
        record("train/n_updates", self._n_updates, exclude="tensorboard")
        record("train/ent_coef", torch.stack(ent_coefs).mean().item())
        record("train/actor_loss", torch.stack(actor_losses).mean().item())
        record("train/critic_loss", torch.stack(critic_losses).mean().item())
        if ent_coef_losses:
            record("train/ent_coef_loss", torch.stack(ent_coef_losses).mean().item())
