r"""Multi-armed and contextual bandits: environments, policies, regret (chapters 36-37).

A :math:`K`-armed bandit pays a random reward with mean :math:`\mu_a` for arm
:math:`a`; the (pseudo-)regret of a policy after :math:`T` pulls is

.. math::

    R_T = \sum_{t=1}^{T} (\mu^* - \mu_{a_t}), \qquad \mu^* = \max_a \mu_a .

Every policy here runs many independent simulations at once: its state is an array
with one row per run, so 1,000 runs of 10,000 pulls take one vectorised pass per
pull. :func:`simulate` returns the cumulative regret of each run;
:func:`lai_robbins_bound` and :func:`ucb1_regret_bound` are the classic
asymptotic lower bound and UCB1's finite-time upper bound.
"""

from numbers import Integral

import numpy as np
from sklearn.utils import check_scalar

__all__ = [
    "BernoulliBandit",
    "GaussianBandit",
    "LinearContextualBandit",
    "EpsilonGreedy",
    "UCB1",
    "ThompsonSampling",
    "LinUCB",
    "simulate",
    "lai_robbins_bound",
    "ucb1_regret_bound",
]


def _check_means(means, low=-np.inf, high=np.inf):
    means = np.asarray(means, dtype=np.float64)
    if means.ndim != 1 or len(means) < 2:
        raise ValueError(f"means must be a 1-D array of at least 2 arms, got {means!r}.")
    if not np.all(np.isfinite(means)) or np.any(means < low) or np.any(means > high):
        raise ValueError(f"means must be finite and in [{low}, {high}], got {means!r}.")
    return means


# ----------------------------------------------------------------------- environments


class BernoulliBandit:
    """Arms paying 1 with probability ``means[a]`` and 0 otherwise.

    Parameters
    ----------
    means : array-like of shape (n_arms,)
        Success probabilities in [0, 1].

    Attributes
    ----------
    n_arms : int
        Number of arms.
    optimal_mean : float
        :math:`\\mu^*`.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.rl.bandits import BernoulliBandit
    >>> bandit = BernoulliBandit([0.2, 0.5])
    >>> bandit.pull(np.array([1, 1, 0]), np.random.default_rng(0)).shape
    (3,)
    """

    kind = "bernoulli"

    def __init__(self, means):
        self.means = _check_means(means, 0.0, 1.0)
        self.n_arms = len(self.means)
        self.optimal_mean = float(self.means.max())

    def pull(self, arms, rng, contexts=None):
        """Rewards of pulling ``arms`` (one arm per run).

        Parameters
        ----------
        arms : numpy.ndarray of int, shape (n_runs,)
            The arm of each run.
        rng : numpy.random.Generator
            Source of randomness.
        contexts : None
            Unused (non-contextual bandit).

        Returns
        -------
        rewards : numpy.ndarray of shape (n_runs,)
            0/1 rewards.
        """
        return (rng.random(len(arms)) < self.means[arms]).astype(np.float64)

    def expected_rewards(self, arms, contexts=None):
        """Mean reward of each pulled arm (for the pseudo-regret).

        Parameters
        ----------
        arms : numpy.ndarray of int, shape (n_runs,)
            The pulled arms.
        contexts : None
            Unused.

        Returns
        -------
        means : numpy.ndarray of shape (n_runs,)
            :math:`\\mu_{a}` of each run's arm.
        """
        return self.means[arms]

    def best_expected_rewards(self, n_runs, contexts=None):
        """The best arm's mean, for each run.

        Parameters
        ----------
        n_runs : int
            Number of runs.
        contexts : None
            Unused.

        Returns
        -------
        best : numpy.ndarray of shape (n_runs,)
            :math:`\\mu^*` repeated.
        """
        return np.full(n_runs, self.optimal_mean)


