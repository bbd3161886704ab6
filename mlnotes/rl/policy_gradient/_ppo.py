r"""Proximal policy optimisation (PPO), chapter 32."""

import inspect
import warnings

import numpy as np
import torch
from torch.nn import functional as F

from mlnotes.utils._torch import clip_gradients

from ..common._optim import explained_variance
from ...utils._validation import check_int, check_real
from ..common.on_policy_algorithm import OnPolicyAlgorithm
from ..common.schedules import get_schedule_fn

# Arguments of SB3's on-policy base that the shared base may not take yet (gSDE and the
# rollout-buffer choice are being added there): passed on when it does, handled here
# otherwise, so that PPO/TRPO inherit them when they land.
_BASE_PARAMS = inspect.signature(OnPolicyAlgorithm.__init__).parameters
_FORWARDED = ("use_sde", "sde_sample_freq", "rollout_buffer_class", "rollout_buffer_kwargs")


def _base_extras(use_sde, sde_sample_freq, rollout_buffer_class, rollout_buffer_kwargs):
    """The SB3 base-class arguments the shared base accepts, and the rest."""
    values = dict(use_sde=use_sde, sde_sample_freq=sde_sample_freq,
                  rollout_buffer_class=rollout_buffer_class,
                  rollout_buffer_kwargs=rollout_buffer_kwargs)
    passed = {k: v for k, v in values.items() if k in _BASE_PARAMS}
    return passed, {k: v for k, v in values.items() if k not in passed}


class SB3AssertionValueError(ValueError, AssertionError):
    """An invalid argument that SB3 rejects with ``assert`` (so also an AssertionError)."""


class _SB3OnPolicyMixin:
    """Handling of ``use_sde`` / ``rollout_buffer_class`` where the base lacks them."""

    def _init_extras(self, local):
        name = type(self).__name__
        if local.get("use_sde"):
            raise ValueError(
                f"{name}(use_sde=True): gSDE is not available in this version of the "
                "shared actor-critic policy; use use_sde=False."
            )
        if "use_sde" in local:
            self.use_sde = False
            self.sde_sample_freq = int(local["sde_sample_freq"])
        if "rollout_buffer_class" in local:
            cls, kwargs = local["rollout_buffer_class"], local["rollout_buffer_kwargs"]
            if cls is not None and not isinstance(cls, type):
                raise TypeError(f"rollout_buffer_class must be a class or None, got {cls!r}.")
            if kwargs is not None and not isinstance(kwargs, dict):
                raise TypeError("rollout_buffer_kwargs must be a dict or None.")
            self.rollout_buffer_class = cls
            self.rollout_buffer_kwargs = dict(kwargs or {})

    def _make_rollout_buffer(self):
        cls = getattr(self, "rollout_buffer_class", None)
        if cls is None or "rollout_buffer_class" in _BASE_PARAMS:
            return super()._make_rollout_buffer()
        kwargs = dict(device=self.device, gamma=self.gamma, gae_lambda=self.gae_lambda,
                      n_envs=self.n_envs)
        kwargs.update(self.rollout_buffer_kwargs)
        return cls(self.n_steps, self.observation_space, self.action_space, **kwargs)

    def _check_batch_size(self, batch_size, normalize_advantage):
        """SB3's checks of ``batch_size`` against the rollout size."""
        check_int(batch_size, "batch_size", 1)
        if normalize_advantage and batch_size < 2:
            raise SB3AssertionValueError(
                "batch_size must be greater than 1 with normalize_advantage=True (the "
                "advantages are standardised per minibatch)."
            )
        if self.env is None:
            return
        size = self.env.num_envs * self.n_steps
        if normalize_advantage and size < 2:
            raise SB3AssertionValueError(
                f"n_steps * n_envs must be greater than 1 with normalize_advantage=True, "
                f"got n_steps={self.n_steps} and n_envs={self.env.num_envs}."
            )
        if size % batch_size:
            warnings.warn(
                f"The minibatch size {batch_size} does not divide the rollout size "
                f"n_steps * n_envs = {size}: after every {size // batch_size} full "
                f"minibatches there will be a truncated mini-batch of size "
                f"{size % batch_size}. A batch_size that divides n_steps * n_envs is "
                "recommended.", UserWarning, stacklevel=3)

    def _parameter_list(self):
        cached = getattr(self, "_param_cache", None)
        if cached is None or cached[0] is not self.policy:
            cached = self._param_cache = (self.policy, list(self.policy.parameters()))
        return cached[1]

    def _default_policy_kwargs(self):
        # Adam (the policy's default optimiser) with its fused CPU kernel: the same
        # update, one call instead of a loop over the parameters (about 0.3 ms saved
        # per minibatch on these small networks). Only when the user chose nothing.
        kwargs = super()._default_policy_kwargs()
        if ("optimizer_class" not in self.policy_kwargs
                and "optimizer_kwargs" not in self.policy_kwargs
                and self.device.type == "cpu"):
            kwargs = dict(kwargs, optimizer_kwargs=dict(eps=1e-5, fused=True))
        return kwargs


