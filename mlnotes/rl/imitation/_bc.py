"""Behavioural cloning (BC) and goal-conditioned BC, chapter 26.

The file holds the pieces that :class:`BC` and :class:`~mlnotes.rl.DAgger` share: the
imitation policy (:class:`ImitationPolicy`, categorical / Gaussian / mixture-of-Gaussians
/ discretised heads trained by maximum likelihood), the private base agent
(:class:`_ImitationAlgorithm`: demonstration validation, the supervised training loop,
expert-driven data collection) and :func:`hindsight_relabel`.
"""

import math

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.nn import functional as F

from ...utils._validation import check_int, check_real
from ..common.base_class import BaseAlgorithm
from ..common.policies import BasePolicy, _mlp
from ..common.schedules import get_schedule_fn

_LOG_2PI = math.log(2.0 * math.pi)
_HEADS = ("gaussian", "mixture", "discretized")


# --------------------------------------------------------------------------- policy


def _soft_clamp(x, low, high):
    """Clamp ``x`` to ``[low, high]`` smoothly (gradients never vanish completely)."""
    x = high - F.softplus(high - x)
    return low + F.softplus(x - low)


class ImitationPolicy(BasePolicy):
    """MLP policy trained by maximum likelihood (the ``MlpPolicy`` of BC and DAgger).

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space (for goal-conditioned BC, the observation concatenated with
        the goal).
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space.
    lr_schedule : callable
        Learning-rate schedule; ``lr_schedule(1)`` is the optimiser's initial rate.
    head : {"gaussian", "mixture", "discretized"}, default="gaussian"
        Action distribution for Box actions: a diagonal Gaussian with state-dependent
        mean and standard deviation, a mixture of ``n_components`` such Gaussians, or
        every action dimension discretised into ``n_bins`` equal bins between the
        bounds (a categorical per dimension, uniform inside a bin). Discrete actions
        always get a categorical head.
    n_components : int, default=5
        Components of the mixture head.
    n_bins : int, default=21
        Bins per action dimension of the discretised head.
    net_arch : list of int, default=(64, 64)
        Hidden layer sizes.
    activation_fn : type of torch.nn.Module, default=torch.nn.Tanh
        Activation after every hidden layer.
    log_std_bounds : tuple of float, default=(-7.0, 2.0)
        Soft bounds of the Gaussian log standard deviations (in the scaled action
        space, where bounded actions live in [-1, 1]).
    optimizer_class : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimiser class.
    optimizer_kwargs : dict, default=None
        Extra optimiser arguments (Adam gets ``fused=True`` unless ``fused`` or
        ``foreach`` is given).

    Attributes
    ----------
    body : torch.nn.Sequential
        The hidden layers.
    head_net : torch.nn.Linear
        Layer giving the distribution parameters.
    optimizer : torch.optim.Optimizer
        The optimiser of all the parameters.

    Notes
    -----
    Bounded Box actions are modelled in the scaled space
    :math:`u = (a - c) / h \\in [-1, 1]` (centre :math:`c`, half-width :math:`h` of
    the bounds); densities of :math:`a` include the Jacobian :math:`-\\sum_j \\log h_j`.
    Unbounded dimensions use :math:`c = 0, h = 1`.
    """

    def __init__(self, observation_space, action_space, lr_schedule, head="gaussian",
                 n_components=5, n_bins=21, net_arch=(64, 64), activation_fn=nn.Tanh,
                 log_std_bounds=(-7.0, 2.0), optimizer_class=torch.optim.Adam,
                 optimizer_kwargs=None):
        super().__init__(observation_space, action_space)
        if head not in _HEADS:
            raise ValueError(f"policy_head must be one of {_HEADS}, got {head!r}.")
        for size in net_arch:
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"net_arch layer sizes must be positive integers, got {net_arch!r}.")
        self.discrete = isinstance(action_space, spaces.Discrete)
        self.head = "categorical" if self.discrete else head
        self.n_components = int(n_components)
        self.n_bins = int(n_bins)
        self.log_std_bounds = (float(log_std_bounds[0]), float(log_std_bounds[1]))
        self.body, latent = _mlp(self.features_dim, list(net_arch), activation_fn)
        if self.discrete:
            self.action_dim = 1
            n_out = int(action_space.n)
        else:
            self.action_dim = int(np.prod(action_space.shape))
            low = np.asarray(action_space.low, dtype=np.float64).reshape(-1)
            high = np.asarray(action_space.high, dtype=np.float64).reshape(-1)
            bounded = np.isfinite(low) & np.isfinite(high)
            if self.head == "discretized" and not bounded.all():
                raise ValueError(
                    "policy_head='discretized' needs a Box action space with finite bounds "
                    f"(got low={action_space.low}, high={action_space.high}); use "
                    "'gaussian' or 'mixture'."
                )
            center = np.where(bounded, (low + high) / 2.0, 0.0)
            scale = np.where(bounded, (high - low) / 2.0, 1.0)
            scale = np.where(scale > 0, scale, 1.0)
            self.register_buffer("act_center", torch.as_tensor(center, dtype=torch.float32))
            self.register_buffer("act_scale", torch.as_tensor(scale, dtype=torch.float32))
            d, k = self.action_dim, self.n_components
            n_out = {"gaussian": 2 * d, "mixture": k + 2 * k * d,
                     "discretized": d * self.n_bins}[self.head]
        self.head_net = nn.Linear(latent, n_out)
        if self.head == "mixture":
            with torch.no_grad():  # spread the initial component means over [-1, 1]
                bias = self.head_net.bias.view(-1)
                k, d = self.n_components, self.action_dim
                spread = torch.linspace(-0.5, 0.5, k) if k > 1 else torch.zeros(1)
                bias[k:k + k * d] = spread.repeat_interleave(d)
        optimizer_kwargs = dict(optimizer_kwargs or {})
        if optimizer_class is torch.optim.Adam and not {"fused", "foreach"} & set(optimizer_kwargs):
            optimizer_kwargs["fused"] = True  # one kernel per step: ~1.5x faster small steps
        self.optimizer_class = optimizer_class
        self.optimizer_kwargs = optimizer_kwargs
        self.optimizer = optimizer_class(self.parameters(), lr=lr_schedule(1), **optimizer_kwargs)

    # ------------------------------------------------------------------ parameters

    def distribution_params(self, obs):
        """Parameters of the action distribution for a batch of observations.

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.

        Returns
        -------
        params : dict of str to torch.Tensor
            ``logits`` (n, n_actions) for the categorical head; ``mean`` and
            ``log_std`` (n, action_dim) for the Gaussian; ``logits`` (n, K),
            ``mean`` and ``log_std`` (n, K, action_dim) for the mixture; ``logits``
            (n, action_dim, n_bins) for the discretised head. Gaussian parameters are
            in the scaled action space.
        """
        out = self.head_net(self.body(self.preprocess_obs(obs)))
        n, d, k = out.shape[0], self.action_dim, self.n_components
        low, high = self.log_std_bounds
        if self.head == "categorical":
            return {"logits": out}
        if self.head == "gaussian":
            return {"mean": out[:, :d], "log_std": _soft_clamp(out[:, d:], low, high)}
        if self.head == "mixture":
            mean = out[:, k:k + k * d].reshape(n, k, d)
            log_std = _soft_clamp(out[:, k + k * d:].reshape(n, k, d), low, high)
            return {"logits": out[:, :k], "mean": mean, "log_std": log_std}
        return {"logits": out.reshape(n, d, self.n_bins)}

    def _scale(self, actions):
        return (actions.reshape(actions.shape[0], -1).float() - self.act_center) / self.act_scale

    def _unscale(self, u):
        return u * self.act_scale + self.act_center

    def _bin_index(self, u):
        idx = torch.floor((u + 1.0) * 0.5 * self.n_bins).long()
        return idx.clamp_(0, self.n_bins - 1)

    def log_prob_entropy(self, obs, actions):
        """Log-likelihoods of given actions and the entropy of the policy.

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.
        actions : torch.Tensor
            Actions, shape ``(n,)`` (Discrete) or ``(n,) + action_shape`` (Box).

        Returns
        -------
        log_prob : torch.Tensor of shape (n,)
            ``log pi(a | s)``: a log-probability (categorical) or a log-density of the
            unscaled action (Box heads; the discretised head's density is uniform
            inside each bin).
        entropy : torch.Tensor of shape (n,)
            Entropy of ``pi(. | s)`` (differential for Box heads, in the unscaled
            action space); for the mixture, the upper bound
            :math:`H(w) + \\sum_k w_k H(\\mathcal N_k)`.
        """
        p = self.distribution_params(obs)
        if self.head == "categorical":
            log_p = torch.log_softmax(p["logits"], dim=-1)
            log_prob = log_p.gather(-1, actions.reshape(-1, 1).long()).squeeze(-1)
            return log_prob, -(log_p.exp() * log_p).sum(-1)
        log_jac = torch.log(self.act_scale).sum()
        u = self._scale(actions)
        if self.head == "gaussian":
            mean, log_std = p["mean"], p["log_std"]
            z = (u - mean) * torch.exp(-log_std)
            log_prob = -(0.5 * z.square() + log_std + 0.5 * _LOG_2PI).sum(-1)
            entropy = (log_std + 0.5 * (1.0 + _LOG_2PI)).sum(-1)
            return log_prob - log_jac, entropy + log_jac
        if self.head == "mixture":
            log_w = torch.log_softmax(p["logits"], dim=-1)
            mean, log_std = p["mean"], p["log_std"]
            z = (u.unsqueeze(1) - mean) * torch.exp(-log_std)
            comp = -(0.5 * z.square() + log_std + 0.5 * _LOG_2PI).sum(-1)
            log_prob = torch.logsumexp(log_w + comp, dim=-1)
            w = log_w.exp()
            comp_entropy = (log_std + 0.5 * (1.0 + _LOG_2PI)).sum(-1)
            entropy = (w * (comp_entropy - log_w)).sum(-1)
            return log_prob - log_jac, entropy + log_jac
        log_p = torch.log_softmax(p["logits"], dim=-1)  # (n, d, bins)
        idx = self._bin_index(u).unsqueeze(-1)
        log_width = math.log(2.0 / self.n_bins)
        log_prob = (log_p.gather(-1, idx).squeeze(-1) - log_width).sum(-1)
        entropy = (-(log_p.exp() * log_p).sum(-1) + log_width).sum(-1)
        return log_prob - log_jac, entropy + log_jac

    def _predict(self, obs, deterministic=False):
        p = self.distribution_params(obs)
        if self.head == "categorical":
            if deterministic:
                return p["logits"].argmax(-1)
            return torch.multinomial(torch.softmax(p["logits"], -1), 1).squeeze(-1)
        if self.head == "gaussian":
            u = p["mean"]
            if not deterministic:
                u = u + torch.randn_like(u) * p["log_std"].exp()
            return self._unscale(u)
        if self.head == "mixture":
            n = p["mean"].shape[0]
            if deterministic:  # the mean of the most probable component (a mode, not
                k = p["logits"].argmax(-1)  # the mixture mean, which averages modes)
            else:
                k = torch.multinomial(torch.softmax(p["logits"], -1), 1).squeeze(-1)
            rows = torch.arange(n, device=k.device)
            u = p["mean"][rows, k]
            if not deterministic:
                u = u + torch.randn_like(u) * p["log_std"][rows, k].exp()
            return self._unscale(u)
        logits = p["logits"]
        if deterministic:
            idx = logits.argmax(-1).float()
            offset = 0.5
        else:
            n, d, b = logits.shape
            idx = torch.multinomial(torch.softmax(logits, -1).reshape(n * d, b), 1)
            idx = idx.reshape(n, d).float()
            offset = torch.rand_like(idx)
        u = (idx + offset) * (2.0 / self.n_bins) - 1.0
        return self._unscale(u)