class GaussianBandit(BernoulliBandit):
    """Arms paying :math:`\\mathcal{N}(\\mu_a, \\sigma_a^2)` rewards.

    Parameters
    ----------
    means : array-like of shape (n_arms,)
        Mean rewards.
    stds : float or array-like of shape (n_arms,), default=1.0
        Reward standard deviations.

    Attributes
    ----------
    n_arms : int
        Number of arms.
    optimal_mean : float
        :math:`\\mu^*`.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.rl.bandits import GaussianBandit
    >>> GaussianBandit([0.0, 1.0]).optimal_mean
    1.0
    """

    kind = "gaussian"

    def __init__(self, means, stds=1.0):
        self.means = _check_means(means)
        self.n_arms = len(self.means)
        self.stds = np.broadcast_to(np.asarray(stds, dtype=np.float64), self.means.shape)
        if not np.all(self.stds > 0) or not np.all(np.isfinite(self.stds)):
            raise ValueError("stds must be positive and finite.")
        self.optimal_mean = float(self.means.max())

    def pull(self, arms, rng, contexts=None):
        """Gaussian rewards of ``arms``.

        Parameters
        ----------
        arms : numpy.ndarray of int, shape (n_runs,)
            The arm of each run.
        rng : numpy.random.Generator
            Source of randomness.
        contexts : None
            Unused.

        Returns
        -------
        rewards : numpy.ndarray of shape (n_runs,)
            :math:`\\mu_a + \\sigma_a \\varepsilon`.
        """
        return self.means[arms] + self.stds[arms] * rng.standard_normal(len(arms))


class LinearContextualBandit:
    """Contexts :math:`x_t \\sim \\mathcal{N}(0, I_d)`; arm :math:`a` pays
    :math:`\\theta_a^\\top x_t + \\varepsilon`, :math:`\\varepsilon \\sim
    \\mathcal{N}(0, \\sigma^2)`.

    Parameters
    ----------
    theta : array-like of shape (n_arms, n_features)
        The arms' parameter vectors.
    noise : float, default=0.1
        :math:`\\sigma`.

    Attributes
    ----------
    n_arms : int
        Number of arms.
    n_features : int
        Context dimension.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.rl.bandits import LinearContextualBandit
    >>> bandit = LinearContextualBandit(np.eye(3))
    >>> bandit.contexts(5, np.random.default_rng(0)).shape
    (5, 3)
    """

    kind = "linear"

    def __init__(self, theta, noise=0.1):
        self.theta = np.asarray(theta, dtype=np.float64)
        if self.theta.ndim != 2 or self.theta.shape[0] < 2 or \
                not np.all(np.isfinite(self.theta)):
            raise ValueError("theta must be a finite (n_arms >= 2, n_features) array.")
        if not noise >= 0:
            raise ValueError(f"noise must be >= 0, got {noise!r}.")
        self.noise = float(noise)
        self.n_arms, self.n_features = self.theta.shape

    def contexts(self, n_runs, rng):
        """Draw one context per run.

        Parameters
        ----------
        n_runs : int
            Number of runs.
        rng : numpy.random.Generator
            Source of randomness.

        Returns
        -------
        contexts : numpy.ndarray of shape (n_runs, n_features)
            Standard normal contexts.
        """
        return rng.standard_normal((n_runs, self.n_features))

    def pull(self, arms, rng, contexts=None):
        """Rewards of ``arms`` in ``contexts``.

        Parameters
        ----------
        arms : numpy.ndarray of int, shape (n_runs,)
            The arm of each run.
        rng : numpy.random.Generator
            Source of randomness.
        contexts : numpy.ndarray of shape (n_runs, n_features)
            The contexts.

        Returns
        -------
        rewards : numpy.ndarray of shape (n_runs,)
            Noisy linear rewards.
        """
        return self.expected_rewards(arms, contexts) + self.noise * rng.standard_normal(
            len(arms))

    def expected_rewards(self, arms, contexts=None):
        """Expected reward :math:`\\theta_{a}^\\top x` of each run's arm.

        Parameters
        ----------
        arms : numpy.ndarray of int, shape (n_runs,)
            The pulled arms.
        contexts : numpy.ndarray of shape (n_runs, n_features)
            The contexts.

        Returns
        -------
        means : numpy.ndarray of shape (n_runs,)
            Expected rewards.
        """
        return np.einsum("nd,nd->n", self.theta[arms], contexts)

    def best_expected_rewards(self, n_runs, contexts=None):
        """Expected reward of the best arm in each run's context.

        Parameters
        ----------
        n_runs : int
            Number of runs.
        contexts : numpy.ndarray of shape (n_runs, n_features)
            The contexts.

        Returns
        -------
        best : numpy.ndarray of shape (n_runs,)
            :math:`\\max_a \\theta_a^\\top x`.
        """
        return (contexts @ self.theta.T).max(axis=1)