def _take(data, idx):
    """Rows ``idx`` of a tensor or of every tensor of a dict (Dict observations)."""
    if isinstance(data, dict):
        return {k: v[idx] for k, v in data.items()}
    return data[idx]


def _check_clip(value, name, allow_none=False):
    if value is None and allow_none:
        return
    if callable(value):
        return
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
            or not np.isfinite(value) or value <= 0:
        extra = " (None to disable value clipping)" if allow_none else ""
        raise SB3AssertionValueError(f"{name} must be a positive number or a schedule{extra}, "
                         f"got {value!r}.")


class PPO(_SB3OnPolicyMixin, OnPolicyAlgorithm):
    r"""Proximal policy optimisation with the clipped surrogate, Stable-Baselines3's surface.

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` or a policy class
        (:class:`~mlnotes.rl.common.ActorCriticPolicy` or a subclass); the same
        ``policy_aliases`` as :class:`~mlnotes.rl.A2C`.
    env : gymnasium.Env, stable_baselines3.common.vec_env.VecEnv or str
        The environment (an id string is made with ``gymnasium.make``). Box or
        Discrete observations, Box or Discrete actions.
    learning_rate : float or callable, default=3e-4
        Adam's learning rate, or a schedule of the remaining progress (e.g.
        :class:`~mlnotes.rl.common.LinearSchedule`).
    n_steps : int, default=2048
        Steps collected from each environment per update (rollout of
        ``n_steps * n_envs`` steps).
    batch_size : int, default=64
        Minibatch size of the updates.
    n_epochs : int, default=10
        Passes over the rollout per update (each in a new random order).
    gamma : float, default=0.99
        Discount factor.
    gae_lambda : float, default=0.95
        GAE parameter of the advantages.
    clip_range : float or callable, default=0.2
        Clipping parameter :math:`\epsilon` of the probability ratio, or a schedule of
        the remaining progress.
    clip_range_vf : float or callable, default=None
        Clipping of the value prediction around the rollout's values (``None``: no
        value clipping). Not scaled with the rewards: it depends on their scale.
    normalize_advantage : bool, default=True
        Standardise the advantages of each minibatch.
    ent_coef : float, default=0.0
        Entropy bonus coefficient.
    vf_coef : float, default=0.5
        Value-loss coefficient.
    max_grad_norm : float, default=0.5
        Gradient clipping (global norm).
    use_sde : bool, default=False
        Generalised state-dependent exploration (gSDE) for Box actions, where the
        shared policy supports it.
    sde_sample_freq : int, default=-1
        Steps between gSDE noise resamples (-1: only at the rollout start).
    rollout_buffer_class : type, default=None
        Rollout storage class (``None``: :class:`~mlnotes.rl.common.RolloutBuffer`);
        built as ``cls(n_steps, observation_space, action_space, device=...,
        gamma=..., gae_lambda=..., n_envs=..., **rollout_buffer_kwargs)``.
    rollout_buffer_kwargs : dict, default=None
        Extra arguments of the rollout buffer.
    target_kl : float, default=None
        Stop the epochs of an update early when the approximate KL divergence of a
        minibatch exceeds ``1.5 * target_kl`` (``None``: never).
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    policy_kwargs : dict, default=None
        Policy arguments: ``net_arch``, ``activation_fn``, ``ortho_init``,
        ``log_std_init``, ``optimizer_class``, ``optimizer_kwargs``.
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
    clip_range : callable
        Schedule of the clipping parameter (built from the argument, as SB3).
    clip_range_vf : callable or None
        Schedule of the value clipping.

    Notes
    -----
    Chapter 32 of the notes. With the probability ratio
    :math:`r_i(\theta) = \pi_\theta(a_i \mid s_i) / \pi_{\theta_{old}}(a_i \mid s_i)`
    of the policy being optimised to the one that collected the rollout, and GAE
    advantages :math:`\hat A_i` (standardised per minibatch), PPO maximises the
    clipped surrogate

    .. math::

        L^{CLIP}(\theta) = \frac1B \sum_i \min\big(r_i(\theta) \hat A_i,\;
        \operatorname{clip}(r_i(\theta), 1 - \epsilon, 1 + \epsilon) \hat A_i\big),

    a pessimistic bound of the importance-weighted objective
    :math:`E[r \hat A]` (whose gradient at :math:`\theta_{old}` is the policy
    gradient): once the ratio leaves :math:`[1-\epsilon, 1+\epsilon]` in the
    direction the advantage favours, the term is constant and its gradient zero, so
    the many minibatch steps (``n_epochs`` passes) cannot move the policy far from
    the one that collected the data. The loss of one minibatch step is

    .. math::

        L = -L^{CLIP} + c_v \frac1B \sum_i (\hat R_i - V^{clip}_i)^2
            - c_e \frac1B \sum_i H(\pi_\theta(\cdot \mid s_i)),

    with :math:`\hat R_i = \hat A_i + V_{old}(s_i)` (before standardisation),
    :math:`V^{clip}_i = V_{old}(s_i) + \operatorname{clip}(V_\phi(s_i) - V_{old}(s_i),
    -\epsilon_v, \epsilon_v)` when ``clip_range_vf`` is set (else
    :math:`V_\phi(s_i)`), :math:`c_v` = ``vf_coef``, :math:`c_e` = ``ent_coef``; the
    gradient is clipped to global norm ``max_grad_norm``. The logged
    ``train/approx_kl`` is the estimator :math:`\frac1B \sum_i (r_i - 1) -
    \log r_i` of :math:`KL(\pi_{old} \| \pi_\theta)` (non-negative, unbiased); with
    ``target_kl`` set, an update stops at the first minibatch whose estimate exceeds
    ``1.5 * target_kl`` (that minibatch is not applied). Logged keys are SB3's:
    ``train/policy_gradient_loss``, ``value_loss``, ``entropy_loss``,
    ``approx_kl``, ``clip_fraction`` (share of ratios outside the clip range),
    ``loss``, ``explained_variance``, ``clip_range``, ``n_updates``.

    Every default is SB3's PPO's. Implementation: the rollout loop of the shared
    base, then per epoch one permutation gathers the rollout once (minibatches are
    slices), the policy runs as plain functions, gradients are clipped with foreach
    kernels, Adam uses its fused kernel, and per-minibatch statistics stay tensors
    until one synchronisation at the end. Measured speed and learning curves against
    SB3: :ref:`rl-ppo-trpo` in the user guide.

    References
    ----------
    .. [1] J. Schulman, F. Wolski, P. Dhariwal, A. Radford and O. Klimov, "Proximal
       policy optimization algorithms", arXiv:1707.06347, 2017.

    Examples
    --------
    >>> from mlnotes.rl import PPO
    >>> agent = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=32, seed=0)
    >>> agent = agent.learn(128)
    >>> action, _ = agent.predict(agent.env.reset(), deterministic=True)
    >>> action.shape
    (1,)
    """

    def __init__(self, policy, env, learning_rate=3e-4, n_steps=2048, batch_size=64,
                 n_epochs=10, gamma=0.99, gae_lambda=0.95, clip_range=0.2, clip_range_vf=None,
                 normalize_advantage=True, ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5,
                 use_sde=False, sde_sample_freq=-1, rollout_buffer_class=None,
                 rollout_buffer_kwargs=None, target_kl=None, stats_window_size=100,
                 tensorboard_log=None, policy_kwargs=None, verbose=0, seed=None,
                 device="auto", _init_setup_model=True):
        passed, local = _base_extras(use_sde, sde_sample_freq, rollout_buffer_class,
                                     rollout_buffer_kwargs)
        super().__init__(policy, env, learning_rate=learning_rate, n_steps=n_steps,
                         gamma=gamma, gae_lambda=gae_lambda, ent_coef=ent_coef,
                         vf_coef=vf_coef, max_grad_norm=max_grad_norm,
                         policy_kwargs=policy_kwargs, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, verbose=verbose, seed=seed,
                         device=device, **passed)
        self._init_extras(local)
        self.normalize_advantage = bool(normalize_advantage)
        self._check_batch_size(batch_size, self.normalize_advantage)
        check_int(n_epochs, "n_epochs", 1)
        _check_clip(clip_range, "clip_range")
        _check_clip(clip_range_vf, "clip_range_vf", allow_none=True)
        if target_kl is not None:
            check_real(target_kl, "target_kl", 0, low_open=True)
        self.batch_size, self.n_epochs = int(batch_size), int(n_epochs)
        self.clip_range, self.clip_range_vf = clip_range, clip_range_vf
        self.target_kl = None if target_kl is None else float(target_kl)
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self):
        super()._setup_model()
        # as SB3: the clip ranges become schedules of the remaining progress
        self.clip_range = get_schedule_fn(self.clip_range)
        if self.clip_range_vf is not None:
            self.clip_range_vf = get_schedule_fn(self.clip_range_vf)
        self._maybe_recommend_cpu()

    def _maybe_recommend_cpu(self, mlp_class_name="ActorCriticPolicy"):
        """Warn, as SB3, that an MLP policy trains faster on the CPU than on a GPU."""
        if self.device.type != "cpu" and self.policy_class.__name__ == mlp_class_name:
            warnings.warn(
                f"You are trying to run {type(self).__name__} on the GPU with an MLP policy "
                f"({self.policy_class.__name__}): small networks and per-step rollouts keep "
                "a GPU mostly idle, so the CPU is usually faster. Pass device='cpu' "
                "(or hide the GPU with CUDA_VISIBLE_DEVICES=) unless you use a CNN policy.",
                UserWarning, stacklevel=2)

    def learn(self, total_timesteps, callback=None, log_interval=1, tb_log_name="PPO",
              reset_num_timesteps=True, progress_bar=False):
        """Train for ``total_timesteps`` environment steps (SB3's ``PPO.learn``).

        Parameters
        ----------
        total_timesteps : int
            Environment steps (summed over the environments).
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s); one whose ``on_step`` returns ``False`` stops training.
        log_interval : int, default=1
            Rollouts between log dumps (``None``: never), as SB3's PPO.
        tb_log_name : str, default="PPO"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : PPO
            The trained agent.
        """
        return super().learn(total_timesteps, callback=callback, log_interval=log_interval,
                             tb_log_name=tb_log_name, reset_num_timesteps=reset_num_timesteps,
                             progress_bar=progress_bar)

    def train(self):
        """``n_epochs`` passes of minibatch steps on the clipped PPO loss."""
        policy = self.policy
        policy.set_training_mode(True)
        self._update_learning_rate(policy.optimizer)
        clip_range = float(self.clip_range(self._current_progress_remaining))
        clip_range_vf = (None if self.clip_range_vf is None
                         else float(self.clip_range_vf(self._current_progress_remaining)))
        rollout = next(self.rollout_buffer.get(batch_size=None))
        total, batch_size = len(rollout.advantages), self.batch_size
        params = self._parameter_list()
        stats, last_epoch_start = [], 0  # per minibatch: pg, value, entropy, clip frac, kl
        continue_training = True
        for epoch in range(self.n_epochs):
            # one gather per epoch; the minibatches are then contiguous slices
            perm = torch.as_tensor(np.random.permutation(total), device=self.device)
            shuffled = [_take(t, perm) for t in rollout]
            last_epoch_start = len(stats)
            for start in range(0, total, batch_size):
                stop = start + batch_size
                obs, actions, old_values, old_log_prob, advantages, returns = (
                    _take(t, slice(start, stop)) for t in shuffled)
                values, log_prob, entropy = policy.evaluate_actions(obs, actions)
                if self.normalize_advantage and len(advantages) > 1:
                    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
                # clipped surrogate (maximised, hence the minus sign)
                log_ratio = log_prob - old_log_prob
                ratio = torch.exp(log_ratio)
                policy_loss = -torch.min(
                    advantages * ratio,
                    advantages * torch.clamp(ratio, 1 - clip_range, 1 + clip_range)).mean()
                if clip_range_vf is not None:  # value prediction kept near the old one
                    values = old_values + torch.clamp(values - old_values, -clip_range_vf,
                                                      clip_range_vf)
                value_loss = F.mse_loss(returns, values)
                entropy_loss = -entropy.mean()
                loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss
                with torch.no_grad():
                    ratio_d, log_ratio_d = ratio.detach(), log_ratio.detach()
                    approx_kl = ((ratio_d - 1) - log_ratio_d).mean()
                    clip_fraction = ((ratio_d - 1).abs() > clip_range).float().mean()
                    stats.append(torch.stack([policy_loss.detach(), value_loss.detach(),
                                              entropy_loss.detach(), clip_fraction,
                                              approx_kl]))
                if self.target_kl is not None and approx_kl.item() > 1.5 * self.target_kl:
                    continue_training = False
                    if self.verbose >= 1:
                        print(f"Early stopping at step {epoch} due to reaching max kl: "
                              f"{approx_kl.item():.2f}")
                    break
                self._check_finite_loss(loss)
                policy.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if self.max_grad_norm is not None:
                    clip_gradients([p.grad for p in params if p.grad is not None],
                                   self.max_grad_norm)
                policy.optimizer.step()
            self._n_updates += 1
            if not continue_training:
                break
        stats = torch.stack(stats)
        means = stats.mean(0).tolist()
        approx_kl = stats[last_epoch_start:, 4].mean().item()
        buf = self.rollout_buffer
        record = self.logger.record
        record("train/entropy_loss", means[2])
        record("train/policy_gradient_loss", means[0])
        record("train/value_loss", means[1])
        record("train/approx_kl", approx_kl)
        record("train/clip_fraction", means[3])
        record("train/loss", loss.item())
        record("train/explained_variance",
               explained_variance(buf.values[:buf.pos].ravel(), buf.returns[:buf.pos].ravel()))
        if policy.log_std is not None:
            record("train/std", torch.exp(policy.log_std).mean().item())
        record("train/n_updates", self._n_updates, exclude="tensorboard")
        record("train/clip_range", clip_range)
        if clip_range_vf is not None:
            record("train/clip_range_vf", clip_range_vf)
