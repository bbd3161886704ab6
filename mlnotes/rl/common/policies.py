"""Policies of the on-policy agents: an actor (action distribution) and a critic (value).

:class:`ActorCriticPolicy` (alias ``MlpPolicy``) mirrors Stable-Baselines3's: Box,
Discrete and (with a features extractor) Dict observations, a categorical head for
Discrete actions and a diagonal Gaussian with a state-independent ``log_std`` for Box
actions, orthogonal initialisation with SB3's gains, and the optimiser owned by the
policy. ``CnnPolicy`` (:class:`ActorCriticCnnPolicy`, SB3's ``NatureCNN`` on images) and
``MultiInputPolicy`` (:class:`MultiInputActorCriticPolicy`, SB3's ``CombinedExtractor``
on Dict observations) are the same policy with another default features extractor.
Every policy saves and loads alone (``policy.save(path)``, ``PolicyClass.load(path)``)
in the agents' safe format.
"""

import functools
import inspect
import math
from functools import partial

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space, maybe_transpose
from stable_baselines3.common.preprocessing import preprocess_obs as sb3_preprocess_obs
from stable_baselines3.common.torch_layers import CombinedExtractor, FlattenExtractor, NatureCNN
from torch import nn
from torch.nn import functional as F

from . import save_util
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
                 action_spaces=(spaces.Box, spaces.Discrete), dict_observations=False,
                 multi_binary=False):
    """Reject the spaces the policies cannot handle with a clear error.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Space
        Must be ``Box`` or ``Discrete`` (or, with ``dict_observations``, a ``Dict`` of
        them).
    action_space : gymnasium.spaces.Space
        Must be an instance of one of ``action_spaces``.
    algorithm : str, default="This agent"
        Name used in the message.
    action_spaces : tuple of type, default=(Box, Discrete)
        The action spaces the algorithm supports.
    dict_observations : bool, default=False
        Whether ``Dict`` observation spaces (not nested) are accepted.
    multi_binary : bool, default=False
        Whether ``MultiBinary`` observation spaces (plain or inside a ``Dict``) are
        accepted (read as float features, as SB3).

    Raises
    ------
    ValueError
        When a space is not supported.
    """
    simple = (spaces.Box, spaces.Discrete) + ((spaces.MultiBinary,) if multi_binary else ())
    if dict_observations and isinstance(observation_space, spaces.Dict):
        for key, sub in observation_space.spaces.items():
            if not isinstance(sub, simple):
                raise ValueError(
                    f"{algorithm} does not support the entry {key!r} of the Dict observation "
                    f"space ({sub!r}): entries must be Box or Discrete spaces (no nesting)"
                    + (", or MultiBinary." if multi_binary else ".")
                )
    elif not isinstance(observation_space, simple):
        hint = (" use MultiInputPolicy for Dict observations, or flatten them with "
                "gymnasium.wrappers.FlattenObservation" if dict_observations else
                " flatten Dict or Tuple observations, e.g. with "
                "gymnasium.wrappers.FlattenObservation")
        raise ValueError(
            f"{algorithm} does not support the observation space {observation_space!r}: "
            f"only Box and Discrete observation spaces are supported ({hint.strip()})."
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
    if isinstance(observation_space, spaces.Dict):
        return sum(_features_dim(s) for s in observation_space.spaces.values())
    return int(np.prod(observation_space.shape))


def _mlp(in_dim, sizes, activation_fn):
    layers = []
    for size in sizes:
        layers += [nn.Linear(in_dim, size), activation_fn()]
        in_dim = size
    return nn.Sequential(*layers), in_dim


def _is_vectorized(observation, space, key=None):
    where = "" if key is None else f" (key {key!r})"
    if isinstance(space, spaces.Discrete):
        if observation.shape == ():
            return False
        if observation.ndim == 1:
            return True
        raise ValueError(
            f"Error: Unexpected observation shape {observation.shape}{where} for Discrete "
            "environment, please use () or (n_env,) for the observation shape."
        )
    if observation.shape == space.shape:
        return False
    if observation.shape[1:] == space.shape:
        return True
    raise ValueError(
        f"Error: Unexpected observation shape {observation.shape}{where} for Box "
        f"environment, please use {space.shape} or (n_env, "
        f"{', '.join(map(str, space.shape))}) for the observation shape."
    )


def _numeric_array(observation, space, key=None):
    """``np.asarray(observation)``, rejecting non-numeric dtypes with a clear error."""
    where = "" if key is None else f" under key {key!r}"
    try:
        array = np.asarray(observation)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"The observation{where} could not be converted to a numeric array ({exc}); "
            f"the observation space is {space}."
        ) from exc
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"The observation{where} has the wrong dtype: {array.dtype} (e.g. strings or "
            f"objects), but the observation space {space} holds numbers of dtype "
            f"{space.dtype}."
        )
    return array