# ----------------------------------------------------------------------- policies


class _IndexPolicy:
    """Empirical counts and means per run and arm; subclasses choose the arm."""

    def reset(self, n_runs, n_arms, n_features=None):
        """Start ``n_runs`` fresh runs.

        Parameters
        ----------
        n_runs : int
            Number of independent runs.
        n_arms : int
            Number of arms.
        n_features : int, default=None
            Context dimension (contextual policies only).
        """
        self.counts = np.zeros((n_runs, n_arms))
        self.sums = np.zeros((n_runs, n_arms))
        self.t = 0

    def update(self, arms, rewards, contexts=None):
        """Record the reward of each run's pulled arm.

        Parameters
        ----------
        arms : numpy.ndarray of int, shape (n_runs,)
            The pulled arms.
        rewards : numpy.ndarray of shape (n_runs,)
            Their rewards.
        contexts : numpy.ndarray, default=None
            The contexts (contextual policies only).
        """
        rows = np.arange(len(arms))
        self.counts[rows, arms] += 1
        self.sums[rows, arms] += rewards
        self.t += 1

    def _means(self):
        return np.divide(self.sums, self.counts, out=np.zeros_like(self.sums),
                         where=self.counts > 0)

    @staticmethod
    def _argmax_random_ties(scores, rng):
        noise = rng.random(scores.shape) * 1e-9
        return np.argmax(scores + noise * (scores == scores.max(axis=1, keepdims=True)),
                         axis=1)


class EpsilonGreedy(_IndexPolicy):
    """Pull a uniformly random arm with probability :math:`\\epsilon`, else the best.

    With a fixed :math:`\\epsilon` the regret grows linearly,
    :math:`\\approx \\epsilon\\, T \\bar\\Delta` with :math:`\\bar\\Delta` the mean gap.

    Parameters
    ----------
    epsilon : float, default=0.1
        Exploration probability.

    Examples
    --------
    >>> from mlnotes.rl.bandits import BernoulliBandit, EpsilonGreedy, simulate
    >>> regret = simulate(BernoulliBandit([0.3, 0.6]), EpsilonGreedy(0.1), 100, n_runs=10,
    ...                   random_state=0)
    >>> regret.shape
    (10, 100)
    """

    def __init__(self, epsilon=0.1):
        if not 0 <= epsilon <= 1:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon!r}.")
        self.epsilon = epsilon

    def select(self, rng, contexts=None):
        """Choose an arm for each run.

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of randomness.
        contexts : numpy.ndarray, default=None
            The contexts (contextual policies only).

        Returns
        -------
        arms : numpy.ndarray of int, shape (n_runs,)
            The chosen arms.
        """
        n_runs, n_arms = self.counts.shape
        greedy = self._argmax_random_ties(self._means(), rng)
        explore = rng.random(n_runs) < self.epsilon
        untried = self.counts.min(axis=1) == 0  # pull every arm once first
        first_untried = np.argmin(self.counts, axis=1)
        arms = np.where(explore, rng.integers(0, n_arms, n_runs), greedy)
        return np.where(untried, first_untried, arms)