# --------------------------------------------------------------------------- relabelling


def hindsight_relabel(observations, dones=None, next_observations=None, goal_indices=None):
    """Goals of goal-conditioned BC: the final state of each step's trajectory.

    Parameters
    ----------
    observations : array-like of shape (n_steps,) + obs_shape
        Observations of one or several consecutive trajectories, in time order.
    dones : array-like of shape (n_steps,), default=None
        ``dones[t]`` is true when the trajectory ends after step ``t`` (the last
        step of the data always ends one). ``None``: one trajectory.
    next_observations : array-like of shape (n_steps,) + obs_shape, default=None
        Observations after each step. When given, the final state of a trajectory
        is ``next_observations[end]`` (the state reached by its last action);
        otherwise ``observations[end]`` (its last recorded state).
    goal_indices : array-like of int, default=None
        Indices of the flattened observation that make up a goal; ``None``: the
        whole observation.

    Returns
    -------
    goals : numpy.ndarray of shape (n_steps, goal_dim)
        ``goals[t]`` is the final state of the trajectory of step ``t``,
        restricted to ``goal_indices``.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.rl.imitation._bc import hindsight_relabel
    >>> obs = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    >>> hindsight_relabel(obs, dones=[0, 0, 1, 0, 1]).ravel().tolist()
    [2.0, 2.0, 2.0, 11.0, 11.0]
    """
    obs = np.asarray(observations)
    n = obs.shape[0]
    flat = obs.reshape(n, -1)
    final = flat if next_observations is None else np.asarray(next_observations).reshape(n, -1)
    if final.shape != flat.shape:
        raise ValueError(
            f"next_observations has shape {np.shape(next_observations)}; expected "
            f"{obs.shape} like observations."
        )
    ends = np.zeros(n, dtype=bool) if dones is None else np.asarray(dones).astype(bool).reshape(-1)
    if ends.shape != (n,):
        raise ValueError(f"dones has {ends.size} entries for {n} observations.")
    if n == 0:
        return flat[:, _goal_cols(flat.shape[1], goal_indices)].copy()
    ends = ends.copy()
    ends[-1] = True
    end_index = np.flatnonzero(ends)
    # the end of step t's trajectory: the first end at or after t
    owner = end_index[np.searchsorted(end_index, np.arange(n))]
    return final[owner][:, _goal_cols(flat.shape[1], goal_indices)].copy()


