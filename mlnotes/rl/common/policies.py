"""Policies of the on-policy agents: an actor (action distribution) and a critic (value).

:class:`ActorCriticPolicy` (alias ``MlpPolicy``) mirrors Stable-Baselines3's: Box and
Discrete observations (Discrete ones one-hot encoded), a categorical head for Discrete
actions and a diagonal Gaussian with a state-independent ``log_std`` for Box actions,
orthogonal initialisation with SB3's gains, and the optimiser owned by the policy.
"""

import math
from functools import partial

import numpy as np
import torch
from gymnasium import spaces
from torch import nn
from torch.nn import functional as F

from .distributions import make_proba_distribution

# activations applied as plain functions by _run_sequential (out of place, in place)
_ACTIVATIONS = {nn.Tanh: (torch.tanh, torch.tanh_), nn.ReLU: (torch.relu, torch.relu_)}


def _run_sequential(seq, h):
    """Apply an ``nn.Sequential`` of Linear layers and activations without the
    per-module call overhead (the rollout loop runs it at every step).

    Linear layers read their ``weight``/``bias`` attributes at call time, so
    ``torch.func.functional_call`` substitutions still apply; any other module is
    called normally. Activations run in place on tensors this function created when
    no graph is being recorded (no_grad / inference mode).
    """
    inplace = not torch.is_grad_enabled()
    fresh = False
    for module in seq._modules.values():
        kind = type(module)
        if kind is nn.Linear:
            h = F.linear(h, module.weight, module.bias)
            fresh = True
        elif kind in _ACTIVATIONS:
            out_of_place, in_place = _ACTIVATIONS[kind]
            if inplace and fresh:
                in_place(h)
            else:
                h = out_of_place(h)
                fresh = True
        else:
            h = module(h)
            fresh = False
    return h


def _count_modules(module):
    return 1 + sum(_count_modules(m) for m in module._modules.values() if m is not None)


def _head(module, h):
    """A Linear head applied without the module call overhead (any other module as is)."""
    if type(module) is nn.Linear:
        return F.linear(h, module.weight, module.bias)
    return module(h)


def check_spaces(observation_space, action_space, algorithm="This agent",
                 action_spaces=(spaces.Box, spaces.Discrete)):
    """Reject the spaces the policies cannot handle with a clear error.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Space
        Must be ``Box`` or ``Discrete``.
    action_space : gymnasium.spaces.Space
        Must be an instance of one of ``action_spaces``.
    algorithm : str, default="This agent"
        Name used in the message.
    action_spaces : tuple of type, default=(Box, Discrete)
        The action spaces the algorithm supports.

    Raises
    ------
    ValueError
        When a space is not supported.
    """
    if not isinstance(observation_space, (spaces.Box, spaces.Discrete)):
        raise ValueError(
            f"{algorithm} does not support the observation space {observation_space!r}: "
            "only Box and Discrete observation spaces are supported (flatten Dict or "
            "Tuple observations, e.g. with gymnasium.wrappers.FlattenObservation)."
        )
    if not isinstance(action_space, tuple(action_spaces)):
        names = ", ".join(s.__name__ for s in action_spaces)
        raise ValueError(
            f"{algorithm} does not support the action space {action_space!r}: "
            f"supported action spaces are {names}."
        )
    if isinstance(action_space, spaces.Discrete) and int(action_space.start) != 0:
        raise ValueError(
            f"{algorithm} does not support the action space {action_space!r}: a "
            "Discrete action space must start at 0 (as in Stable-Baselines3); shift the "
            "actions with a gymnasium.ActionWrapper."
        )


def _features_dim(observation_space):
    if isinstance(observation_space, spaces.Discrete):
        return int(observation_space.n)
    return int(np.prod(observation_space.shape))


def _mlp(in_dim, sizes, activation_fn):
    layers = []
    for size in sizes:
        layers += [nn.Linear(in_dim, size), activation_fn()]
        in_dim = size
    return nn.Sequential(*layers), in_dim