class UCB1(_IndexPolicy):
    r"""Upper confidence bound: pull :math:`\arg\max_a \hat\mu_a + c \sqrt{\ln t / n_a}`.

    With :math:`c = \sqrt 2` and rewards in [0, 1], the expected regret is at most
    :math:`\sum_{a:\Delta_a>0} 8 \ln T / \Delta_a + (1 + \pi^2/3) \sum_a \Delta_a`
    (Auer, Cesa-Bianchi and Fischer, 2002): logarithmic in :math:`T`.

    Parameters
    ----------
    c : float, default=sqrt(2)
        Width of the confidence bonus.

    Examples
    --------
    >>> from mlnotes.rl.bandits import BernoulliBandit, UCB1, simulate
    >>> simulate(BernoulliBandit([0.3, 0.6]), UCB1(), 50, n_runs=4, random_state=0).shape
    (4, 50)
    """

    def __init__(self, c=np.sqrt(2.0)):
        if not c >= 0:
            raise ValueError(f"c must be >= 0, got {c!r}.")
        self.c = c

    def select(self, rng, contexts=None):
        """Choose an arm for each run.

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of randomness.
        contexts : numpy.ndarray, default=None
            The contexts (contextual policies only).

        Returns
        -------
        arms : numpy.ndarray of int, shape (n_runs,)
            The chosen arms.
        """
        untried = self.counts.min(axis=1) == 0
        bonus = self.c * np.sqrt(np.log(max(self.t, 1)) / np.maximum(self.counts, 1))
        arms = self._argmax_random_ties(self._means() + bonus, rng)
        return np.where(untried, np.argmin(self.counts, axis=1), arms)


class ThompsonSampling(_IndexPolicy):
    r"""Thompson sampling: pull the arm whose posterior sample is largest.

    ``prior="beta"`` (Bernoulli rewards): posterior
    :math:`\text{Beta}(1 + s_a, 1 + n_a - s_a)`; ``prior="gaussian"`` (Gaussian rewards
    of known variance ``sigma**2``, flat prior): posterior
    :math:`\mathcal{N}(\hat\mu_a, \sigma^2 / n_a)`. Its regret matches the Lai-Robbins
    lower bound asymptotically for Bernoulli arms (Kaufmann et al., 2012).

    Parameters
    ----------
    prior : {"beta", "gaussian"}, default="beta"
        Conjugate model.
    sigma : float, default=1.0
        Reward standard deviation of the Gaussian model.

    Examples
    --------
    >>> from mlnotes.rl.bandits import BernoulliBandit, ThompsonSampling, simulate
    >>> simulate(BernoulliBandit([0.3, 0.6]), ThompsonSampling(), 50, n_runs=4,
    ...          random_state=0).shape
    (4, 50)
    """

    def __init__(self, prior="beta", sigma=1.0):
        if prior not in ("beta", "gaussian"):
            raise ValueError(f"prior must be 'beta' or 'gaussian', got {prior!r}.")
        if not sigma > 0:
            raise ValueError(f"sigma must be > 0, got {sigma!r}.")
        self.prior = prior
        self.sigma = sigma

    def select(self, rng, contexts=None):
        """Choose an arm for each run.

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of randomness.
        contexts : numpy.ndarray, default=None
            The contexts (contextual policies only).

        Returns
        -------
        arms : numpy.ndarray of int, shape (n_runs,)
            The chosen arms.
        """
        if self.prior == "beta":
            samples = rng.beta(1 + self.sums, 1 + self.counts - self.sums)
        else:
            untried = self.counts == 0
            std = self.sigma / np.sqrt(np.maximum(self.counts, 1))
            samples = self._means() + std * rng.standard_normal(self.counts.shape)
            samples[untried] = np.inf  # pull every arm once first
        return self._argmax_random_ties(samples, rng)