def _goal_cols(dim, goal_indices):
    if goal_indices is None:
        return np.arange(dim)
    cols = np.asarray(goal_indices)
    if cols.ndim != 1 or cols.size == 0 or not np.issubdtype(cols.dtype, np.integer) \
            or cols.min() < -dim or cols.max() >= dim:
        raise ValueError(
            f"goal_indices must be a non-empty list of indices into the {dim} observation "
            f"features, got {goal_indices!r}."
        )
    return cols


# --------------------------------------------------------------------------- checks


def _check_expert(expert, name):
    if expert is not None and not callable(getattr(expert, "predict", None)):
        raise TypeError(
            f"{name}'s expert must have SB3's predict(obs, deterministic=True) -> "
            f"(action, state) method, got {type(expert).__name__}."
        )


# --------------------------------------------------------------------------- base agent


class _ImitationAlgorithm(BaseAlgorithm):
    """Shared part of BC and DAgger: policy, demonstrations, training, expert rollouts."""

    policy_aliases = {"MlpPolicy": ImitationPolicy}

    def __init__(self, policy, env, expert, learning_rate, batch_size, n_epochs, ent_weight,
                 l2_weight, policy_head, n_components, n_bins, policy_kwargs,
                 stats_window_size, tensorboard_log, verbose, seed, device):
        super().__init__(policy, env, learning_rate, policy_kwargs=policy_kwargs,
                         stats_window_size=stats_window_size, tensorboard_log=tensorboard_log,
                         verbose=verbose, device=device, seed=seed)
        name = type(self).__name__
        _check_expert(expert, name)
        check_int(batch_size, "batch_size", 1)
        check_int(n_epochs, "n_epochs", 1)
        check_real(ent_weight, "ent_weight", 0)
        check_real(l2_weight, "l2_weight", 0)
        if policy_head not in _HEADS:
            raise ValueError(f"policy_head must be one of {_HEADS}, got {policy_head!r}.")
        check_int(n_components, "n_components", 1)
        check_int(n_bins, "n_bins", 2)
        self.expert = expert
        self.batch_size, self.n_epochs = int(batch_size), int(n_epochs)
        self.ent_weight, self.l2_weight = float(ent_weight), float(l2_weight)
        self.policy_head, self.n_components, self.n_bins = policy_head, int(n_components), int(n_bins)
        self._rng = None

    # ------------------------------------------------------------------ model

    def _policy_observation_space(self):
        return self.observation_space

    def _build_policy(self):
        kwargs = dict(head=self.policy_head, n_components=self.n_components, n_bins=self.n_bins)
        kwargs.update(self.policy_kwargs)
        return self.policy_class(self._policy_observation_space(), self.action_space,
                                 self.lr_schedule, **kwargs).to(self.device)

    def _setup_model(self):
        self.lr_schedule = get_schedule_fn(self.learning_rate)
        self.set_random_seed(self.seed)
        self._rng = np.random.default_rng(self.seed)
        self.policy = self._build_policy()

    # ------------------------------------------------------------------ demonstrations

    def _check_observations(self, observations, space, what="observations"):
        name = type(self).__name__
        obs = np.asarray(observations)
        if obs.dtype == object or not (np.issubdtype(obs.dtype, np.number)
                                       or obs.dtype == bool):
            raise TypeError(f"{name}: {what} must be numeric, got dtype {obs.dtype}.")
        if isinstance(space, spaces.Discrete):
            if obs.ndim != 1:
                raise ValueError(
                    f"{name}: {what} must have shape (n_samples,) for the Discrete "
                    f"observation space {space}, got {obs.shape}.")
        elif obs.ndim < 1 or obs.shape[1:] != space.shape:
            raise ValueError(
                f"{name}: {what} must have shape (n_samples, {', '.join(map(str, space.shape))})"
                f" for the observation space {space}, got {obs.shape}.")
        if not np.all(np.isfinite(obs)):
            raise ValueError(f"{name}: {what} contain NaN or infinity.")
        if isinstance(space, spaces.Discrete):
            if not np.all(obs == np.round(obs)) or obs.size and (
                    obs.min() < space.start or obs.max() >= space.start + space.n):
                raise ValueError(f"{name}: {what} must be integers in the space {space}.")
            return obs.astype(np.int64)
        return obs.astype(np.float32)

    def _check_actions(self, actions, n):
        name = type(self).__name__
        space = self.action_space
        act = np.asarray(actions)
        if act.dtype == object or not (np.issubdtype(act.dtype, np.number) or act.dtype == bool):
            raise TypeError(f"{name}: actions must be numeric, got dtype {act.dtype}.")
        if act.shape[:1] != (n,):
            raise ValueError(
                f"{name}: got {act.shape[0] if act.ndim else 'a scalar of'} actions for {n} "
                "observations; observations and actions must have the same length.")
        if not np.all(np.isfinite(act)):
            raise ValueError(f"{name}: actions contain NaN or infinity.")
        if isinstance(space, spaces.Discrete):
            if act.ndim == 2 and act.shape[1] == 1:
                act = act[:, 0]
            if act.ndim != 1:
                raise ValueError(
                    f"{name}: actions must have shape (n_samples,) for the Discrete action "
                    f"space {space}, got {act.shape}.")
            if np.issubdtype(act.dtype, np.complexfloating) or not np.all(act == np.round(act)):
                raise TypeError(
                    f"{name}: actions of the Discrete action space {space} must be integers, "
                    f"got dtype {act.dtype} with non-integer values.")
            if act.size and (act.min() < space.start or act.max() >= space.start + space.n):
                raise ValueError(
                    f"{name}: actions must be in [{space.start}, {space.start + space.n - 1}] "
                    f"for the action space {space}.")
            return act.astype(np.int64) - int(space.start)
        if act.shape[1:] != space.shape:
            if act.ndim == 1 and space.shape == (1,):
                act = act[:, None]
            else:
                raise ValueError(
                    f"{name}: actions must have shape (n_samples, "
                    f"{', '.join(map(str, space.shape))}) for the action space {space}, got "
                    f"{act.shape}.")
        if np.issubdtype(act.dtype, np.complexfloating):
            raise TypeError(f"{name}: actions must be real numbers, got dtype {act.dtype}.")
        return act.astype(np.float32)

    # ------------------------------------------------------------------ training

    def _train(self, observations, actions, n_epochs):
        """Maximum-likelihood epochs on ``(observations, actions)`` (numpy arrays)."""
        n = len(actions)
        if n == 0:
            return
        policy = self.policy
        policy.set_training_mode(True)
        obs_t = torch.as_tensor(observations, device=self.device)
        act_t = torch.as_tensor(actions, device=self.device)
        batch = min(self.batch_size, n)
        per_epoch = -(-n // batch)
        total = n_epochs * per_epoch
        for epoch in range(n_epochs):
            order = torch.as_tensor(self._rng.permutation(n), device=self.device)
            for k, start in enumerate(range(0, n, batch)):
                self._current_progress_remaining = 1.0 - (epoch * per_epoch + k) / total
                self._update_learning_rate(policy.optimizer)
                idx = order[start:start + batch]
                log_prob, entropy = policy.log_prob_entropy(obs_t[idx], act_t[idx])
                neglogp = -log_prob.mean()
                loss = neglogp
                if self.ent_weight:
                    loss = loss - self.ent_weight * entropy.mean()
                if self.l2_weight:
                    l2 = sum(p.square().sum() for p in policy.parameters())
                    loss = loss + 0.5 * self.l2_weight * l2
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"{type(self).__name__} training diverged: the loss is {loss.item()} "
                        f"at update {self._n_updates}. Lower the learning rate or check the "
                        "demonstrations.")
                policy.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                policy.optimizer.step()
                self._n_updates += 1
        policy.set_training_mode(False)
        self.logger.record("train/neglogp", neglogp.item())
        self.logger.record("train/entropy", entropy.mean().item())
        self.logger.record("train/loss", loss.item())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/n_samples", n)

    # ------------------------------------------------------------------ acting

    def _policy_obs(self, obs, goal):
        return obs

    def log_prob(self, observations, actions, goals=None):
        """Log-likelihood of actions under the learned policy.

        Parameters
        ----------
        observations : array-like of shape (n_samples,) + obs_shape
            Observations (for goal-conditioned BC without ``goals``: observations
            already concatenated with their goals).
        actions : array-like of shape (n_samples,) + action_shape
            Actions.
        goals : array-like of shape (n_samples, goal_dim), default=None
            Goals, concatenated to ``observations`` (goal-conditioned BC only).

        Returns
        -------
        log_prob : numpy.ndarray of shape (n_samples,)
            ``log pi(a | s)`` in float64: log-probabilities for Discrete actions,
            log-densities for Box actions.
        """
        obs = self._policy_obs(np.asarray(observations), goals)
        obs = self._check_observations(obs, self.policy.observation_space)
        act = self._check_actions(actions, obs.shape[0])
        self.policy.set_training_mode(False)
        with torch.no_grad():
            log_prob, _ = self.policy.log_prob_entropy(
                torch.as_tensor(obs, device=self.device), torch.as_tensor(act, device=self.device))
        return log_prob.double().cpu().numpy()

    def _expert_actions(self, obs):
        name = type(self).__name__
        out = self.expert.predict(obs, deterministic=True)
        actions = np.asarray(out[0] if isinstance(out, tuple) else out)
        n = self.env.num_envs
        shape = (n, *self.action_space.shape)
        if actions.size != int(np.prod(shape)):
            raise ValueError(
                f"{name}: the expert's predict returned actions of shape {actions.shape} for "
                f"{n} observation(s); expected {shape}.")
        actions = actions.reshape(shape)
        if not np.all(np.isfinite(actions)):
            raise ValueError(f"{name}: the expert's predict returned NaN or infinite actions.")
        if isinstance(self.action_space, spaces.Discrete):
            return actions.astype(np.int64)
        return actions.astype(np.float32)

    def _collect(self, n_steps, callback, beta, total_timesteps, storage):
        """Step the env ``n_steps`` times (vectorised steps), labelling every state.

        Each env's action comes from the expert with probability ``beta`` and from the
        learner (deterministic) otherwise; every visited observation is stored with
        the expert's action. Returns ``False`` when a callback asked to stop.
        """
        env = self.env
        box = isinstance(self.action_space, spaces.Box)
        start = 0 if box else int(self.action_space.start)
        for _ in range(n_steps):
            obs = self._last_obs
            expert_actions = self._expert_actions(obs)
            if beta >= 1.0:
                use_expert = np.ones(env.num_envs, dtype=bool)
                actions = expert_actions
            else:
                use_expert = self._rng.random(env.num_envs) < beta
                with torch.inference_mode():  # env observations: no validation needed
                    learner_actions = self.policy._predict(
                        torch.as_tensor(obs, device=self.device), deterministic=True)
                learner_actions = learner_actions.cpu().numpy().reshape(expert_actions.shape)
                learner_actions = learner_actions.astype(expert_actions.dtype) + start
                mask = use_expert.reshape((-1,) + (1,) * (expert_actions.ndim - 1))
                actions = np.where(mask, expert_actions, learner_actions)
            env_actions = np.clip(actions, self.action_space.low, self.action_space.high) \
                if box else actions
            new_obs, rewards, dones, infos = env.step(env_actions)
            self.num_timesteps += env.num_envs
            next_obs = np.array(new_obs, copy=True)
            for i in np.flatnonzero(dones):
                terminal = infos[i].get("terminal_observation")
                if terminal is not None:
                    next_obs[i] = terminal
            storage["observations"].append(np.array(obs, copy=True))
            storage["actions"].append(expert_actions - start)
            storage["dones"].append(np.asarray(dones, dtype=bool).copy())
            storage["next_observations"].append(next_obs)
            storage["expert_acted"].append(use_expert)
            callback.update_locals(locals())
            if not callback.on_step():
                return False
            self._update_info_buffer(infos, dones)
            if dones.any():
                self._episode_num += int(dones.sum())
            self._last_obs = new_obs
            self._last_episode_starts = dones
        return True

    def _require_expert(self):
        if self.expert is None:
            raise ValueError(
                f"{type(self).__name__}.learn needs an expert (anything with SB3's "
                "predict(obs, deterministic=True)): pass expert=... to the constructor, or "
                "to load(); BC can also fit a fixed dataset with fit(observations, actions).")


