r"""Returns, reward-to-go, n-step targets, GAE and the optimal baseline (chapters 28-29).

Every function takes rollout arrays shaped ``(n_steps, n_envs)`` (time first, as in
Stable-Baselines3's buffers) or ``(n_steps,)`` for a single environment, and returns
arrays of the same shape. Computation is in float64, or in the input's floating dtype
when every float input shares it (float32 in, float32 out).

Episode boundaries follow one convention throughout: ``dones[t]`` is true when the
transition taken at step ``t`` ended its episode (terminated *or* truncated). Nothing
is accumulated or bootstrapped across such a step. A truncated episode (time limit) is
the caller's business: as SB3's on-policy loop does, add ``gamma * V(terminal_obs)`` to
the reward of the truncated step and mark it done.

Stable-Baselines3 stores the same information the other way round, as
``episode_starts[t]`` (the observation at step ``t`` begins an episode) plus the
``dones`` of the last step: ``episode_starts[t + 1] == dones[t]``.
:func:`episode_starts_to_dones` converts.
"""

import numpy as np

from ...utils._validation import check_int, check_real

__all__ = [
    "compute_gae",
    "discounted_returns",
    "episode_starts_to_dones",
    "n_step_returns",
    "optimal_baseline",
    "reward_to_go",
]


# ----------------------------------------------------------------------------- checks