class LinUCB:
    r"""LinUCB with disjoint linear models (Li et al., 2010).

    Each arm keeps a ridge regression :math:`A_a = I + \sum x x^\top`,
    :math:`b_a = \sum r x`, :math:`\hat\theta_a = A_a^{-1} b_a`, and the policy pulls
    :math:`\arg\max_a \hat\theta_a^\top x + \alpha \sqrt{x^\top A_a^{-1} x}`. The inverses
    are kept up to date with the Sherman-Morrison formula.

    Parameters
    ----------
    alpha : float, default=1.0
        Width of the confidence bonus.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.rl.bandits import LinearContextualBandit, LinUCB, simulate
    >>> bandit = LinearContextualBandit(np.eye(3))
    >>> simulate(bandit, LinUCB(), 30, n_runs=2, random_state=0).shape
    (2, 30)
    """

    def __init__(self, alpha=1.0):
        if not alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {alpha!r}.")
        self.alpha = alpha

    def reset(self, n_runs, n_arms, n_features=None):
        """Start ``n_runs`` fresh runs.

        Parameters
        ----------
        n_runs : int
            Number of independent runs.
        n_arms : int
            Number of arms.
        n_features : int, default=None
            Context dimension (contextual policies only).
        """
        if n_features is None:
            raise ValueError("LinUCB needs a contextual bandit (LinearContextualBandit).")
        self.A_inv = np.tile(np.eye(n_features), (n_runs, n_arms, 1, 1))
        self.b = np.zeros((n_runs, n_arms, n_features))

    def select(self, rng, contexts=None):
        """Choose an arm for each run.

        Parameters
        ----------
        rng : numpy.random.Generator
            Source of randomness.
        contexts : numpy.ndarray, default=None
            The contexts (contextual policies only).

        Returns
        -------
        arms : numpy.ndarray of int, shape (n_runs,)
            The chosen arms.
        """
        theta = np.einsum("rakd,rad->rak", self.A_inv, self.b)
        mean = np.einsum("rak,rk->ra", theta, contexts)
        width = np.sqrt(np.einsum("rk,rakd,rd->ra", contexts, self.A_inv, contexts))
        return np.argmax(mean + self.alpha * width, axis=1)

    def update(self, arms, rewards, contexts=None):
        """Sherman-Morrison update of the pulled arm of each run.

        Parameters
        ----------
        arms : numpy.ndarray of int, shape (n_runs,)
            The pulled arms.
        rewards : numpy.ndarray of shape (n_runs,)
            Their rewards.
        contexts : numpy.ndarray, default=None
            The contexts (contextual policies only).
        """
        rows = np.arange(len(arms))
        A_inv = self.A_inv[rows, arms]  # (r, d, d)
        Ax = np.einsum("rkd,rd->rk", A_inv, contexts)
        denom = 1.0 + np.einsum("rk,rk->r", contexts, Ax)
        self.A_inv[rows, arms] = A_inv - np.einsum("rk,rd->rkd", Ax, Ax) / denom[:, None, None]
        self.b[rows, arms] += rewards[:, None] * contexts


# ----------------------------------------------------------------------- simulation


def simulate(bandit, policy, horizon, n_runs=1000, random_state=None):
    """Cumulative pseudo-regret of ``policy`` on ``bandit`` over independent runs.

    Parameters
    ----------
    bandit : BernoulliBandit, GaussianBandit or LinearContextualBandit
        The environment.
    policy : EpsilonGreedy, UCB1, ThompsonSampling or LinUCB
        The policy (its state is reset here).
    horizon : int
        Pulls per run :math:`T`.
    n_runs : int, default=1000
        Independent runs, simulated together.
    random_state : int or None, default=None
        Seed (``None``: fresh entropy).

    Returns
    -------
    regret : numpy.ndarray of shape (n_runs, horizon)
        :math:`R_t` of each run: cumulative sum of :math:`\\mu^* - \\mu_{a_t}` (with
        contexts, :math:`\\max_a \\theta_a^\\top x_t - \\theta_{a_t}^\\top x_t`).
    """
    check_scalar(horizon, "horizon", Integral, min_val=1)
    check_scalar(n_runs, "n_runs", Integral, min_val=1)
    rng = np.random.default_rng(random_state)
    contextual = getattr(bandit, "kind", None) == "linear"
    policy.reset(n_runs, bandit.n_arms, bandit.n_features if contextual else None)
    regret = np.empty((n_runs, horizon))
    total = np.zeros(n_runs)
    for t in range(horizon):
        contexts = bandit.contexts(n_runs, rng) if contextual else None
        arms = policy.select(rng, contexts)
        rewards = bandit.pull(arms, rng, contexts)
        policy.update(arms, rewards, contexts)
        total += bandit.best_expected_rewards(n_runs, contexts) - \
            bandit.expected_rewards(arms, contexts)
        regret[:, t] = total
    return regret