def _empty_storage():
    return {k: [] for k in ("observations", "actions", "dones", "next_observations",
                            "expert_acted")}


# --------------------------------------------------------------------------- BC


class BC(_ImitationAlgorithm):
    """Behavioural cloning: supervised maximum likelihood of expert actions.

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` or a policy class (:class:`ImitationPolicy` or a subclass).
    env : gymnasium.Env, stable_baselines3.common.vec_env.VecEnv, str or None
        The environment (an id string is made with ``gymnasium.make``): it fixes the
        spaces, and ``learn`` collects the expert's demonstrations in it. Box or
        Discrete observations, Box or Discrete actions.
    expert : object, default=None
        Anything with SB3's ``predict(obs, deterministic=True) -> (action, state)``
        (an SB3 model, an mlnotes agent, a scripted controller), called on batches of
        ``(n_envs,) + obs_shape`` observations; needed by ``learn`` only. It is held
        by reference and never saved: pass it again to ``load``.
    learning_rate : float or callable, default=1e-3
        Adam's learning rate, or a schedule of the remaining progress (over epochs).
    batch_size : int, default=32
        Minibatch size.
    n_epochs : int, default=30
        Passes over the demonstrations per ``fit``/``learn``.
    ent_weight : float, default=1e-3
        Weight of the entropy bonus (as the ``imitation`` library's BC).
    l2_weight : float, default=0.0
        Weight of :math:`\\tfrac12\\|\\theta\\|^2`.
    policy_head : {"gaussian", "mixture", "discretized"}, default="gaussian"
        Distribution of Box actions: diagonal Gaussian, mixture of ``n_components``
        Gaussians, or ``n_bins`` bins per action dimension (multimodal options).
        Discrete actions always use a categorical.
    n_components : int, default=5
        Components of the mixture head.
    n_bins : int, default=21
        Bins per dimension of the discretised head.
    goal_conditioned : bool, default=False
        Condition the policy on a goal: the policy sees
        ``concatenate([observation.ravel(), goal])``, and demonstrations are relabelled
        with the final state of their trajectory as the goal (hindsight relabelling).
        Needs a Box observation space.
    goal_indices : list of int, default=None
        Features of the flattened observation that make a goal (``None``: all).
    policy_kwargs : dict, default=None
        Policy arguments: ``net_arch`` (default ``(64, 64)``), ``activation_fn``,
        ``log_std_bounds``, ``optimizer_class``, ``optimizer_kwargs``.
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    verbose : int, default=0
        0 silent, 1 training information.
    seed : int, default=None
        Seed of python, numpy, torch (globally, as SB3), the env, the minibatch
        order.
    device : str or torch.device, default="auto"
        Device of the network.
    _init_setup_model : bool, default=True
        Build the network now (``load`` builds it after setting the spaces).

    Attributes
    ----------
    policy : ImitationPolicy
        The learned policy.
    env : stable_baselines3.common.vec_env.VecEnv
        The environment.
    num_timesteps : int
        Expert transitions collected by ``learn``.
    demonstrations : dict of str to numpy.ndarray
        The data of the last ``fit``/``learn``: ``observations`` (what the policy
        sees, goals included), ``actions``, and for ``learn`` also ``dones`` and
        ``next_observations``.

    Notes
    -----
    Chapter 26 of the notes. Given demonstrations :math:`\\mathcal D = \\{(s_i,
    a_i)\\}` of an expert :math:`\\pi^*`, BC maximises the likelihood

    .. math::

        \\max_\\theta \\frac1N \\sum_i \\log \\pi_\\theta(a_i \\mid s_i)
        + \\lambda_H \\frac1N \\sum_i H(\\pi_\\theta(\\cdot \\mid s_i))
        - \\tfrac{\\lambda_2}{2} \\|\\theta\\|^2,

    a cross-entropy for Discrete actions and a Gaussian (mixture) negative
    log-likelihood for Box actions. Errors compound: a policy with per-step error
    :math:`\\epsilon` on the expert's state distribution can drift to unseen states
    and lose :math:`O(\\epsilon T^2)` over a horizon :math:`T` (DAgger fixes this).

    A single Gaussian fitted to multimodal demonstrations (go left or right of an
    obstacle) puts its mean between the modes; the mixture head

    .. math::

        \\pi_\\theta(a \\mid s) = \\sum_{k=1}^K w_k(s)\\,
        \\mathcal N(a; \\mu_k(s), \\operatorname{diag}\\sigma_k^2(s))

    and the discretised head (a categorical per action dimension) keep the modes;
    ``predict(deterministic=True)`` returns the mean of the most probable component
    or the centre of the most probable bin.

    Goal-conditioned BC learns :math:`\\pi_\\theta(a \\mid s, g)`; any trajectory
    :math:`s_0, a_0, \\dots, s_T` demonstrates how to reach its own final state, so
    each step is relabelled with :math:`g = s_T` (restricted to ``goal_indices``)
    and the policy trained on :math:`(\\,[s_t, g],\\ a_t)`. ``learn`` takes
    :math:`s_T` as the observation reached by the last action;
    ``fit(observations, actions, dones)`` as the last observation of each trajectory
    (or ``next_observations[end]`` when given). To act, pass the goal to ``predict``
    (``predict(obs, goal=g)``) or an observation that already contains it
    (``concatenate([obs.ravel(), g])``, e.g. from an env wrapper).

    References
    ----------
    .. [1] D. Pomerleau, "Efficient training of artificial neural networks for
       autonomous navigation", Neural Computation, 1991.
    .. [2] C. Bishop, "Mixture density networks", Aston University, 1994.
    .. [3] D. Ghosh et al., "Learning to reach goals via iterated supervised
       learning", ICLR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.rl import BC
    >>> class Expert:  # a scripted CartPole controller that scores 500
    ...     def predict(self, obs, state=None, episode_start=None, deterministic=True):
    ...         w = np.array([0.5, 1.5, 20.0, 3.0])
    ...         return (np.asarray(obs) @ w > 0).astype(np.int64), state
    >>> agent = BC("MlpPolicy", "CartPole-v1", expert=Expert(), seed=0).learn(500)
    >>> agent.demonstrations["observations"].shape
    (500, 4)
    >>> obs = np.zeros((3, 4), dtype=np.float32)
    >>> agent.predict(obs, deterministic=True)[0].shape
    (3,)
    """

    def __init__(self, policy, env, expert=None, learning_rate=1e-3, batch_size=32,
                 n_epochs=30, ent_weight=1e-3, l2_weight=0.0, policy_head="gaussian",
                 n_components=5, n_bins=21, goal_conditioned=False, goal_indices=None,
                 policy_kwargs=None, stats_window_size=100, tensorboard_log=None, verbose=0,
                 seed=None, device="auto", _init_setup_model=True):
        super().__init__(policy, env, expert, learning_rate, batch_size, n_epochs, ent_weight,
                         l2_weight, policy_head, n_components, n_bins, policy_kwargs,
                         stats_window_size, tensorboard_log, verbose, seed, device)
        self.goal_conditioned = bool(goal_conditioned)
        self.goal_indices = None if goal_indices is None else [int(i) for i in goal_indices]
        self.demonstrations = None
        self._storage = None
        if self.goal_conditioned and self.observation_space is not None:
            self._goal_space()  # validates early
        elif goal_indices is not None and not self.goal_conditioned:
            raise ValueError("goal_indices is only used with goal_conditioned=True.")
        if _init_setup_model:
            self._setup_model()

    # ------------------------------------------------------------------ goals

    def _goal_space(self):
        space = self.observation_space
        if not isinstance(space, spaces.Box):
            raise ValueError(
                f"goal_conditioned=True needs a Box observation space, got {space}.")
        low = np.asarray(space.low, dtype=np.float32).reshape(-1)
        high = np.asarray(space.high, dtype=np.float32).reshape(-1)
        cols = _goal_cols(low.size, self.goal_indices)
        return low, high, cols

    def _policy_observation_space(self):
        if not self.goal_conditioned:
            return self.observation_space
        low, high, cols = self._goal_space()
        return spaces.Box(np.concatenate([low, low[cols]]), np.concatenate([high, high[cols]]),
                          dtype=np.float32)

    def _policy_obs(self, obs, goal):
        if not self.goal_conditioned or goal is None:
            if goal is not None:
                raise ValueError("goal is only used with goal_conditioned=True.")
            return obs
        obs = np.asarray(obs)
        shape = self.observation_space.shape
        dim = int(np.prod(shape))
        goal_dim = self.policy.features_dim - dim
        single = obs.shape == shape
        if not single and obs.shape[1:] != shape:
            raise ValueError(
                f"With goal=..., observations must have shape {shape} or "
                f"(n, {', '.join(map(str, shape))}); got {obs.shape}.")
        flat = obs.reshape(-1, dim)
        goal = np.asarray(goal, dtype=np.float32)
        if goal.shape == (goal_dim,):
            goal = np.broadcast_to(goal, (flat.shape[0], goal_dim))
        elif goal.shape != (flat.shape[0], goal_dim):
            raise ValueError(
                f"goal must have shape ({goal_dim},) or ({flat.shape[0]}, {goal_dim}), got "
                f"{goal.shape}.")
        out = np.concatenate([flat.astype(np.float32), goal], axis=1)
        return out[0] if single else out

    def predict(self, observation, state=None, episode_start=None, deterministic=False,
                goal=None):
        """Action(s) for one observation or a batch (SB3's ``predict``, plus ``goal``).

        Parameters
        ----------
        observation : array-like of shape obs_shape or (n_env,) + obs_shape
            The observation(s). For goal-conditioned BC without ``goal``: the
            observation(s) already concatenated with the goal,
            ``concatenate([obs.ravel(), goal])``.
        state : None
            Recurrent state (unused, returned unchanged).
        episode_start : numpy.ndarray, default=None
            Episode starts (unused).
        deterministic : bool, default=False
            Take the most likely action (mixture: the mean of the most probable
            component) instead of sampling.
        goal : array-like of shape (goal_dim,) or (n_env, goal_dim), default=None
            Goal(s) of a goal-conditioned policy, appended to ``observation``.

        Returns
        -------
        actions : numpy.ndarray
            One action, or ``(n_env,) + action_shape``; Box actions clipped to bounds.
        state : None
            The recurrent state.
        """
        if goal is not None:
            observation = self._policy_obs(observation, goal)
        elif self.goal_conditioned and not isinstance(observation, (dict, tuple)):
            shape = np.shape(observation)
            if shape[-len(self.observation_space.shape):] == self.observation_space.shape:
                raise ValueError(
                    f"Unexpected observation shape {shape} for this goal-conditioned policy: "
                    "give the goal, predict(obs, goal=g), or observations already "
                    f"concatenated with it, shape {self.policy.observation_space.shape}.")
        return self.policy.predict(observation, state, episode_start, deterministic)

    # ------------------------------------------------------------------ fitting

    def fit(self, observations, actions, dones=None, next_observations=None, goals=None):
        """Train on a fixed dataset of expert demonstrations.

        Training continues from the current weights (as a second ``learn`` would in
        SB3); ``sklearn.base.clone`` gives a fresh agent.

        Parameters
        ----------
        observations : array-like of shape (n_samples,) + obs_shape
            Observations of the env's observation space, in time order for
            goal-conditioned BC.
        actions : array-like of shape (n_samples,) + action_shape
            The expert's actions: integers for a Discrete action space (shape
            ``(n_samples,)``), floats ``(n_samples,) + action_shape`` for Box.
        dones : array-like of shape (n_samples,), default=None
            Trajectory ends (goal-conditioned BC: the relabelling boundaries;
            ``None`` means one trajectory). Ignored otherwise.
        next_observations : array-like of shape (n_samples,) + obs_shape, default=None
            Observations after each step (goal-conditioned BC: the final state of a
            trajectory is then ``next_observations`` at its end).
        goals : array-like of shape (n_samples, goal_dim), default=None
            Explicit goals (goal-conditioned BC), instead of hindsight relabelling.

        Returns
        -------
        self : BC
            The trained agent.
        """
        obs = self._check_observations(observations, self.observation_space)
        n = obs.shape[0]
        if n == 0:
            raise ValueError("BC.fit needs at least one demonstration, got 0 samples.")
        act = self._check_actions(actions, n)
        if dones is not None and np.asarray(dones).reshape(-1).shape != (n,):
            raise ValueError(f"dones has {np.asarray(dones).size} entries for {n} observations.")
        if next_observations is not None:
            next_observations = self._check_observations(next_observations,
                                                         self.observation_space,
                                                         "next_observations")
            if next_observations.shape != obs.shape:
                raise ValueError(
                    f"next_observations has shape {next_observations.shape}; expected "
                    f"{obs.shape}.")
        self._fit_arrays(obs, act, dones, next_observations, goals)
        return self

    def _fit_arrays(self, obs, act, dones=None, next_obs=None, goals=None):
        policy_obs = obs
        if self.goal_conditioned:
            if goals is None:
                goals = hindsight_relabel(obs, dones, next_obs, self.goal_indices)
            goal_dim = self.policy.features_dim - int(np.prod(self.observation_space.shape))
            goals = np.asarray(goals)
            if goals.dtype == object or goals.shape != (obs.shape[0], goal_dim):
                raise ValueError(
                    f"goals must have shape ({obs.shape[0]}, {goal_dim}), got {goals.shape}.")
            if not np.all(np.isfinite(goals)):
                raise ValueError("goals contain NaN or infinity.")
            policy_obs = np.concatenate([obs.reshape(obs.shape[0], -1),
                                         goals.astype(np.float32)], axis=1)
        elif goals is not None:
            raise ValueError("goals is only used with goal_conditioned=True.")
        self.demonstrations = {"observations": policy_obs, "actions": act}
        if dones is not None:
            self.demonstrations["dones"] = np.asarray(dones, dtype=bool).reshape(-1)
        if next_obs is not None:
            self.demonstrations["next_observations"] = next_obs
        self._train(policy_obs, act, self.n_epochs)

    def learn(self, total_timesteps, callback=None, log_interval=1, tb_log_name="BC",
              reset_num_timesteps=True, progress_bar=False):
        """Collect ``total_timesteps`` expert transitions in the env, then fit them.

        Parameters
        ----------
        total_timesteps : int
            Expert transitions to collect (summed over the environments).
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s), called once per (vectorised) collected step; one whose
            ``on_step`` returns ``False`` stops collection, and nothing is trained.
        log_interval : int, default=1
            Write the logs after training (``None``: never).
        tb_log_name : str, default="BC"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter and the demonstrations; ``False`` adds the new
            transitions to those of the previous ``learn``.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : BC
            The trained agent.
        """
        self._require_expert()
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        if reset_num_timesteps or self._storage is None:
            self._storage = _empty_storage()
        storage = self._storage
        callback.on_training_start(locals(), globals())
        n_steps = -(-(total_timesteps - self.num_timesteps) // self.env.num_envs)
        if self._collect(max(n_steps, 0), callback, 1.0, total_timesteps, storage):
            if storage["observations"]:
                obs, act, dones, next_obs = _stack_per_env(storage)
                self._fit_arrays(obs, act, dones, next_obs)
                if log_interval is not None:
                    self.dump_logs(1)
        callback.on_training_end()
        return self


def _stack_per_env(storage):
    """Stack (T, n_envs, ...) step batches into per-env trajectories, env after env."""

    def flat(key):
        arr = np.stack(storage[key])  # (T, n_envs, ...)
        return np.swapaxes(arr, 0, 1).reshape((-1, *arr.shape[2:]))

    dones = np.stack(storage["dones"]).copy()
    dones[-1] = True  # each env's collected data ends a trajectory for relabelling
    dones = np.swapaxes(dones, 0, 1).reshape(-1)
    return flat("observations"), flat("actions"), dones, flat("next_observations")