def _float_dtype(*arrays):
    """float32 when every floating input is float32 (and none is float64), else float64."""
    floats = [a.dtype for a in arrays if a is not None and np.issubdtype(a.dtype, np.floating)]
    if floats and all(d == np.float32 for d in floats):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _as_numeric(x, name):
    """``np.asarray`` that rejects non-numeric input with a message naming ``name``."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} could not be converted to an array: {exc}") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}.")
    return arr


def _check_rollout(rewards, dones, values=None, last_values=None, last_dones=None):
    """Validate rollout arrays; return them as 2-D ``(n_steps, n_envs)`` plus a 1-D flag.

    Returns ``(rewards, nonterminal, values, last_values, squeeze, dtype)`` where
    ``nonterminal = 1 - dones`` in the working dtype, ``last_values`` is ``(n_envs,)``
    (zeros when not given) and ``squeeze`` says the input was 1-D.
    """
    rewards = _as_numeric(rewards, "rewards")
    if rewards.ndim not in (1, 2):
        raise ValueError(
            f"rewards must have shape (n_steps,) or (n_steps, n_envs), got {rewards.shape}."
        )
    if rewards.shape[0] == 0 or rewards.size == 0:
        raise ValueError(f"rewards must contain at least one step, got shape {rewards.shape}.")
    squeeze = rewards.ndim == 1
    shape = rewards.shape

    arrays = {"rewards": rewards}
    dones = _as_numeric(dones, "dones")
    if dones.shape != shape:
        raise ValueError(f"dones must have the shape of rewards {shape}, got {dones.shape}.")
    if values is not None:
        values = _as_numeric(values, "values")
        if values.shape != shape:
            raise ValueError(
                f"values must have the shape of rewards {shape}, got {values.shape}."
            )
        arrays["values"] = values
    n_envs = 1 if squeeze else shape[1]

    def per_env(arr, name):
        arr = _as_numeric(arr, name)
        if arr.size != n_envs or arr.ndim > 2:
            raise ValueError(
                f"{name} must have shape (n_envs,) = ({n_envs},), got {arr.shape}.")
        return arr.reshape(n_envs)

    if last_values is not None:
        last_values = arrays["last_values"] = per_env(last_values, "last_values")
    if last_dones is not None:
        last_dones = per_env(last_dones, "last_dones")

    for name, arr in arrays.items():
        # a finite sum proves every entry finite; only a non-finite sum needs the scan
        if not np.isfinite(arr.sum()) and not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinity.")
    for name, arr in (("dones", dones), ("last_dones", last_dones)):
        if arr is not None and arr.dtype != np.bool_ and not np.all((arr == 0) | (arr == 1)):
            raise ValueError(f"{name} must be booleans (or 0/1), got other values.")

    dtype = _float_dtype(rewards, values, last_values)
    done2 = dones.reshape(shape[0], n_envs).astype(bool)
    if last_dones is not None:
        done2 = done2.copy()
        done2[-1] |= last_dones.astype(bool)
    nonterminal = (~done2).astype(dtype)
    rewards = rewards.reshape(shape[0], n_envs).astype(dtype, copy=False)
    if values is not None:
        values = values.reshape(shape[0], n_envs).astype(dtype, copy=False)
    if last_values is None:
        last_values = np.zeros(n_envs, dtype=dtype)
    else:
        last_values = last_values.astype(dtype, copy=False)
    return rewards, nonterminal, values, last_values, squeeze, dtype


def _out(arr, squeeze):
    return arr[:, 0] if squeeze else arr


# ------------------------------------------------------------------------- kernels


def _discounted_cumsum(x, nonterminal, discount, tail):
    """Backward discounted sum within episodes: ``y[t] = x[t] + discount * m[t] * y[t+1]``.

    ``m = nonterminal``, and ``y[n_steps] = tail`` (``(n_envs,)``). The one recursion
    behind reward-to-go (``discount = gamma``) and GAE (``discount = gamma * lambda``);
    a loop over time with vector operations over environments.
    """
    out = np.empty_like(x)
    coef = discount * nonterminal
    acc = tail
    for t in range(x.shape[0] - 1, -1, -1):
        acc = x[t] + coef[t] * acc
        out[t] = acc
    return out


def _gae(rewards, values, nonterminal, last_values, gamma, gae_lambda):
    """GAE on checked 2-D arrays: ``(advantages, returns)``."""
    next_values = np.concatenate([values[1:], last_values[None]], axis=0)
    deltas = rewards + gamma * nonterminal * next_values - values
    advantages = _discounted_cumsum(
        deltas, nonterminal, gamma * gae_lambda, np.zeros_like(last_values)
    )
    return advantages, advantages + values


def _n_step(rewards, values, nonterminal, last_values, gamma, n):
    """n-step targets on checked 2-D arrays (a loop over the horizon ``k < n``)."""
    T = rewards.shape[0]
    next_values = np.concatenate([values[1:], last_values[None]], axis=0)
    out = np.zeros_like(rewards)
    alive = np.ones_like(rewards)  # 1 while the sum from t has not met a done
    disc = 1.0
    for k in range(min(n, T)):
        rows = T - k  # the starts t with t + k inside the rollout
        a = alive[:rows]
        out[:rows] += disc * a * rewards[k:]
        a *= nonterminal[k:]
        if k == n - 1:  # n rewards collected: bootstrap from V(s_{t+n})
            out[:rows] += disc * gamma * a * next_values[k:]
        else:  # the start t = rows - 1 has reached the rollout's end
            out[rows - 1] += disc * gamma * a[-1] * last_values
        disc *= gamma
    return out


def _episode_first_index(nonterminal):
    """For each (t, env), the index of the first step of the episode containing t."""
    T, n_envs = nonterminal.shape
    starts = np.ones((T, n_envs), dtype=bool)
    starts[1:] = nonterminal[:-1] == 0
    idx = np.where(starts, np.arange(T)[:, None], 0)
    return np.maximum.accumulate(idx, axis=0)


# -------------------------------------------------------------------------- public


def episode_starts_to_dones(episode_starts, last_dones):
    """Convert SB3's ``episode_starts`` layout into the ``dones`` used here.

    Parameters
    ----------
    episode_starts : array-like of shape (n_steps, n_envs) or (n_steps,)
        ``episode_starts[t]`` is true when the observation at step ``t`` is the first of
        an episode (SB3's ``RolloutBuffer.episode_starts``).
    last_dones : array-like of shape (n_envs,)
        Whether the last transition of the rollout ended its episode (the ``dones``
        SB3 passes to ``compute_returns_and_advantage``).

    Returns
    -------
    dones : ndarray of bool, same shape as ``episode_starts``
        ``dones[t] = episode_starts[t + 1]`` and ``dones[-1] = last_dones``. The value of
        ``episode_starts[0]`` is not needed (nothing comes before the rollout).

    Examples
    --------
    >>> from mlnotes.rl.common.returns import episode_starts_to_dones
    >>> episode_starts_to_dones([1, 0, 1, 0], [1])
    array([False,  True, False,  True])
    """
    starts = np.asarray(episode_starts).astype(bool)
    if starts.ndim not in (1, 2) or starts.shape[0] == 0:
        raise ValueError(
            "episode_starts must have shape (n_steps,) or (n_steps, n_envs), "
            f"got {starts.shape}."
        )
    last = np.asarray(last_dones).astype(bool)
    n_envs = 1 if starts.ndim == 1 else starts.shape[1]
    if last.size != n_envs:
        raise ValueError(f"last_dones must have shape ({n_envs},), got {last.shape}.")
    dones = np.empty_like(starts)
    dones[:-1] = starts[1:]
    dones[-1] = last.reshape(()) if starts.ndim == 1 else last.reshape(n_envs)
    return dones


def compute_gae(
    rewards, values, dones, last_values, last_dones=None, gamma=0.99, gae_lambda=0.95
):
    r"""Generalised advantage estimates GAE(:math:`\gamma, \lambda`) and λ-returns.

    Parameters
    ----------
    rewards : array-like of shape (n_steps, n_envs) or (n_steps,)
        Rewards :math:`r_t` of the rollout (time first).
    values : array-like of shape (n_steps, n_envs) or (n_steps,)
        Critic values :math:`V(s_t)` of the observations the actions were taken in.
    dones : array-like of bool, same shape as ``rewards``
        ``dones[t]``: the transition at step ``t`` ended its episode (terminated or
        truncated; for truncation add ``gamma * V(terminal_obs)`` to ``rewards[t]``).
    last_values : array-like of shape (n_envs,)
        :math:`V(s_{T})` of the observation after the rollout's last step; it
        bootstraps the last step of every environment whose episode did not end there.
    last_dones : array-like of bool of shape (n_envs,), default=None
        SB3's ``dones`` argument of ``RolloutBuffer.compute_returns_and_advantage``:
        whether the last transition ended its episode. It is the same information as
        ``dones[-1]`` and is combined with it by logical OR (``last_values`` is used
        only where neither says done), so a caller may pass it, repeat it, or leave
        it out. Callers holding SB3's ``episode_starts`` layout should convert with
        :func:`episode_starts_to_dones` instead of passing ``episode_starts`` as
        ``dones``.
    gamma : float, default=0.99
        Discount factor in [0, 1].
    gae_lambda : float, default=0.95
        Bias-variance trade-off in [0, 1]: 0 gives the one-step TD error, 1 the
        Monte-Carlo return minus the value.

    Returns
    -------
    advantages : ndarray, same shape as ``rewards``
        :math:`\hat A_t`.
    returns : ndarray, same shape as ``rewards``
        The λ-returns ``advantages + values`` (the critic's regression target).

    Notes
    -----
    Chapter 29 of the notes (actor-critic). With the TD errors

    .. math::

        \delta_t = r_t + \gamma (1 - d_t) V(s_{t+1}) - V(s_t),

    the estimator is the exponentially weighted sum of k-step advantages,

    .. math::

        \hat A_t = \sum_{l \ge 0} (\gamma\lambda)^l \delta_{t+l}
                 = \delta_t + \gamma\lambda (1 - d_t) \hat A_{t+1},

    truncated at episode ends (:math:`d_t = 1`) and at the end of the rollout, where
    :math:`V(s_T)` is ``last_values``. It equals SB3's
    ``RolloutBuffer.compute_returns_and_advantage``.

    References
    ----------
    J. Schulman, P. Moritz, S. Levine, M. Jordan and P. Abbeel, "High-dimensional
    continuous control using generalized advantage estimation", *ICLR* 2016.

    Examples
    --------
    >>> from mlnotes.rl.common.returns import compute_gae
    >>> adv, ret = compute_gae([1.0, 1.0], [0.5, 0.5], [False, True], [9.0],
    ...                        gamma=1.0, gae_lambda=1.0)
    >>> ret
    array([2., 1.])
    >>> adv
    array([1.5, 0.5])
    """
    gamma = check_real(gamma, "gamma", 0, 1)
    gae_lambda = check_real(gae_lambda, "gae_lambda", 0, 1)
    if last_values is None:
        raise ValueError("last_values is required (use zeros if every episode ended).")
    r, nonterminal, v, last_v, squeeze, _ = _check_rollout(
        rewards, dones, values, last_values, last_dones
    )
    adv, ret = _gae(r, v, nonterminal, last_v, gamma, gae_lambda)
    return _out(adv, squeeze), _out(ret, squeeze)


def n_step_returns(rewards, values, dones, last_values, gamma=0.99, n_steps=5):
    r"""n-step bootstrapped targets :math:`G_t^{(n)}`.

    Parameters
    ----------
    rewards : array-like of shape (n_steps_rollout, n_envs) or (n_steps_rollout,)
        Rewards :math:`r_t` of the rollout (time first).
    values : array-like, same shape as ``rewards``
        Critic values :math:`V(s_t)`.
    dones : array-like of bool, same shape as ``rewards``
        ``dones[t]``: the transition at step ``t`` ended its episode.
    last_values : array-like of shape (n_envs,)
        :math:`V(s_T)` after the rollout's last step, used where the n-step window
        reaches the rollout's end inside an episode.
    gamma : float, default=0.99
        Discount factor in [0, 1].
    n_steps : int, default=5
        Number of rewards summed before bootstrapping (>= 1). ``n_steps=1`` is the
        one-step TD target; ``n_steps`` at least the rollout length gives the
        Monte-Carlo return bootstrapped at the rollout's end (GAE with
        :math:`\lambda = 1`).

    Returns
    -------
    returns : ndarray, same shape as ``rewards``
        :math:`G_t^{(n)}` for every step.

    Notes
    -----
    Chapter 29 of the notes (n-step returns, the bias-variance knob between the
    one-step critic and Monte-Carlo):

    .. math::

        G_t^{(n)} = \sum_{k=0}^{m-1} \gamma^k r_{t+k} + \gamma^m V(s_{t+m})
                    \, [\text{no episode end in } t, \dots, t+m-1],

    with :math:`m = \min(n, T - t, \text{steps to the end of the episode})`, i.e. the
    sum stops at an episode's last step (no bootstrap) or at the rollout's end (bootstrap
    from ``last_values``).

    Examples
    --------
    >>> from mlnotes.rl.common.returns import n_step_returns
    >>> n_step_returns([1.0, 1.0, 1.0], [0.0, 10.0, 20.0], [False, False, False],
    ...                [30.0], gamma=0.5, n_steps=1)
    array([ 6., 11., 16.])
    """
    gamma = check_real(gamma, "gamma", 0, 1)
    check_int(n_steps, "n_steps", 1)
    if last_values is None:
        raise ValueError("last_values is required (use zeros if every episode ended).")
    r, nonterminal, v, last_v, squeeze, _ = _check_rollout(
        rewards, dones, values, last_values
    )
    return _out(_n_step(r, v, nonterminal, last_v, gamma, int(n_steps)), squeeze)


def reward_to_go(rewards, dones, gamma=1.0, last_values=None):
    r"""Discounted reward-to-go :math:`\hat Q_t = \sum_{t' \ge t} \gamma^{t'-t} r_{t'}`.

    Parameters
    ----------
    rewards : array-like of shape (n_steps, n_envs) or (n_steps,)
        Rewards :math:`r_t` of the rollout (time first).
    dones : array-like of bool, same shape as ``rewards``
        ``dones[t]``: the transition at step ``t`` ended its episode; the sum stops
        there.
    gamma : float, default=1.0
        Discount factor in [0, 1].
    last_values : array-like of shape (n_envs,), default=None
        Value of the observation after the rollout's last step, added (discounted) to
        the sums of episodes still running at the rollout's end. None treats it as 0.

    Returns
    -------
    returns : ndarray, same shape as ``rewards``
        The reward-to-go of every step.

    Notes
    -----
    Chapter 28 of the notes (the causality trick): an action cannot affect rewards
    received before it, so the REINFORCE weight of step :math:`t` can drop them,

    .. math::

        \nabla_\theta J \approx \frac1N \sum_i \sum_t
            \nabla_\theta \log \pi_\theta(a_{i,t} | s_{i,t})
            \sum_{t'=t}^{T} \gamma^{t'-t} r_{i,t'},

    which keeps the estimator unbiased and lowers its variance. Computed by the
    recursion :math:`\hat Q_t = r_t + \gamma (1 - d_t) \hat Q_{t+1}`.

    Examples
    --------
    >>> from mlnotes.rl.common.returns import reward_to_go
    >>> reward_to_go([1.0, 2.0, 3.0], [False, False, True], gamma=0.5)
    array([2.75, 3.5 , 3.  ])
    """
    gamma = check_real(gamma, "gamma", 0, 1)
    r, nonterminal, _, last_v, squeeze, _ = _check_rollout(
        rewards, dones, None, last_values
    )
    return _out(_discounted_cumsum(r, nonterminal, gamma, last_v), squeeze)


def discounted_returns(rewards, dones, gamma=1.0):
    r"""Whole-episode discounted return, assigned to every step of the episode.

    Parameters
    ----------
    rewards : array-like of shape (n_steps, n_envs) or (n_steps,)
        Rewards :math:`r_t` of the rollout (time first).
    dones : array-like of bool, same shape as ``rewards``
        ``dones[t]``: the transition at step ``t`` ended its episode. The step after
        a done (and the rollout's first step) starts a new episode.
    gamma : float, default=1.0
        Discount factor in [0, 1].

    Returns
    -------
    returns : ndarray, same shape as ``rewards``
        For each step, :math:`R(\tau) = \sum_{t=0}^{T-1} \gamma^t r_t` of the
        episode it belongs to, discounted from that episode's first step. An episode
        cut by the rollout's end uses the rewards seen so far (no bootstrap); one that
        began before the rollout is counted from the rollout's first step.

    Notes
    -----
    Chapter 28 of the notes: the plain REINFORCE estimator weights every
    log-probability of a trajectory by the trajectory's whole return,

    .. math::

        \nabla_\theta J \approx \frac1N \sum_i
            \Big(\sum_t \nabla_\theta \log \pi_\theta(a_{i,t} | s_{i,t})\Big)
            \Big(\sum_t \gamma^t r_{i,t}\Big).

    See :func:`reward_to_go` for the lower-variance causal version.

    Examples
    --------
    >>> from mlnotes.rl.common.returns import discounted_returns
    >>> discounted_returns([1.0, 2.0, 3.0, 4.0], [False, True, False, False], gamma=0.5)
    array([2., 2., 5., 5.])
    """
    gamma = check_real(gamma, "gamma", 0, 1)
    r, nonterminal, _, _, squeeze, _ = _check_rollout(rewards, dones)
    rtg = _discounted_cumsum(r, nonterminal, gamma, np.zeros(r.shape[1], dtype=r.dtype))
    first = _episode_first_index(nonterminal)
    return _out(np.take_along_axis(rtg, first, axis=0), squeeze)


def optimal_baseline(grad_log_prob_sq, returns):
    r"""Variance-minimising constant baseline of the policy gradient.

    Parameters
    ----------
    grad_log_prob_sq : array-like of shape (n_samples,) or (n_samples, n_params)
        Per sample :math:`i`, the squared score. 1-D: the squared norm
        :math:`\|\nabla_\theta \log \pi_\theta(\tau_i)\|^2`, giving one baseline shared
        by all parameters. 2-D: the element-wise squares
        :math:`(\partial_{\theta_j} \log \pi_\theta(\tau_i))^2`, giving one baseline
        per parameter. A sample is a trajectory (with whole-episode returns) or a step
        (with reward-to-go).
    returns : array-like of shape (n_samples,)
        The weights :math:`R_i` the baseline is subtracted from.

    Returns
    -------
    baseline : ndarray of shape () or (n_params,)
        :math:`b = \sum_i g_i R_i / \sum_i g_i` (per column in the 2-D case). Where
        every weight is zero (a deterministic policy has no gradient), the baseline
        falls back to the mean return.

    Notes
    -----
    Chapter 28 of the notes. For the estimator
    :math:`g(\tau) = \nabla_\theta \log \pi_\theta(\tau) (R(\tau) - b)` the
    baseline does not change the mean (:math:`E[\nabla \log \pi] = 0`), and the variance
    of component :math:`j`,
    :math:`E[(\partial_j \log \pi)^2 (R - b)^2] - (E[g_j])^2`, is a quadratic in
    :math:`b` minimised by

    .. math::

        b_j^\star = \frac{E[(\partial_j \log \pi_\theta)^2 \, R]}
                         {E[(\partial_j \log \pi_\theta)^2]} .

    Minimising the total variance :math:`\sum_j \operatorname{Var}(g_j)` with one
    shared :math:`b` gives the same formula with the squared norm
    :math:`\|\nabla \log \pi_\theta\|^2` as the weight. Sample averages replace the
    expectations.

    References
    ----------
    L. Weaver and N. Tao, "The optimal reward baseline for gradient-based
    reinforcement learning", *UAI* 2001.

    Examples
    --------
    >>> from mlnotes.rl.common.returns import optimal_baseline
    >>> float(optimal_baseline([1.0, 3.0], [2.0, 6.0]))
    5.0
    >>> optimal_baseline([[1.0, 0.0], [3.0, 0.0]], [2.0, 6.0])
    array([5., 4.])
    """
    g = _as_numeric(grad_log_prob_sq, "grad_log_prob_sq")
    R = _as_numeric(returns, "returns")
    if g.ndim not in (1, 2) or g.shape[0] == 0:
        raise ValueError(
            "grad_log_prob_sq must have shape (n_samples,) or (n_samples, n_params), "
            f"got {g.shape}."
        )
    if R.ndim != 1 or R.shape[0] != g.shape[0]:
        raise ValueError(
            f"returns must have shape (n_samples,) = ({g.shape[0]},), got {R.shape}."
        )
    for name, arr in (("grad_log_prob_sq", g), ("returns", R)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinity.")
    if np.any(g < 0):
        raise ValueError("grad_log_prob_sq must be non-negative (squared scores).")
    dtype = _float_dtype(g, R)
    g = g.astype(dtype, copy=False)
    R = R.astype(dtype, copy=False)
    num = np.tensordot(R, g, axes=(0, 0))
    den = g.sum(axis=0)
    fallback = R.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        b = np.where(den > 0, num / np.where(den > 0, den, 1), fallback)
    return np.asarray(b, dtype=dtype)
