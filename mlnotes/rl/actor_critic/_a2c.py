"""Advantage actor-critic (A2C), chapter 29."""

import torch
from torch.nn import functional as F

from mlnotes.utils._torch import clip_gradients

from ..common._optim import explained_variance, optimizer_step
from ..common.on_policy_algorithm import OnPolicyAlgorithm


class A2C(OnPolicyAlgorithm):
    """Synchronous advantage actor-critic (A2C), Stable-Baselines3's surface.

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"``, ``"CnnPolicy"`` (images, SB3's ``NatureCNN``),
        ``"MultiInputPolicy"`` (Dict observations) or a policy class
        (:class:`~mlnotes.rl.common.ActorCriticPolicy` or a subclass).
    env : gymnasium.Env, stable_baselines3.common.vec_env.VecEnv or str
        The environment (an id string is made with ``gymnasium.make``). Box, Discrete
        or Dict observations (channel-last images are transposed as SB3 does), Box or
        Discrete actions.
    learning_rate : float or callable, default=7e-4
        Learning rate, or a schedule of the remaining progress (e.g.
        :class:`~mlnotes.rl.common.LinearSchedule`).
    n_steps : int, default=5
        Steps collected from each environment per update: the batch is
        ``n_steps * n_envs``; ``n_steps=1`` is the online actor-critic.
    gamma : float, default=0.99
        Discount factor (SB3's default; 0.98 is more stable on CartPole, see Notes).
    gae_lambda : float, default=1.0
        GAE parameter: 1 gives the ``n_steps``-step return bootstrapped with the critic
        at the rollout end (classic A2C), 0 the one-step TD error.
    ent_coef : float, default=0.0
        Entropy bonus coefficient.
    vf_coef : float, default=0.5
        Value-loss coefficient.
    max_grad_norm : float, default=0.5
        Gradient clipping (global norm).
    rms_prop_eps : float, default=1e-5
        RMSprop's epsilon.
    use_rms_prop : bool, default=True
        RMSprop (``alpha=0.99``, ``weight_decay=0``, as SB3) instead of the policy's
        optimiser (Adam unless ``policy_kwargs`` says otherwise).
    use_sde : bool, default=False
        Generalised state-dependent exploration (gSDE) instead of independent Gaussian
        noise (Box actions): the noise is a linear function of the actor's features
        whose weights are redrawn at every rollout start (see ``sde_sample_freq``);
        ``policy_kwargs`` may set ``log_std_init``, ``full_std``, ``use_expln``,
        ``squash_output``.
    sde_sample_freq : int, default=-1
        Steps between two gSDE noise draws (-1: only at the start of each rollout).
    rollout_buffer_class : type, default=None
        Rollout storage (a subclass of :class:`~mlnotes.rl.common.RolloutBuffer`;
        ``None``: ``RolloutBuffer``, or ``DictRolloutBuffer`` for Dict observations).
    rollout_buffer_kwargs : dict, default=None
        Its extra arguments.
    normalize_advantage : bool, default=False
        Standardise the advantages of each batch.
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    policy_kwargs : dict, default=None
        Policy arguments: ``net_arch`` (a list for separate actor and critic networks
        of that shape, ``dict(pi=..., vf=...)``, or ``dict(shared=[...], pi=[...],
        vf=[...])`` for a shared trunk), ``activation_fn``, ``ortho_init``,
        ``log_std_init``, ``features_extractor_class``, ``features_extractor_kwargs``,
        ``share_features_extractor``, ``normalize_images``, ``optimizer_class``,
        ``optimizer_kwargs``.
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
    Chapter 29 of the notes. With the critic :math:`V_\\phi` as baseline, the policy
    gradient estimator

    .. math::

        \\nabla_\\theta J \\approx \\frac1{N}\\sum_{i}
        \\nabla_\\theta \\log \\pi_\\theta(a_i \\mid s_i)\\, \\hat A_i

    stays unbiased (the baseline depends only on the state, section 29.4). The
    advantages are GAE(:math:`\\gamma, \\lambda`) over the rollout
    (:func:`mlnotes.rl.common.returns.compute_gae`; :math:`\\lambda=1` gives the
    ``n_steps``-step return :math:`\\hat R_i = \\sum_{k} \\gamma^k r_{i+k} +
    \\gamma^{n} V_\\phi(s_{i+n})` minus :math:`V_\\phi(s_i)`). One gradient step on

    .. math::

        L = -\\frac1N \\sum_i \\hat A_i \\log \\pi_\\theta(a_i \\mid s_i)
            + c_v \\frac1N \\sum_i (\\hat R_i - V_\\phi(s_i))^2
            - c_e \\frac1N \\sum_i H(\\pi_\\theta(\\cdot \\mid s_i))

    per rollout, with :math:`c_v` = ``vf_coef`` and :math:`c_e` = ``ent_coef``.
    Episodes cut by a time limit are bootstrapped with :math:`\\gamma V(s_{end})`
    rather than treated as terminal.

    **Defaults.** Every default is SB3's A2C's. On CartPole-v1 SB3's defaults are
    unstable (the critic cannot keep up with values near :math:`1/(1-\\gamma)=100`);
    ``gamma=0.98`` is stable there: see :ref:`rl-a2c` in the user guide for the
    analysis and the ``agents`` benchmark suite for both settings.

    References
    ----------
    .. [1] V. Mnih et al., "Asynchronous methods for deep reinforcement learning",
       ICML 2016.

    Examples
    --------
    >>> from mlnotes.rl import A2C
    >>> agent = A2C("MlpPolicy", "CartPole-v1", seed=0).learn(200)
    >>> action, _ = agent.predict(agent.env.reset(), deterministic=True)
    >>> action.shape
    (1,)
    """

    def __init__(self, policy, env, learning_rate=7e-4, n_steps=5, gamma=0.99, gae_lambda=1.0,
                 ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5, rms_prop_eps=1e-5,
                 use_rms_prop=True, use_sde=False, sde_sample_freq=-1,
                 rollout_buffer_class=None, rollout_buffer_kwargs=None,
                 normalize_advantage=False, stats_window_size=100, tensorboard_log=None,
                 policy_kwargs=None, verbose=0, seed=None, device="auto",
                 _init_setup_model=True):
        super().__init__(policy, env, learning_rate=learning_rate, n_steps=n_steps,
                         gamma=gamma, gae_lambda=gae_lambda, ent_coef=ent_coef,
                         vf_coef=vf_coef, max_grad_norm=max_grad_norm, use_sde=use_sde,
                         sde_sample_freq=sde_sample_freq,
                         rollout_buffer_class=rollout_buffer_class,
                         rollout_buffer_kwargs=rollout_buffer_kwargs,
                         policy_kwargs=policy_kwargs, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, verbose=verbose, seed=seed,
                         device=device)
        if isinstance(rms_prop_eps, bool) or not isinstance(rms_prop_eps, (int, float)) \
                or not rms_prop_eps > 0:
            raise ValueError(f"rms_prop_eps must be a positive number, got {rms_prop_eps!r}.")
        self.rms_prop_eps = float(rms_prop_eps)
        self.use_rms_prop = bool(use_rms_prop)
        self.normalize_advantage = bool(normalize_advantage)
        if _init_setup_model:
            self._setup_model()

    def _default_policy_kwargs(self):
        if self.use_rms_prop and "optimizer_class" not in self.policy_kwargs:
            return dict(optimizer_class=torch.optim.RMSprop,
                        optimizer_kwargs=dict(alpha=0.99, eps=self.rms_prop_eps,
                                              weight_decay=0, foreach=True))
        return {}

    def learn(self, total_timesteps, callback=None, log_interval=100, tb_log_name="A2C",
              reset_num_timesteps=True, progress_bar=False):
        """Train for ``total_timesteps`` environment steps (SB3's ``A2C.learn``).

        Parameters
        ----------
        total_timesteps : int
            Environment steps (summed over the environments).
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s); one whose ``on_step`` returns ``False`` stops training.
        log_interval : int, default=100
            Updates between log dumps (``None``: never), as SB3's A2C.
        tb_log_name : str, default="A2C"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : A2C
            The trained agent.
        """
        return super().learn(total_timesteps, callback=callback, log_interval=log_interval,
                             tb_log_name=tb_log_name, reset_num_timesteps=reset_num_timesteps,
                             progress_bar=progress_bar)

    def _parameter_list(self):
        cached = getattr(self, "_param_cache", None)
        if cached is None or cached[0] is not self.policy:
            cached = self._param_cache = (self.policy, list(self.policy.parameters()))
        return cached[1]

    def train(self):
        """One gradient step on the A2C loss over the whole rollout."""
        policy = self.policy
        policy.set_training_mode(True)
        self._update_learning_rate(policy.optimizer)
        for batch in self.rollout_buffer.get(batch_size=None):
            values, log_prob, entropy = policy.evaluate_actions(batch.observations,
                                                                batch.actions)
            advantages = batch.advantages
            if self.normalize_advantage and advantages.numel() > 1:
                advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
            policy_loss = -(advantages * log_prob).mean()
            value_loss = F.mse_loss(batch.returns, values)
            # squashed gSDE has no closed-form entropy: -log_prob estimates it (SB3)
            entropy_loss = log_prob.mean() if entropy is None else -entropy.mean()
            loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss
            self._check_finite_loss(loss)
            policy.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.max_grad_norm is not None:
                clip_gradients([p.grad for p in self._parameter_list()
                                if p.grad is not None], self.max_grad_norm)
            optimizer_step(policy.optimizer)
        self._n_updates += 1
        buf = self.rollout_buffer
        record = self.logger.record
        record("train/n_updates", self._n_updates, exclude="tensorboard")
        record("train/explained_variance",
               explained_variance(buf.values[:buf.pos].ravel(), buf.returns[:buf.pos].ravel()))
        record("train/entropy_loss", entropy_loss.item())
        record("train/policy_loss", policy_loss.item())
        record("train/value_loss", value_loss.item())
        if policy.log_std is not None:
            record("train/std", torch.exp(policy.log_std).mean().item())