class BasePolicy(nn.Module):
    """Common part of the policies: observation handling, ``predict``, optimiser.

    A subclass implements ``_predict(obs, deterministic)`` returning the actions as a
    tensor; imitation learners (behavioural cloning) can subclass this directly.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space.
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space.
    """

    def __init__(self, observation_space, action_space):
        super().__init__()
        check_spaces(observation_space, action_space, type(self).__name__)
        self.observation_space = observation_space
        self.action_space = action_space
        self.features_dim = _features_dim(observation_space)
        self.optimizer = None
        if isinstance(action_space, spaces.Box):
            self._low = np.asarray(action_space.low)
            self._high = np.asarray(action_space.high)

    @property
    def device(self):
        """Device of the parameters (CPU when there are none).

        Returns
        -------
        device : torch.device
            The device.
        """
        for p in self.parameters():
            return p.device
        return torch.device("cpu")

    def set_training_mode(self, mode):
        """Switch train/eval mode (dropout, batch norm).

        Parameters
        ----------
        mode : bool
            ``True`` for training mode.
        """
        mode = bool(mode)
        modules = self.__dict__.get("_mode_modules")
        if modules is None or len(modules) != _count_modules(self):
            # nn.Module.train recurses through __setattr__ (costly at every rollout);
            # modules that keep the default train() only need their flag set
            modules = list(self.modules())
            if any(type(m).train is not nn.Module.train for m in modules):
                modules = ()
            self.__dict__["_mode_modules"] = modules
        if not modules:
            self.train(mode)
            return
        for module in modules:
            module.__dict__["training"] = mode

    def preprocess_obs(self, obs):
        """Turn a batch of raw observations into float features.

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.

        Returns
        -------
        features : torch.Tensor of shape (n, features_dim)
            ``float32`` features (one-hot for Discrete observations).
        """
        if isinstance(self.observation_space, spaces.Discrete):
            idx = obs.reshape(-1).long() - int(self.observation_space.start)
            return nn.functional.one_hot(idx, self.features_dim).float()
        return obs.reshape(obs.shape[0], -1).float()

    def is_vectorized_observation(self, observation):
        """Check an observation's shape and say whether it is a batch.

        Parameters
        ----------
        observation : numpy.ndarray
            One observation or a batch of them.

        Returns
        -------
        vectorized : bool
            ``True`` for a batch ``(n_env,) + obs_shape``.

        Raises
        ------
        ValueError
            When the shape matches neither form.
        """
        space = self.observation_space
        if isinstance(space, spaces.Discrete):
            if observation.shape == ():
                return False
            if observation.ndim == 1:
                return True
            raise ValueError(
                f"Error: Unexpected observation shape {observation.shape} for Discrete "
                "environment, please use () or (n_env,) for the observation shape."
            )
        if observation.shape == space.shape:
            return False
        if observation.shape[1:] == space.shape:
            return True
        raise ValueError(
            f"Error: Unexpected observation shape {observation.shape} for Box "
            f"environment, please use {space.shape} or (n_env, "
            f"{', '.join(map(str, space.shape))}) for the observation shape."
        )

    def obs_to_tensor(self, observation):
        """Validate an observation and convert it to a batched tensor.

        Parameters
        ----------
        observation : array-like
            One observation or a batch of them.

        Returns
        -------
        obs_tensor : torch.Tensor of shape (n,) + obs_shape
            The batch on the policy's device.
        vectorized : bool
            Whether ``observation`` was already a batch.
        """
        if isinstance(observation, dict):
            raise ValueError(
                "A dict observation was passed but the observation space is "
                f"{self.observation_space}."
            )
        observation = np.asarray(observation)
        vectorized = self.is_vectorized_observation(observation)
        observation = observation.reshape((-1, *self.observation_space.shape))
        if observation.dtype == object or not np.all(np.isfinite(observation)):
            raise ValueError("The observation contains NaN, infinity or non-numbers.")
        return torch.as_tensor(observation, device=self.device), vectorized

    def _predict(self, obs, deterministic=False):
        """Actions for a batch of preprocessed observations (each policy defines it)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _predict.")

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        """Action(s) for one observation or a batch, as Stable-Baselines3's ``predict``.

        Parameters
        ----------
        observation : array-like of shape obs_shape or (n_env,) + obs_shape
            The observation(s).
        state : None
            Recurrent state (unused; returned unchanged).
        episode_start : numpy.ndarray, default=None
            Episode starts (unused; for recurrent policies).
        deterministic : bool, default=False
            Take the most likely action instead of sampling.

        Returns
        -------
        actions : numpy.ndarray
            Shape ``action_shape`` for one observation, ``(n_env,) + action_shape`` for a
            batch; Box actions are clipped to the bounds.
        state : None
            The recurrent state (always ``None`` here).
        """
        if (isinstance(observation, tuple) and len(observation) == 2
                and isinstance(observation[1], dict)):
            raise ValueError(
                "You have passed a tuple to the predict() function instead of a Numpy "
                "array: you are probably mixing the Gym API with the SB3 VecEnv API "
                "(`obs, info = env.reset()` vs `obs = vec_env.reset()`)."
            )
        self.set_training_mode(False)
        obs, vectorized = self.obs_to_tensor(observation)
        with torch.no_grad():
            actions = self._predict(obs, deterministic=deterministic)
        actions = actions.cpu().numpy().reshape((-1, *self.action_space.shape))
        if isinstance(self.action_space, spaces.Box):
            actions = np.clip(actions, self._low, self._high)
        if not vectorized:
            actions = actions.squeeze(axis=0)
        return actions, state


class ActorCriticPolicy(BasePolicy):
    """MLP actor-critic policy (``MlpPolicy``), the policy of A2C and the on-policy agents.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space (Discrete observations are one-hot encoded).
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space: categorical head for Discrete, diagonal Gaussian for Box.
    lr_schedule : callable
        Learning-rate schedule; ``lr_schedule(1)`` is the optimiser's initial rate.
    net_arch : list of int or dict, default=None
        Hidden layers. A list gives the actor and the critic separate networks of that
        shape; ``dict(pi=[...], vf=[...])`` separate networks of different shapes;
        ``dict(shared=[...], pi=[...], vf=[...])`` a shared trunk followed by separate
        layers (``pi``/``vf`` may be empty: one network with two linear heads).
        ``None`` means ``dict(pi=[64, 64], vf=[64, 64])`` as in SB3.
    activation_fn : type of torch.nn.Module, default=torch.nn.Tanh
        Activation after every hidden layer.
    ortho_init : bool, default=True
        Orthogonal initialisation with SB3's gains (``sqrt(2)`` hidden layers, 0.01 the
        action head, 1 the value head), zero biases.
    log_std_init : float, default=0.0
        Initial ``log_std`` of the Gaussian head (Box actions).
    share_features_extractor : bool, default=True
        Accepted for SB3 compatibility; the MLP features extractor only flattens, so it
        has no parameters to share. Use ``net_arch=dict(shared=...)`` to share layers.
    optimizer_class : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimiser class.
    optimizer_kwargs : dict, default=None
        Extra optimiser arguments (``eps=1e-5`` for Adam when not given, as SB3).

    Attributes
    ----------
    shared_net, policy_net, value_net_body : torch.nn.Sequential
        The hidden layers.
    action_net : torch.nn.Linear
        Head giving the logits (Discrete) or the mean (Box).
    value_net : torch.nn.Linear
        Head giving the state value.
    log_std : torch.nn.Parameter or None
        Log standard deviations of the Gaussian head.
    optimizer : torch.optim.Optimizer
        The optimiser of all the parameters.

    Examples
    --------
    >>> import gymnasium as gym
    >>> from mlnotes.rl.common.policies import ActorCriticPolicy
    >>> env = gym.make("CartPole-v1")
    >>> policy = ActorCriticPolicy(env.observation_space, env.action_space, lambda _: 1e-3)
    >>> action, _ = policy.predict(env.observation_space.sample())
    >>> action.shape
    ()
    """

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.Tanh, ortho_init=True, log_std_init=0.0,
                 share_features_extractor=True, optimizer_class=torch.optim.Adam,
                 optimizer_kwargs=None):
        super().__init__(observation_space, action_space)
        if net_arch is None:
            net_arch = dict(pi=[64, 64], vf=[64, 64])
        if isinstance(net_arch, dict):
            unknown = set(net_arch) - {"shared", "pi", "vf"}
            if unknown:
                raise ValueError(f"Unknown net_arch keys {sorted(unknown)}; use shared, pi, vf.")
            shared = list(net_arch.get("shared", []))
            pi, vf = list(net_arch.get("pi", [])), list(net_arch.get("vf", []))
        else:
            shared, pi, vf = [], list(net_arch), list(net_arch)
        for size in shared + pi + vf:
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"net_arch layer sizes must be positive integers, got {net_arch!r}.")
        self.net_arch = net_arch
        self.activation_fn = activation_fn
        self.ortho_init = ortho_init
        self.log_std_init = log_std_init
        self.share_features_extractor = share_features_extractor
        self.shared_net, dim = _mlp(self.features_dim, shared, activation_fn)
        self.policy_net, pi_dim = _mlp(dim, pi, activation_fn)
        self.value_net_body, vf_dim = _mlp(dim, vf, activation_fn)
        self.distribution = make_proba_distribution(action_space)
        if isinstance(action_space, spaces.Box):
            self.action_net, self.log_std = self.distribution.proba_distribution_net(
                pi_dim, log_std_init)
        else:
            self.action_net, self.log_std = self.distribution.proba_distribution_net(pi_dim)
        self.value_net = nn.Linear(vf_dim, 1)
        if ortho_init:
            for module, gain in ((self.shared_net, math.sqrt(2)), (self.policy_net, math.sqrt(2)),
                                 (self.value_net_body, math.sqrt(2)), (self.action_net, 0.01),
                                 (self.value_net, 1.0)):
                module.apply(partial(_init_weights, gain=gain))
        optimizer_kwargs = dict(optimizer_kwargs or {})
        if optimizer_class is torch.optim.Adam:
            optimizer_kwargs.setdefault("eps", 1e-5)
        self.optimizer_class = optimizer_class
        self.optimizer_kwargs = optimizer_kwargs
        self.optimizer = optimizer_class(self.parameters(), lr=lr_schedule(1), **optimizer_kwargs)

    def _latent(self, features):
        shared = _run_sequential(self.shared_net, features)
        return (_run_sequential(self.policy_net, shared),
                _run_sequential(self.value_net_body, shared))

    def forward(self, obs, deterministic=False):
        """Sample actions and give their values and log-probabilities (one forward pass).

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.
        deterministic : bool, default=False
            Take the mode instead of sampling.

        Returns
        -------
        actions : torch.Tensor
            Shape ``(n,)`` (Discrete) or ``(n, action_dim)`` (Box), unclipped.
        values : torch.Tensor of shape (n,)
            Critic's values.
        log_prob : torch.Tensor of shape (n,)
            ``log pi(a | s)``.
        """
        latent_pi, latent_vf = self._latent(self.preprocess_obs(obs))
        actions, log_prob = self.distribution.sample(
            _head(self.action_net, latent_pi), self.log_std, deterministic)
        values = _head(self.value_net, latent_vf)
        return actions, values.squeeze(-1), log_prob

    def evaluate_actions(self, obs, actions):
        """Values, log-probabilities and entropies for given actions (training pass).

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.
        actions : torch.Tensor
            Actions taken.

        Returns
        -------
        values : torch.Tensor of shape (n,)
            Critic's values.
        log_prob : torch.Tensor of shape (n,)
            ``log pi(a | s)``.
        entropy : torch.Tensor of shape (n,)
            Entropy of ``pi(. | s)``.
        """
        latent_pi, latent_vf = self._latent(self.preprocess_obs(obs))
        log_prob, entropy = self.distribution.log_prob_entropy(
            _head(self.action_net, latent_pi), self.log_std, actions)
        values = _head(self.value_net, latent_vf)
        return values.squeeze(-1), log_prob, entropy

    def predict_values(self, obs):
        """Critic's value of each observation.

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.

        Returns
        -------
        values : torch.Tensor of shape (n,)
            ``V(s)``.
        """
        shared = _run_sequential(self.shared_net, self.preprocess_obs(obs))
        latent_vf = _run_sequential(self.value_net_body, shared)
        return _head(self.value_net, latent_vf).squeeze(-1)

    def action_params(self, obs):
        """Parameters of the action distribution (logits, or mean and ``log_std``).

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.

        Returns
        -------
        params : torch.Tensor
            Logits ``(n, n_actions)`` or means ``(n, action_dim)``.
        log_std : torch.Tensor or None
            ``log_std`` of the Gaussian head.
        """
        latent_pi = _run_sequential(
            self.policy_net, _run_sequential(self.shared_net, self.preprocess_obs(obs)))
        return _head(self.action_net, latent_pi), self.log_std

    def _predict(self, obs, deterministic=False):
        params, log_std = self.action_params(obs)
        if deterministic:
            return self.distribution.mode(params, log_std)
        return self.distribution.sample(params, log_std)[0]


def _init_weights(module, gain):
    if isinstance(module, nn.Linear):
        nn.init.orthogonal_(module.weight, gain=gain)
        nn.init.zeros_(module.bias)


MlpPolicy = ActorCriticPolicy