def _bernoulli_kl(p, q):
    eps = 1e-15
    p = np.clip(p, eps, 1 - eps)
    q = np.clip(q, eps, 1 - eps)
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


def lai_robbins_bound(means, horizon, kind="bernoulli", sigma=1.0):
    r"""Lai and Robbins' asymptotic lower bound on the regret of consistent policies.

    .. math::

        \liminf_{T\to\infty} \frac{R_T}{\ln T} \ge
        \sum_{a: \Delta_a > 0} \frac{\Delta_a}{\mathrm{KL}(\mu_a, \mu^*)},

    with the Bernoulli KL divergence, or :math:`(\mu_a - \mu^*)^2 / (2\sigma^2)` for
    Gaussian arms.

    Parameters
    ----------
    means : array-like of shape (n_arms,)
        Arm means.
    horizon : int or array-like of int
        :math:`T` (one value or a curve).
    kind : {"bernoulli", "gaussian"}, default="bernoulli"
        Reward family.
    sigma : float, default=1.0
        Gaussian reward standard deviation.

    Returns
    -------
    bound : float or numpy.ndarray
        :math:`\ln T \sum_a \Delta_a / \mathrm{KL}(\mu_a, \mu^*)`.

    Examples
    --------
    >>> from mlnotes.rl.bandits import lai_robbins_bound
    >>> round(float(lai_robbins_bound([0.5, 0.6], 1000)), 1)
    33.8
    """
    means = _check_means(means)
    best = means.max()
    sub = means[means < best]
    gaps = best - sub
    if kind == "bernoulli":
        kl = _bernoulli_kl(sub, best)
    elif kind == "gaussian":
        kl = gaps**2 / (2 * sigma**2)
    else:
        raise ValueError(f"kind must be 'bernoulli' or 'gaussian', got {kind!r}.")
    return np.log(np.asarray(horizon, dtype=np.float64)) * np.sum(gaps / kl)


def ucb1_regret_bound(means, horizon):
    r"""UCB1's finite-time upper bound on the expected regret (rewards in [0, 1]).

    .. math::

        R_T \le \sum_{a: \Delta_a > 0} \frac{8 \ln T}{\Delta_a}
        + \Big(1 + \frac{\pi^2}{3}\Big) \sum_a \Delta_a .

    Parameters
    ----------
    means : array-like of shape (n_arms,)
        Arm means in [0, 1].
    horizon : int or array-like of int
        :math:`T`.

    Returns
    -------
    bound : float or numpy.ndarray
        The bound.

    Examples
    --------
    >>> from mlnotes.rl.bandits import ucb1_regret_bound
    >>> round(float(ucb1_regret_bound([0.5, 0.6], 1000)), 1)
    553.0
    """
    means = _check_means(means, 0.0, 1.0)
    gaps = means.max() - means
    positive = gaps[gaps > 0]
    log_t = np.log(np.asarray(horizon, dtype=np.float64))
    return 8 * log_t * np.sum(1 / positive) + (1 + np.pi**2 / 3) * gaps.sum()
