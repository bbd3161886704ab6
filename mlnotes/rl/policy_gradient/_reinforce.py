r"""REINFORCE, the likelihood-ratio policy gradient (chapter 28)."""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ...utils._validation import check_int, check_real
from ..common.on_policy_algorithm import OnPolicyAlgorithm
from ..common.returns import _episode_first_index, optimal_baseline, reward_to_go
from ..common.schedules import LinearSchedule

_BASELINES = (None, "mean", "optimal", "value")


class REINFORCE(OnPolicyAlgorithm):
    r"""REINFORCE: Monte-Carlo policy gradient with the variants of chapter 28.

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` or a policy class
        (:class:`~mlnotes.rl.common.ActorCriticPolicy` or a subclass; its critic is
        used only by ``baseline="value"``).
    env : gymnasium.Env, stable_baselines3.common.vec_env.VecEnv or str
        The environment (an id string is made with ``gymnasium.make``). Box or
        Discrete observations, Box or Discrete actions.
    learning_rate : float or callable, default=LinearSchedule(3e-3, 1e-4)
        Adam's learning rate (actor and, for ``baseline="value"``, critic), or a
        schedule of the remaining progress. The default decays linearly from 3e-3 to
        1e-4 over the ``learn`` call (not to 0, so that every update moves the
        policy): a constant rate learns as fast but keeps the policy oscillating
        around the optimum (Adam's steps do not shrink with the gradient), so the
        final policy would depend on when training stops.
    n_steps : int, default=250
        Steps collected from each environment per update (a fixed-size batch of
        ``n_steps * n_envs`` steps, not a fixed number of episodes). An episode still
        running at the end of the batch is continued by the next one; its
        reward-to-go inside this batch is bootstrapped with the critic,
        :math:`\gamma^{k} V(s_T)`, when ``baseline="value"``, and cut (the rewards
        after the batch end are left out, a bias that vanishes when ``n_steps`` is
        long compared with the episodes) otherwise. The same rule applies to episodes
        cut by a time limit.
    gamma : float, default=0.99
        Discount factor.
    reward_to_go : bool, default=True
        Weight :math:`\nabla \log \pi(a_t \mid s_t)` by the discounted reward-to-go
        :math:`\hat Q_t = \sum_{t' \ge t} \gamma^{t'-t} r_{t'}` (the causality
        trick); ``False`` weights every step by the return of its whole episode,
        :math:`R(\tau) = \sum_t \gamma^t r_t` (counted from the batch's first step for
        an episode that began in an earlier batch).
    baseline : {None, "mean", "optimal", "value"}, default="value"
        Subtracted from the weights. ``"mean"``: the batch mean of the weights;
        ``"optimal"``: the variance-minimising constant
        :math:`b = \sum_i \|g_i\|^2 R_i / \sum_i \|g_i\|^2` with :math:`g_i` the score
        of sample :math:`i` (a step with reward-to-go, an episode without), computed
        with per-sample gradients; ``"value"``: a learned critic :math:`V_\phi(s_t)`
        (with ``reward_to_go=False``, :math:`V_\phi` of the episode's first state),
        regressed on the reward-to-go with weight ``vf_coef`` in the same loss.
    normalize_advantage : bool, default=True
        Standardise the weights (after the baseline) over the batch. Standardising
        subtracts the batch mean, so with it ``baseline=None`` and ``"mean"`` give
        the same update (up to rounding); set it to ``False`` to study the
        baselines themselves.
    discount_gradient : bool, default=False
        The two discount placements of the notes. ``False``: step :math:`t` is
        weighted by :math:`\hat Q_t - b` (the usual practice, a biased estimate of the
        discounted objective's gradient); ``True``: by :math:`\gamma^t (\hat Q_t - b)`
        with :math:`t` counted from the episode's start (across batches), the unbiased
        gradient of :math:`E[\sum_t \gamma^t r_t]` from the start state. Only used
        with ``reward_to_go=True`` (the whole-episode return is already discounted
        from the start).
    n_epochs : int, default=1
        Gradient steps per batch. The first uses the on-policy gradient; the later
        ones reuse the batch off-policy with importance weights
        :math:`w_t = \prod_{t'=t_0}^{t} \pi_\theta(a_{t'} \mid s_{t'}) /
        \pi_{\theta_{old}}(a_{t'} \mid s_{t'})` over the episode's steps up to
        :math:`t` only (the causality trick applied to the weights; :math:`t_0` the
        episode's first step in the batch).
    max_importance_weight : float, default=None
        Truncate the importance weights at this value (``None``: no truncation).
    ent_coef : float, default=0.0
        Entropy bonus coefficient.
    vf_coef : float, default=0.5
        Weight of the critic's squared error in the loss (``baseline="value"``).
    n_critic_updates : int, default=5
        Extra epochs of critic-only Adam steps on minibatches after the policy
        step(s) (``baseline="value"``), as in the separate value-function fit of
        Spinning Up's VPG; they do not move the actor. A better-fitted critic is a
        lower-variance baseline (0: the critic only gets the ``vf_coef`` term of the
        policy step).
    critic_batch_size : int, default=64
        Minibatch size of those epochs.
    max_grad_norm : float, default=None
        Gradient clipping: the global norm of the actor's gradient and that of the
        critic's are clipped separately (clipping them together would let the
        critic's error shrink the policy step); ``None`` disables it.
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    policy_kwargs : dict, default=None
        Policy arguments (``net_arch``, ``activation_fn``, ``ortho_init``,
        ``log_std_init``, ``optimizer_class``, ``optimizer_kwargs``).
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
        Actor (and critic).
    env : stable_baselines3.common.vec_env.VecEnv
        The training environment.
    num_timesteps : int
        Environment steps taken.
    rollout_buffer : RolloutBuffer
        Storage of the last batch.

    Notes
    -----
    Chapter 28 of the notes. The likelihood-ratio identity
    :math:`\nabla_\theta p_\theta(\tau) = p_\theta(\tau) \nabla_\theta \log
    p_\theta(\tau)`, with the dynamics dropping out of :math:`\nabla \log p_\theta`,
    gives

    .. math::

        \nabla_\theta J(\theta) = E_{\tau \sim \pi_\theta}\Big[
            \sum_t \nabla_\theta \log \pi_\theta(a_t \mid s_t)\, R(\tau) \Big].

    *Causality*: an action does not change the rewards before it, so :math:`R(\tau)`
    may be replaced by the reward-to-go :math:`\hat Q_t`; the expectation is the same
    and the variance lower. *Baselines*: since
    :math:`E_{a \sim \pi}[\nabla \log \pi(a \mid s)] = \nabla \sum_a \pi(a \mid s) =
    0`, subtracting any :math:`b` that does not depend on :math:`a_t` (a constant, or
    a function of :math:`s_t`) leaves the gradient unbiased. The variance of
    :math:`g (R - b)` is a quadratic in :math:`b`, minimised by

    .. math::

        b^\star = \frac{E[\|\nabla_\theta \log \pi_\theta\|^2 R]}
                       {E[\|\nabla_\theta \log \pi_\theta\|^2]}

    (:func:`mlnotes.rl.common.returns.optimal_baseline`). *Discounting*: the
    gradient of :math:`E[\sum_t \gamma^t r_t]` weights step :math:`t` by
    :math:`\gamma^t \hat Q_t` (``discount_gradient=True``); the common practice drops
    the :math:`\gamma^t`. *Importance sampling*: samples of
    :math:`\pi_{\theta_{old}}` estimate the gradient at :math:`\theta` with

    .. math::

        \nabla_\theta J(\theta) \approx \frac1N \sum_{i,t}
            \Big(\prod_{t' \le t} \frac{\pi_\theta(a_{i,t'} \mid s_{i,t'})}
            {\pi_{\theta_{old}}(a_{i,t'} \mid s_{i,t'})}\Big)
            \nabla_\theta \log \pi_\theta(a_{i,t} \mid s_{i,t})\, (\hat Q_{i,t} - b),

    where the ratios of the steps after :math:`t` (which weight the future rewards)
    are dropped, as in the notes. The loss of one gradient step is
    :math:`-\frac1N \sum w_t A_t \log \pi_\theta(a_t \mid s_t)
    + c_v \frac1N \sum (\hat Q_t - V_\phi(s_t))^2 - c_e \frac1N \sum H_t`, with the
    weights :math:`w_t` (1 in the first epoch) and advantages :math:`A_t` held
    constant.

    References
    ----------
    .. [1] R. J. Williams, "Simple statistical gradient-following algorithms for
       connectionist reinforcement learning", Machine Learning 8, 1992.
    .. [2] L. Weaver and N. Tao, "The optimal reward baseline for gradient-based
       reinforcement learning", UAI 2001.

    Examples
    --------
    >>> from mlnotes.rl import REINFORCE
    >>> agent = REINFORCE("MlpPolicy", "CartPole-v1", n_steps=100, seed=0).learn(200)
    >>> action, _ = agent.predict(agent.env.reset(), deterministic=True)
    >>> action.shape
    (1,)
    """

    # Dict observations (MultiInputPolicy) are not supported by this file's update
    policy_aliases = {k: v for k, v in OnPolicyAlgorithm.policy_aliases.items()
                      if k != "MultiInputPolicy"}

    def __init__(self, policy, env, learning_rate=LinearSchedule(3e-3, 1e-4), n_steps=250,
                 gamma=0.99, reward_to_go=True, baseline="value", normalize_advantage=True,
                 discount_gradient=False, n_epochs=1, max_importance_weight=None,
                 ent_coef=0.0, vf_coef=0.5, n_critic_updates=5, critic_batch_size=64,
                 max_grad_norm=None, stats_window_size=100, tensorboard_log=None,
                 policy_kwargs=None, verbose=0, seed=None, device="auto",
                 _init_setup_model=True):
        super().__init__(policy, env, learning_rate=learning_rate, n_steps=n_steps,
                         gamma=gamma, gae_lambda=1.0, ent_coef=ent_coef, vf_coef=vf_coef,
                         max_grad_norm=max_grad_norm, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, verbose=verbose, seed=seed,
                         device=device)
        if not any(baseline is b or (isinstance(baseline, str) and baseline == b)
                   for b in _BASELINES):
            raise ValueError(
                f"baseline must be one of None, 'mean', 'optimal', 'value'; got {baseline!r}.")
        check_int(n_epochs, "n_epochs", 1)
        check_int(n_critic_updates, "n_critic_updates", 0)
        check_int(critic_batch_size, "critic_batch_size", 1)
        self.n_critic_updates = int(n_critic_updates)
        self.critic_batch_size = int(critic_batch_size)
        if max_importance_weight is not None:
            check_real(max_importance_weight, "max_importance_weight", 0, low_open=True)
        self.reward_to_go = bool(reward_to_go)
        self.baseline = baseline
        self.normalize_advantage = bool(normalize_advantage)
        self.discount_gradient = bool(discount_gradient)
        self.n_epochs = int(n_epochs)
        self.max_importance_weight = (None if max_importance_weight is None
                                      else float(max_importance_weight))
        self._episode_step = None
        if _init_setup_model:
            self._setup_model()

    # ------------------------------------------------------------------ hooks

    def _setup_learn(self, total_timesteps, callback=None, reset_num_timesteps=True,
                     tb_log_name="run", progress_bar=False):
        if reset_num_timesteps or self._last_obs is None or self._episode_step is None:
            # the env is reset: every episode starts at step 0
            self._episode_step = np.zeros(
                self.env.num_envs if self.env is not None else 1, dtype=np.int64)
        return super()._setup_learn(total_timesteps, callback, reset_num_timesteps,
                                    tb_log_name, progress_bar)

    def _bootstrap_truncated(self, rewards, dones, infos):
        # Without a trained critic a time-limit end is treated as the episode's end.
        if self.baseline != "value":
            return rewards
        return super()._bootstrap_truncated(rewards, dones, infos)

    # ------------------------------------------------------------------ the estimator

    def _batch_weights(self):
        """Reward-to-go, weights and episode bookkeeping of the batch, ``(T, n_envs)``.

        Returns a dict of numpy arrays: ``targets`` (the reward-to-go, the critic's
        regression target), ``returns`` (the weights before the baseline),
        ``first`` (index of each step's episode start in the batch), ``t_index``
        (step within the episode).
        """
        buf = self.rollout_buffer
        T = buf.pos
        rewards, dones = buf.rewards[:T], buf.dones[:T]
        if self.baseline == "value":
            with torch.no_grad():
                last_values = self.policy.predict_values(
                    torch.as_tensor(self._last_obs, device=self.device)).cpu().numpy()
        else:
            last_values = np.zeros(buf.n_envs, dtype=np.float32)
        rtg = reward_to_go(rewards, dones, self.gamma, last_values).astype(np.float32)
        first = _episode_first_index((~dones).astype(np.float32))
        steps = np.arange(T)[:, None]
        carry = self._episode_step
        if carry is None or carry.shape[0] != buf.n_envs:
            carry = np.zeros(buf.n_envs, dtype=np.int64)
        t_index = steps - first + np.where(first == 0, carry[None, :], 0)
        self._episode_step = np.where(dones[-1], 0, t_index[-1] + 1)
        returns = rtg if self.reward_to_go else np.take_along_axis(rtg, first, axis=0)
        return dict(targets=rtg, returns=returns, first=first, t_index=t_index)

    def _scores(self, obs, actions):
        """Per-sample scores ``grad_theta log pi(a_i | s_i)`` of the actor, ``(N, P)``."""
        policy = self.policy
        names = [n for n, p in policy.named_parameters() if not n.startswith("value_net")]
        params = {n: p.detach() for n, p in policy.named_parameters() if n in names}
        module = _LogProb(policy)

        def logp(p, o, a):
            out = torch.func.functional_call(
                module, {"policy." + k: v for k, v in p.items()},
                (o.unsqueeze(0), a.unsqueeze(0)))
            return out[0]

        try:
            grads = torch.func.vmap(torch.func.grad(logp), in_dims=(None, 0, 0))(
                params, obs, actions)
            return torch.cat([grads[n].reshape(obs.shape[0], -1) for n in names], dim=1)
        except RuntimeError:  # an operation without a batching rule: one at a time
            rows = []
            plist = [p for n, p in policy.named_parameters() if n in names]
            for i in range(obs.shape[0]):
                lp = module(obs[i:i + 1], actions[i:i + 1])[0]
                g = torch.autograd.grad(lp, plist, allow_unused=True)
                rows.append(torch.cat([(torch.zeros_like(q) if gi is None else gi).reshape(-1)
                                       for gi, q in zip(g, plist)]))
            return torch.stack(rows)

    def _advantages(self, w, obs, actions):
        """Baseline-subtracted (optionally normalised and discounted) weights, ``(N,)``."""
        buf = self.rollout_buffer
        returns, t_index = w["returns"], w["t_index"]
        discount = (self.gamma ** t_index.astype(np.float64)).astype(np.float32) \
            if (self.discount_gradient and self.reward_to_go) else None
        if self.baseline is None:
            b = np.float32(0.0)
        elif self.baseline == "mean":
            b = returns.mean()
        elif self.baseline == "value":
            values = buf.values[:buf.pos]
            b = values if self.reward_to_go else np.take_along_axis(values, w["first"], 0)
        else:  # optimal
            scores = self._scores(obs, actions).double()
            if self.reward_to_go:
                sq = scores.square().sum(1).cpu().numpy()
                if discount is not None:
                    sq = sq * discount.reshape(-1).astype(np.float64) ** 2
                b = optimal_baseline(sq, returns.reshape(-1).astype(np.float64))
            else:
                # one sample per episode: the score of the whole trajectory
                n_envs = buf.n_envs
                seg = (w["first"] * n_envs + np.arange(n_envs)[None, :]).reshape(-1)
                uniq, inverse = np.unique(seg, return_inverse=True)
                traj = torch.zeros(len(uniq), scores.shape[1], dtype=scores.dtype,
                                   device=scores.device)
                traj.index_add_(0, torch.as_tensor(inverse, device=scores.device), scores)
                ret = np.zeros(len(uniq))
                ret[inverse] = returns.reshape(-1)
                b = optimal_baseline(traj.square().sum(1).cpu().numpy(), ret)
            b = np.float32(b)
        adv = (returns - b).astype(np.float32)
        if self.normalize_advantage and adv.size > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        if discount is not None:
            adv = adv * discount
        self._last_baseline = b
        return torch.as_tensor(adv.reshape(-1), device=self.device)

    def importance_weights(self, log_prob, old_log_prob, first):
        r"""Per-step importance weights with the causality trick.

        Parameters
        ----------
        log_prob : torch.Tensor of shape (T * n_envs,)
            :math:`\log \pi_\theta(a_t \mid s_t)` under the current policy (time first,
            flattened as the rollout buffer does).
        old_log_prob : torch.Tensor of shape (T * n_envs,)
            :math:`\log \pi_{\theta_{old}}(a_t \mid s_t)` at collection time.
        first : numpy.ndarray of shape (T, n_envs)
            Index of the first step in the batch of each step's episode.

        Returns
        -------
        weights : torch.Tensor of shape (T * n_envs,)
            :math:`w_t = \prod_{t'=t_0}^{t} \pi_\theta / \pi_{\theta_{old}}` (detached),
            truncated at ``max_importance_weight`` when given.
        """
        T, n = first.shape
        log_ratio = (log_prob.detach() - old_log_prob).reshape(T, n).double()
        c = torch.cumsum(log_ratio, dim=0)
        c_pad = torch.cat([torch.zeros(1, n, dtype=c.dtype, device=c.device), c])
        idx = torch.as_tensor(first, device=c.device)
        weights = torch.exp(c - c_pad.gather(0, idx)).float().reshape(-1)
        if self.max_importance_weight is not None:
            weights = weights.clamp(max=self.max_importance_weight)
        return weights

    def train(self):
        """Policy-gradient steps on the batch in ``rollout_buffer`` (the loss)."""
        policy = self.policy
        policy.set_training_mode(True)
        self._update_learning_rate(policy.optimizer)
        batch = next(self.rollout_buffer.get(batch_size=None))
        w = self._batch_weights()
        advantages = self._advantages(w, batch.observations, batch.actions)
        targets = torch.as_tensor(w["targets"].reshape(-1), device=self.device)
        use_critic = self.baseline == "value"
        for epoch in range(self.n_epochs):
            values, log_prob, entropy = policy.evaluate_actions(batch.observations,
                                                                batch.actions)
            weights = self.importance_weights(log_prob, batch.old_log_prob, w["first"])
            policy_loss = -(weights * advantages * log_prob).mean()
            entropy_loss = -entropy.mean()
            loss = policy_loss + self.ent_coef * entropy_loss
            if use_critic:
                value_loss = F.mse_loss(values, targets)
                loss = loss + self.vf_coef * value_loss
            self._check_finite_loss(loss)
            policy.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.max_grad_norm is not None:  # actor and critic clipped separately
                for group in _actor_critic_params(policy):
                    nn.utils.clip_grad_norm_(group, self.max_grad_norm)
            policy.optimizer.step()
        if use_critic and self.n_critic_updates:
            value_loss = self._fit_critic(batch.observations, targets)
        self._n_updates += self.n_epochs
        record = self.logger.record
        record("train/n_updates", self._n_updates, exclude="tensorboard")
        record("train/policy_loss", policy_loss.item())
        record("train/entropy_loss", entropy_loss.item())
        record("train/importance_weight_max", weights.max().item())
        if use_critic:
            record("train/value_loss", value_loss.item())
        else:
            record("train/baseline", float(np.mean(self._last_baseline)))
        if policy.log_std is not None:
            record("train/std", torch.exp(policy.log_std).mean().item())

    def _fit_critic(self, obs, targets):
        """``n_critic_updates`` epochs of minibatch Adam on the critic's squared error."""
        policy = self.policy
        actor, _ = _actor_critic_params(policy)
        n = obs.shape[0]
        for _ in range(self.n_critic_updates):
            perm = torch.randperm(n, device=obs.device)
            for start in range(0, n, self.critic_batch_size):
                idx = perm[start:start + self.critic_batch_size]
                value_loss = F.mse_loss(policy.predict_values(obs[idx]), targets[idx])
                self._check_finite_loss(value_loss)
                policy.optimizer.zero_grad(set_to_none=True)
                value_loss.backward()
                for p in actor:  # a shared trunk is moved by the policy step only
                    p.grad = None
                policy.optimizer.step()
        return value_loss


def _actor_critic_params(policy):
    """The parameters the action distribution depends on, and the critic's own."""
    actor, critic = [], []
    for name, p in policy.named_parameters():
        (critic if name.startswith("value_net") else actor).append(p)
    return actor, critic


class _LogProb(nn.Module):
    """``log pi(a | s)`` of a policy as a module (for per-sample gradients)."""

    def __init__(self, policy):
        super().__init__()
        self.policy = policy

    def forward(self, obs, actions):
        params, log_std = self.policy.action_params(obs)
        return self.policy.distribution.log_prob_entropy(params, log_std, actions)[0]