class BasePolicy(nn.Module):
    """Common part of the policies: observation handling, ``predict``, save/load.

    A subclass implements ``_predict(obs, deterministic)`` returning the actions as a
    tensor; imitation learners (behavioural cloning) can subclass this directly. The
    arguments a subclass's constructor was called with are recorded (for
    :meth:`save`).

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space (``Dict`` when the subclass sets
        ``supports_dict_observations``).
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space.
    normalize_images : bool, default=True
        Divide image observations (``uint8`` Box spaces, as SB3's ``is_image_space``)
        by 255.
    """

    #: whether the policy accepts Dict observation spaces
    supports_dict_observations = False
    #: whether the policy accepts MultiBinary observations (plain or Dict entries)
    supports_multibinary_observations = False

    def __init_subclass__(cls, **kwargs):
        # record the constructor arguments of the concrete class (for save/load)
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        signature = inspect.signature(init)

        @functools.wraps(init)
        def __init__(self, *args, **kw):
            if type(self).__init__ is __init__:
                bound = signature.bind(self, *args, **kw)
                bound.apply_defaults()
                params = {}
                for name, value in list(bound.arguments.items())[1:]:
                    if signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
                        params.update(value)
                    elif signature.parameters[name].kind is not inspect.Parameter.VAR_POSITIONAL:
                        params[name] = value
                init(self, *args, **kw)
                self.__dict__["_init_params"] = params
            else:
                init(self, *args, **kw)

        cls.__init__ = __init__

    def __init__(self, observation_space, action_space, normalize_images=True):
        super().__init__()
        check_spaces(observation_space, action_space, type(self).__name__,
                     dict_observations=self.supports_dict_observations,
                     multi_binary=self.supports_multibinary_observations)
        self.observation_space = observation_space
        self.action_space = action_space
        self.normalize_images = bool(normalize_images)
        self.features_dim = _features_dim(observation_space)
        self.optimizer = None
        self._image_scale = (1.0 / 255.0 if self.normalize_images
                             and not isinstance(observation_space, spaces.Dict)
                             and is_image_space(observation_space, check_channels=False)
                             else None)
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
        cached = self.__dict__.get("_mode_modules")
        count = _count_modules(self)
        if cached is None or cached[0] != count:
            # nn.Module.train recurses through __setattr__ (costly at every rollout);
            # modules that keep the default train() only need their flag set
            modules = list(self.modules())
            if any(type(m).train is not nn.Module.train for m in modules):
                modules = ()
            cached = self.__dict__["_mode_modules"] = (count, modules)
        modules = cached[1]
        if not modules:
            self.train(mode)
            return
        for module in modules:
            module.__dict__["training"] = mode

    def preprocess_obs(self, obs):
        """Turn a batch of raw observations into flat float features.

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.

        Returns
        -------
        features : torch.Tensor of shape (n, features_dim)
            ``float32`` features (one-hot for Discrete observations, images divided by
            255 when ``normalize_images``).
        """
        if isinstance(self.observation_space, spaces.Discrete):
            idx = obs.reshape(-1).long() - int(self.observation_space.start)
            return nn.functional.one_hot(idx, self.features_dim).float()
        if isinstance(self.observation_space, spaces.Dict):
            parts = sb3_preprocess_obs(obs, self.observation_space, self.normalize_images)
            return torch.cat([parts[k].reshape(parts[k].shape[0], -1)
                              for k in self.observation_space.spaces], dim=1)
        flat = obs.reshape(obs.shape[0], -1).float()
        if self._image_scale is not None:
            flat = flat * self._image_scale
        return flat

    def is_vectorized_observation(self, observation):
        """Check an observation's shape and say whether it is a batch.

        Parameters
        ----------
        observation : numpy.ndarray or dict of numpy.ndarray
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
        if isinstance(space, spaces.Dict):
            flags = {_is_vectorized(np.asarray(observation[k]), s, k)
                     for k, s in space.spaces.items()}
            if len(flags) > 1:
                raise ValueError("Some entries of the Dict observation are batched and "
                                 "some are not.")
            return flags.pop()
        return _is_vectorized(observation, space)

    def _array_to_tensor(self, observation, space, key=None):
        observation = _numeric_array(observation, space, key)
        if is_image_space(space):
            observation = maybe_transpose(observation, space)
        vectorized = _is_vectorized(observation, space, key)
        observation = observation.reshape((-1, *space.shape))
        if observation.dtype.kind == "f" and not np.all(np.isfinite(observation)):
            raise ValueError("The observation contains NaN, infinity or non-numbers.")
        return torch.as_tensor(observation, device=self.device), vectorized

    def obs_to_tensor(self, observation):
        """Validate an observation and convert it to a batched tensor.

        Channel-last images are transposed when the policy's space is the channel-first
        one SB3's ``VecTransposeImage`` made (as SB3).

        Parameters
        ----------
        observation : array-like or dict of array-like
            One observation or a batch of them.

        Returns
        -------
        obs_tensor : torch.Tensor or dict of torch.Tensor
            The batch ``(n,) + obs_shape`` on the policy's device.
        vectorized : bool
            Whether ``observation`` was already a batch.

        Raises
        ------
        TypeError
            When the observation is not numeric (wrong dtype).
        ValueError
            For a wrong shape, NaN or infinity, or a dict where none is expected.
        """
        space = self.observation_space
        if isinstance(space, spaces.Dict):
            if not isinstance(observation, dict):
                raise ValueError(
                    f"The observation space is a Dict with keys {list(space.spaces)}: pass "
                    f"a dict of arrays, not {type(observation).__name__}.")
            missing = [k for k in space.spaces if k not in observation]
            if missing:
                raise ValueError(f"The observation dict misses the keys {missing}.")
            tensors, flags = {}, set()
            for key, sub in space.spaces.items():
                tensors[key], flag = self._array_to_tensor(observation[key], sub, key)
                flags.add(flag)
            if len(flags) > 1 or len({t.shape[0] for t in tensors.values()}) > 1:
                raise ValueError("The entries of the Dict observation have different batch "
                                 "sizes (some batched, some not).")
            return tensors, flags.pop()
        if isinstance(observation, dict):
            raise ValueError(
                "A dict observation was passed but the observation space is "
                f"{self.observation_space}."
            )
        return self._array_to_tensor(observation, space)

    def _predict(self, obs, deterministic=False):
        """Actions for a batch of preprocessed observations (each policy defines it)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _predict.")

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        """Action(s) for one observation or a batch, as Stable-Baselines3's ``predict``.

        Parameters
        ----------
        observation : array-like of shape obs_shape or (n_env,) + obs_shape
            The observation(s) (a dict of them for Dict observation spaces).
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
                "array or a Dict: you are probably mixing Gym API with SB3 VecEnv API "
                "(`obs, info = env.reset()` (Gym) vs `obs = vec_env.reset()` (SB3 VecEnv))."
            )
        self.set_training_mode(False)
        obs, vectorized = self.obs_to_tensor(observation)
        with torch.no_grad():
            actions = self._predict(obs, deterministic=deterministic)
        actions = actions.cpu().numpy().reshape((-1, *self.action_space.shape))
        if isinstance(self.action_space, spaces.Box):
            if getattr(self, "squash_output", False):
                actions = self.unscale_action(actions)  # tanh-squashed: [-1, 1] -> bounds
            else:
                actions = np.clip(actions, self._low, self._high)
        if not vectorized:
            actions = actions.squeeze(axis=0)
        return actions, state

    # ------------------------------------------------------------------ save / load

    def _get_constructor_parameters(self):
        """The arguments the policy was built with (spaces included).

        Returns
        -------
        params : dict
            Constructor argument names mapped to their values.
        """
        params = dict(self.__dict__.get("_init_params", {}))
        params.setdefault("observation_space", self.observation_space)
        params.setdefault("action_space", self.action_space)
        return params

    def save(self, path):
        """Save the policy alone (SB3's ``policy.save``), in the agents' safe format.

        One zip at ``path`` exactly: the constructor arguments as JSON (classes by
        name, from the allow-list) and the state dict through ``torch.save``. A policy
        wrapped by ``torch.compile`` saves its original module's parameters.

        Parameters
        ----------
        path : str, pathlib.Path or file-like
            Destination.
        """
        policy = getattr(self, "_orig_mod", self)
        stored, needs_custom = {}, []
        params = policy._get_constructor_parameters()
        for name, value in params.items():
            if name in ("observation_space", "action_space", "lr_schedule"):
                continue
            data, ok = save_util.encode(value)
            stored[name] = data
            if not ok:
                needs_custom.append(name)
        meta = {
            "policy_class": save_util.qualified_name(type(policy)),
            "params": stored,
            "needs_custom_objects": needs_custom,
            "observation_space": save_util.encode_space(policy.observation_space),
            "action_space": save_util.encode_space(policy.action_space),
        }
        save_util.save_to_zip(path, meta, {"policy": policy.state_dict()}, kind="policy")

    @classmethod
    def load(cls, path, device="auto"):
        """Load a policy written by :meth:`save` (no code from the file is executed).

        Parameters
        ----------
        path : str, pathlib.Path or file-like
            The file.
        device : str or torch.device, default="auto"
            Device of the loaded policy.

        Returns
        -------
        policy : BasePolicy
            The policy, in evaluation mode; its optimiser is a fresh one (the
            learning-rate schedule is not saved, as in SB3).
        """
        from .base_class import get_device

        meta, state_dicts = save_util.load_from_zip(path, device="cpu", kind="policy")
        saved = str(meta.get("policy_class", ""))
        if saved.rsplit(".", 1)[-1] != cls.__name__:
            raise ValueError(
                f"The file holds a {saved.rsplit('.', 1)[-1] or 'unknown'} policy; load it "
                f"with that class, not {cls.__name__}."
            )
        try:
            params = {k: save_util.decode(v) for k, v in meta["params"].items()}
            params["observation_space"] = save_util.decode_space(meta["observation_space"])
            params["action_space"] = save_util.decode_space(meta["action_space"])
            state = state_dicts["policy"]
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"Corrupted policy save file: malformed metadata ({exc}).") from exc
        for name, value in params.items():
            if isinstance(value, save_util._Unstorable) or (
                    isinstance(value, (dict, list, tuple)) and "_Unstorable" in repr(value)):
                raise ValueError(
                    f"The policy argument {name!r} could not be stored in the file; build "
                    f"the policy yourself and call load_state_dict.")
        if "lr_schedule" in inspect.signature(cls.__init__).parameters:
            params["lr_schedule"] = _dummy_schedule
        policy = cls(**params)
        try:
            policy.load_state_dict(save_util.strip_compile_prefix(state))
        except RuntimeError as exc:
            raise ValueError(f"The save file's tensors do not fit the policy: {exc}") from exc
        policy.set_training_mode(False)
        return policy.to(get_device(device))


def _dummy_schedule(_progress_remaining):
    """Placeholder learning rate of a loaded policy (as SB3's ``_dummy_schedule``)."""
    return 0.0


def _make_extractor(features_extractor_class, observation_space, kwargs):
    try:
        return features_extractor_class(observation_space, **kwargs)
    except AssertionError as exc:  # SB3's extractors assert on unsuitable spaces
        raise ValueError(
            f"{features_extractor_class.__name__} cannot handle the observation space "
            f"{observation_space}: {exc}") from exc


class ActorCriticPolicy(BasePolicy):
    """Actor-critic policy (``MlpPolicy``), the policy of A2C and the on-policy agents.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Space
        Observation space: Box or Discrete (one-hot encoded); Dict with a Dict-capable
        features extractor (``MultiInputPolicy``).
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space: categorical head for Discrete, diagonal Gaussian for Box.
    lr_schedule : callable
        Learning-rate schedule; ``lr_schedule(1)`` is the optimiser's initial rate.
    net_arch : list of int or dict, default=None
        Hidden layers after the features extractor. A list gives the actor and the
        critic separate networks of that shape; ``dict(pi=[...], vf=[...])`` separate
        networks of different shapes; ``dict(shared=[...], pi=[...], vf=[...])`` a
        shared trunk followed by separate layers (``pi``/``vf`` may be empty: one
        network with two linear heads). ``None`` means ``dict(pi=[64, 64], vf=[64, 64])``
        as in SB3.
    activation_fn : type of torch.nn.Module, default=torch.nn.Tanh
        Activation after every hidden layer.
    ortho_init : bool, default=True
        Orthogonal initialisation with SB3's gains (``sqrt(2)`` features extractor and
        hidden layers, 0.01 the action head, 1 the value head), zero biases.
    use_sde : bool, default=False
        Generalised state-dependent exploration (gSDE, Box actions only): the noise is
        :math:`z(s)^\\top\\theta_\\epsilon` with :math:`z(s)` the actor's last hidden
        layer and :math:`\\theta_\\epsilon \\sim \\mathcal N(0, \\sigma^2)` redrawn by
        :meth:`reset_noise` (the agent does it at every rollout start and every
        ``sde_sample_freq`` steps), see
        :class:`~mlnotes.rl.common.distributions.StateDependentNoiseDistribution`.
    log_std_init : float, default=0.0
        Initial ``log_std`` of the Gaussian head (Box actions), or of the gSDE noise
        weights.
    full_std : bool, default=True
        gSDE: one standard deviation per (feature, action) pair (else per feature).
    use_expln : bool, default=False
        gSDE: keep the standard deviation positive with ``expln`` instead of ``exp``.
    squash_output : bool, default=False
        gSDE: squash the actions with ``tanh`` and rescale them to the Box bounds
        (only with ``use_sde=True``, as SB3).
    features_extractor_class : type, default=FlattenExtractor
        SB3 features extractor (``stable_baselines3.common.torch_layers``): the
        default flattens (computed by a fast path, no module call); ``NatureCNN`` for
        images, ``CombinedExtractor`` for Dict observations, or any subclass of SB3's
        ``BaseFeaturesExtractor``.
    features_extractor_kwargs : dict, default=None
        Arguments of the features extractor (e.g. ``features_dim=256``).
    share_features_extractor : bool, default=True
        One features extractor for the actor and the critic, or one each.
    normalize_images : bool, default=True
        Divide image observations by 255 (SB3's ``preprocess_obs``).
    optimizer_class : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimiser class.
    optimizer_kwargs : dict, default=None
        Extra optimiser arguments (``eps=1e-5`` for Adam when not given, as SB3).

    Attributes
    ----------
    features_extractor, pi_features_extractor, vf_features_extractor : torch.nn.Module
        The features extractors (the same module when shared).
    features_dim : int
        Size of the extracted features.
    shared_net, policy_net, value_net_body : torch.nn.Sequential
        The hidden layers.
    action_net : torch.nn.Linear
        Head giving the logits (Discrete) or the mean (Box).
    value_net : torch.nn.Linear
        Head giving the state value.
    log_std : torch.nn.Parameter or None
        Log standard deviations of the Gaussian head, ``(action_dim,)``, or of the
        gSDE noise weights, ``(latent_dim, action_dim)``.
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

    supports_dict_observations = True

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.Tanh, ortho_init=True, use_sde=False, log_std_init=0.0,
                 full_std=True, use_expln=False, squash_output=False,
                 features_extractor_class=FlattenExtractor, features_extractor_kwargs=None,
                 share_features_extractor=True, normalize_images=True,
                 optimizer_class=torch.optim.Adam, optimizer_kwargs=None):
        super().__init__(observation_space, action_space, normalize_images=normalize_images)
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
        if not (isinstance(features_extractor_class, type)
                and issubclass(features_extractor_class, nn.Module)):
            raise TypeError("features_extractor_class must be a torch.nn.Module subclass "
                            f"(an SB3 features extractor), got {features_extractor_class!r}.")
        if squash_output and not use_sde:
            raise ValueError("squash_output=True is only available when using gSDE "
                             "(use_sde=True), as in SB3.")
        self.net_arch = net_arch
        self.activation_fn = activation_fn
        self.ortho_init = ortho_init
        self.use_sde = bool(use_sde)
        self.squash_output = bool(squash_output)
        self.log_std_init = log_std_init
        self.share_features_extractor = bool(share_features_extractor)
        self.features_extractor_class = features_extractor_class
        fe_kwargs = dict(features_extractor_kwargs or {})
        if not self.normalize_images and issubclass(features_extractor_class,
                                                    (NatureCNN, CombinedExtractor)):
            fe_kwargs.setdefault("normalized_image", True)  # as SB3
        self.features_extractor_kwargs = fe_kwargs
        # the flatten extractor is computed by preprocess_obs (no module call)
        self._flat = features_extractor_class is FlattenExtractor
        if self._flat and isinstance(observation_space, spaces.Dict):
            raise ValueError(
                "Dict observation spaces need a Dict features extractor: use "
                "\"MultiInputPolicy\" (CombinedExtractor), not MlpPolicy.")
        if self._flat:
            self.features_extractor = FlattenExtractor(
                observation_space if not isinstance(observation_space, spaces.Discrete)
                else spaces.Box(0.0, 1.0, (observation_space.n,)))
            self.pi_features_extractor = self.vf_features_extractor = self.features_extractor
        else:
            self.features_extractor = _make_extractor(features_extractor_class,
                                                      observation_space, fe_kwargs)
            self.features_dim = int(self.features_extractor.features_dim)
            if self.share_features_extractor:
                self.pi_features_extractor = self.features_extractor
                self.vf_features_extractor = self.features_extractor
            else:
                self.pi_features_extractor = self.features_extractor
                self.vf_features_extractor = _make_extractor(features_extractor_class,
                                                             observation_space, fe_kwargs)
        self.shared_net, dim = _mlp(self.features_dim, shared, activation_fn)
        self.policy_net, pi_dim = _mlp(dim, pi, activation_fn)
        self.value_net_body, vf_dim = _mlp(dim, vf, activation_fn)
        self.dist_kwargs = (dict(full_std=bool(full_std), use_expln=bool(use_expln),
                                 squash_output=self.squash_output, learn_features=False)
                            if self.use_sde else None)
        self.distribution = make_proba_distribution(action_space, self.use_sde,
                                                    self.dist_kwargs)
        if self.use_sde:
            self.action_net, self.log_std = self.distribution.proba_distribution_net(
                pi_dim, log_std_init=log_std_init, latent_sde_dim=pi_dim)
        elif isinstance(action_space, spaces.Box):
            self.action_net, self.log_std = self.distribution.proba_distribution_net(
                pi_dim, log_std_init)
        else:
            self.action_net, self.log_std = self.distribution.proba_distribution_net(pi_dim)
        self.value_net = nn.Linear(vf_dim, 1)
        if ortho_init:
            gains = [(self.shared_net, math.sqrt(2)), (self.policy_net, math.sqrt(2)),
                     (self.value_net_body, math.sqrt(2)), (self.action_net, 0.01),
                     (self.value_net, 1.0)]
            if not self._flat:
                gains.append((self.pi_features_extractor, math.sqrt(2)))
                if not self.share_features_extractor:
                    gains.append((self.vf_features_extractor, math.sqrt(2)))
            for module, gain in gains:
                module.apply(partial(_init_weights, gain=gain))
        optimizer_kwargs = dict(optimizer_kwargs or {})
        if optimizer_class is torch.optim.Adam:
            optimizer_kwargs.setdefault("eps", 1e-5)
        self.optimizer_class = optimizer_class
        self.optimizer_kwargs = optimizer_kwargs
        self.optimizer = optimizer_class(self.parameters(), lr=lr_schedule(1), **optimizer_kwargs)

    # ------------------------------------------------------------------ features

    def extract_features(self, obs, features_extractor=None):
        """Preprocess observations and apply a features extractor (SB3's method).

        Parameters
        ----------
        obs : torch.Tensor or dict of torch.Tensor
            Raw observations ``(n,) + obs_shape``.
        features_extractor : torch.nn.Module, default=None
            The extractor (the actor's when ``None``).

        Returns
        -------
        features : torch.Tensor of shape (n, features_dim)
            The features.
        """
        if self._flat:
            return self.preprocess_obs(obs)
        extractor = self.pi_features_extractor if features_extractor is None \
            else features_extractor
        return extractor(sb3_preprocess_obs(obs, self.observation_space, self.normalize_images))

    def _both_features(self, obs):
        if self._flat:
            features = self.preprocess_obs(obs)
            return features, features
        pre = sb3_preprocess_obs(obs, self.observation_space, self.normalize_images)
        pi = self.pi_features_extractor(pre)
        if self.share_features_extractor:
            return pi, pi
        return pi, self.vf_features_extractor(pre)

    def _latent(self, features, vf_features=None):
        shared = _run_sequential(self.shared_net, features)
        if vf_features is None or vf_features is features:
            shared_vf = shared
        else:
            shared_vf = _run_sequential(self.shared_net, vf_features)
        return (_run_sequential(self.policy_net, shared),
                _run_sequential(self.value_net_body, shared_vf))

    def forward(self, obs, deterministic=False):
        """Sample actions and give their values and log-probabilities (one forward pass).

        Parameters
        ----------
        obs : torch.Tensor or dict of torch.Tensor
            Observations ``(n,) + obs_shape``.
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
        latent_pi, latent_vf = self._latent(*self._both_features(obs))
        actions, log_prob = self.distribution.sample(
            self._dist_params(latent_pi), self.log_std, deterministic)
        values = _head(self.value_net, latent_vf)
        return actions, values.squeeze(-1), log_prob

    def evaluate_actions(self, obs, actions):
        """Values, log-probabilities and entropies for given actions (training pass).

        Parameters
        ----------
        obs : torch.Tensor or dict of torch.Tensor
            Observations ``(n,) + obs_shape``.
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
        latent_pi, latent_vf = self._latent(*self._both_features(obs))
        log_prob, entropy = self.distribution.log_prob_entropy(
            self._dist_params(latent_pi), self.log_std, actions)
        values = _head(self.value_net, latent_vf)
        return values.squeeze(-1), log_prob, entropy

    def predict_values(self, obs):
        """Critic's value of each observation.

        Parameters
        ----------
        obs : torch.Tensor or dict of torch.Tensor
            Observations ``(n,) + obs_shape``.

        Returns
        -------
        values : torch.Tensor of shape (n,)
            ``V(s)``.
        """
        features = self.extract_features(obs, self.vf_features_extractor)
        shared = _run_sequential(self.shared_net, features)
        latent_vf = _run_sequential(self.value_net_body, shared)
        return _head(self.value_net, latent_vf).squeeze(-1)

    def action_params(self, obs):
        """Parameters of the action distribution (logits, or mean and ``log_std``).

        Parameters
        ----------
        obs : torch.Tensor or dict of torch.Tensor
            Observations ``(n,) + obs_shape``.

        Returns
        -------
        params : torch.Tensor or tuple of torch.Tensor
            Logits ``(n, n_actions)`` or means ``(n, action_dim)``; with gSDE the pair
            ``(means, latent features)``.
        log_std : torch.Tensor or None
            ``log_std`` of the Gaussian head (or of the gSDE noise weights).
        """
        features = self.extract_features(obs, self.pi_features_extractor)
        latent_pi = _run_sequential(self.policy_net, _run_sequential(self.shared_net, features))
        return self._dist_params(latent_pi), self.log_std

    def _dist_params(self, latent_pi):
        mean = _head(self.action_net, latent_pi)
        return (mean, latent_pi) if self.use_sde else mean

    def reset_noise(self, n_envs=1):
        """Draw new gSDE noise weights (one matrix per environment).

        Parameters
        ----------
        n_envs : int, default=1
            Number of environments.
        """
        if not self.use_sde:
            raise ValueError("reset_noise() is only available when using gSDE (use_sde=True).")
        self.distribution.sample_weights(self.log_std, batch_size=n_envs)

    def unscale_action(self, scaled_action):
        """Map actions from [-1, 1] to the Box bounds (squashed gSDE actions).

        Parameters
        ----------
        scaled_action : numpy.ndarray
            Actions in [-1, 1].

        Returns
        -------
        action : numpy.ndarray
            ``low + (scaled_action + 1) * (high - low) / 2``.
        """
        return self._low + 0.5 * (scaled_action + 1.0) * (self._high - self._low)

    def _predict(self, obs, deterministic=False):
        params, log_std = self.action_params(obs)
        if deterministic:
            return self.distribution.mode(params, log_std)
        return self.distribution.sample(params, log_std)[0]


class ActorCriticCnnPolicy(ActorCriticPolicy):
    """``CnnPolicy``: :class:`ActorCriticPolicy` with SB3's ``NatureCNN`` on images.

    Image observations (``uint8`` Box, channel-first after SB3's ``VecTransposeImage``,
    which the agents apply to channel-last images) are divided by 255 and go through
    the CNN of Mnih et al. (2015): three convolutions (32 8x8 stride 4, 64 4x4 stride 2,
    64 3x3 stride 1) with ReLU, then a linear layer to ``features_dim=512``.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box
        Image observation space.
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space.
    lr_schedule : callable
        Learning-rate schedule.
    net_arch : list of int or dict, default=None
        Layers after the CNN (see :class:`ActorCriticPolicy`).
    activation_fn : type of torch.nn.Module, default=torch.nn.Tanh
        Activation of those layers.
    ortho_init : bool, default=True
        Orthogonal initialisation (CNN included, gain ``sqrt(2)``).
    use_sde : bool, default=False
        gSDE exploration (Box actions; see :class:`ActorCriticPolicy`).
    log_std_init : float, default=0.0
        Initial ``log_std`` (Box actions).
    full_std : bool, default=True
        gSDE: one standard deviation per (feature, action) pair.
    use_expln : bool, default=False
        gSDE: the ``expln`` map instead of ``exp`` for the standard deviation.
    squash_output : bool, default=False
        gSDE: squash actions with ``tanh``.
    features_extractor_class : type, default=NatureCNN
        The image features extractor.
    features_extractor_kwargs : dict, default=None
        Its arguments (e.g. ``features_dim``).
    share_features_extractor : bool, default=True
        One CNN for the actor and the critic, or one each.
    normalize_images : bool, default=True
        Divide the pixels by 255.
    optimizer_class : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimiser class.
    optimizer_kwargs : dict, default=None
        Optimiser arguments.

    Examples
    --------
    >>> import numpy as np
    >>> from gymnasium import spaces
    >>> from mlnotes.rl.common.policies import ActorCriticCnnPolicy
    >>> obs_space = spaces.Box(0, 255, (1, 36, 36), np.uint8)
    >>> policy = ActorCriticCnnPolicy(obs_space, spaces.Discrete(3), lambda _: 1e-3)
    >>> policy.predict(obs_space.sample())[0].shape
    ()
    """

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.Tanh, ortho_init=True, use_sde=False, log_std_init=0.0,
                 full_std=True, use_expln=False, squash_output=False,
                 features_extractor_class=NatureCNN, features_extractor_kwargs=None,
                 share_features_extractor=True, normalize_images=True,
                 optimizer_class=torch.optim.Adam, optimizer_kwargs=None):
        super().__init__(observation_space, action_space, lr_schedule, net_arch=net_arch,
                         activation_fn=activation_fn, ortho_init=ortho_init,
                         use_sde=use_sde, log_std_init=log_std_init, full_std=full_std,
                         use_expln=use_expln, squash_output=squash_output,
                         features_extractor_class=features_extractor_class,
                         features_extractor_kwargs=features_extractor_kwargs,
                         share_features_extractor=share_features_extractor,
                         normalize_images=normalize_images, optimizer_class=optimizer_class,
                         optimizer_kwargs=optimizer_kwargs)


class MultiInputActorCriticPolicy(ActorCriticPolicy):
    """``MultiInputPolicy``: :class:`ActorCriticPolicy` on Dict observations.

    SB3's ``CombinedExtractor`` runs a ``NatureCNN`` on each image entry and flattens
    the others, then concatenates the results.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Dict
        Dict of Box/Discrete spaces.
    action_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Action space.
    lr_schedule : callable
        Learning-rate schedule.
    net_arch : list of int or dict, default=None
        Layers after the extractor (see :class:`ActorCriticPolicy`).
    activation_fn : type of torch.nn.Module, default=torch.nn.Tanh
        Activation of those layers.
    ortho_init : bool, default=True
        Orthogonal initialisation.
    use_sde : bool, default=False
        gSDE exploration (Box actions; see :class:`ActorCriticPolicy`).
    log_std_init : float, default=0.0
        Initial ``log_std`` (Box actions).
    full_std : bool, default=True
        gSDE: one standard deviation per (feature, action) pair.
    use_expln : bool, default=False
        gSDE: the ``expln`` map instead of ``exp`` for the standard deviation.
    squash_output : bool, default=False
        gSDE: squash actions with ``tanh``.
    features_extractor_class : type, default=CombinedExtractor
        The Dict features extractor.
    features_extractor_kwargs : dict, default=None
        Its arguments (e.g. ``cnn_output_dim``).
    share_features_extractor : bool, default=True
        One extractor for the actor and the critic, or one each.
    normalize_images : bool, default=True
        Divide image entries by 255.
    optimizer_class : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimiser class.
    optimizer_kwargs : dict, default=None
        Optimiser arguments.

    Examples
    --------
    >>> import numpy as np
    >>> from gymnasium import spaces
    >>> from mlnotes.rl.common.policies import MultiInputActorCriticPolicy
    >>> obs_space = spaces.Dict({"x": spaces.Box(-1, 1, (3,)), "k": spaces.Discrete(4)})
    >>> policy = MultiInputActorCriticPolicy(obs_space, spaces.Discrete(2), lambda _: 1e-3)
    >>> policy.predict(obs_space.sample())[0].shape
    ()
    """

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.Tanh, ortho_init=True, use_sde=False, log_std_init=0.0,
                 full_std=True, use_expln=False, squash_output=False,
                 features_extractor_class=CombinedExtractor, features_extractor_kwargs=None,
                 share_features_extractor=True, normalize_images=True,
                 optimizer_class=torch.optim.Adam, optimizer_kwargs=None):
        super().__init__(observation_space, action_space, lr_schedule, net_arch=net_arch,
                         activation_fn=activation_fn, ortho_init=ortho_init,
                         use_sde=use_sde, log_std_init=log_std_init, full_std=full_std,
                         use_expln=use_expln, squash_output=squash_output,
                         features_extractor_class=features_extractor_class,
                         features_extractor_kwargs=features_extractor_kwargs,
                         share_features_extractor=share_features_extractor,
                         normalize_images=normalize_images, optimizer_class=optimizer_class,
                         optimizer_kwargs=optimizer_kwargs)


def _init_weights(module, gain):
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        nn.init.orthogonal_(module.weight, gain=gain)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


MlpPolicy = ActorCriticPolicy
CnnPolicy = ActorCriticCnnPolicy
MultiInputPolicy = MultiInputActorCriticPolicy
