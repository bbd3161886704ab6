"""The base agent: Stable-Baselines3's surface plus scikit-learn-style parameters.

:class:`BaseAlgorithm` holds what every agent shares: environment wrapping (env id,
gymnasium env or SB3 ``VecEnv``), seeding, the SB3 logger and callbacks, counters,
``predict``, ``save``/``load``, ``get_parameters``/``set_parameters`` and the
``get_params``/``set_params``/``__sklearn_clone__`` protocol. An agent that does not
collect rollouts (behavioural cloning from a dataset, DAgger with an expert) subclasses
it directly and implements ``_setup_model`` and ``learn``; on-policy agents subclass
:class:`~mlnotes.rl.common.on_policy_algorithm.OnPolicyAlgorithm` and write ``train``.
"""

import functools
import inspect
import sys
import time
from abc import ABC, abstractmethod
from collections import deque

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common import logger as sb3_logger
from stable_baselines3.common import utils as sb3_utils
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    ConvertCallback,
    ProgressBarCallback,
)
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.env_util import is_wrapped
from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    VecEnv,
    VecTransposeImage,
    is_vecenv_wrapped,
    unwrap_vec_normalize,
)

from mlnotes.utils._torch import agent_forward_work, wrap_torch_threads

from . import save_util
from ._env_checks import CheckFiniteEnv
from .policies import check_spaces


def get_device(device="auto"):
    """Resolve ``"auto"`` (CUDA when available, else CPU) and strings to a device.

    Parameters
    ----------
    device : str or torch.device, default="auto"
        The device.

    Returns
    -------
    device : torch.device
        The resolved device.
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        return torch.device("cpu")
    return device


class BaseAlgorithm(ABC):
    """Base class of the mlnotes agents (Stable-Baselines3 surface).

    A subclass's ``__init__`` takes its hyperparameters by name and passes the common
    ones here; the arguments it was called with are recorded automatically (for
    ``get_params``). It implements ``_setup_model`` (build ``self.policy`` and the
    rest, after seeding) and ``learn``; on-policy agents get ``learn`` from
    :class:`~mlnotes.rl.common.on_policy_algorithm.OnPolicyAlgorithm`.

    Parameters
    ----------
    policy : str or type
        Policy class, or a name of ``policy_aliases`` (e.g. ``"MlpPolicy"``).
    env : gymnasium.Env, stable_baselines3.common.vec_env.VecEnv, str or None
        The environment; an id string is made with ``gymnasium.make``. A
        non-vectorised env is wrapped in SB3's ``Monitor`` and ``DummyVecEnv``.
        ``None`` only when loading a saved agent.
    learning_rate : float or callable
        Learning rate, or a schedule of the remaining progress (1 to 0).
    policy_kwargs : dict, default=None
        Extra arguments of the policy.
    stats_window_size : int, default=100
        Episodes averaged in the logged ``rollout/ep_rew_mean``.
    tensorboard_log : str, default=None
        TensorBoard log folder (needs tensorboard installed).
    verbose : int, default=0
        0 silent, 1 training information, 2 debug.
    device : str or torch.device, default="auto"
        Device of the networks.
    support_multi_env : bool, default=True
        Whether the agent accepts several environments.
    monitor_wrapper : bool, default=True
        Wrap a single env in SB3's ``Monitor`` (episode statistics).
    seed : int, default=None
        Seed of python, numpy, torch, the action space and the environment.

    Attributes
    ----------
    policy : torch.nn.Module
        The policy, built by ``_setup_model``.
    env : stable_baselines3.common.vec_env.VecEnv
        The wrapped training environment.
    observation_space, action_space : gymnasium.spaces.Space
        The spaces.
    n_envs : int
        Number of parallel environments.
    num_timesteps : int
        Environment steps taken so far.
    """

    #: names usable as the ``policy`` argument
    policy_aliases = {}
    #: action spaces the agent supports
    supported_action_spaces = (spaces.Box, spaces.Discrete)
    #: constructor arguments never written to a save file
    _unsaved_params = ("env", "device", "expert")

    def __init_subclass__(cls, **kwargs):
        # Record the arguments of the concrete class's constructor (for get_params):
        # each subclass __init__ is wrapped; only the outermost call records.
        super().__init_subclass__(**kwargs)
        # learn/predict choose torch's intra-op threads, restore the caller's on exit
        wrap_torch_threads(cls, ("learn", "predict"), work=agent_forward_work)
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
                    elif not name.startswith("_"):
                        params[name] = value
                self._init_params = params
            init(self, *args, **kw)

        cls.__init__ = __init__

    def __init__(self, policy, env, learning_rate, policy_kwargs=None, stats_window_size=100,
                 tensorboard_log=None, verbose=0, device="auto", support_multi_env=True,
                 monitor_wrapper=True, seed=None):
        name = type(self).__name__
        if isinstance(policy, str):
            if policy not in self.policy_aliases:
                raise ValueError(
                    f"Unknown policy {policy!r} for {name}; use one of "
                    f"{sorted(self.policy_aliases)} or a policy class."
                )
            self.policy_class = self.policy_aliases[policy]
        elif isinstance(policy, type):
            self.policy_class = policy
        else:
            raise TypeError(f"policy must be a name or a class, got {type(policy).__name__}.")
        if not (callable(learning_rate) or (isinstance(learning_rate, (int, float))
                                            and not isinstance(learning_rate, bool)
                                            and np.isfinite(learning_rate)
                                            and learning_rate > 0)):
            raise ValueError(
                f"learning_rate must be a positive number or a schedule, got {learning_rate!r}."
            )
        if not isinstance(stats_window_size, (int, np.integer)) or stats_window_size < 1:
            raise ValueError(f"stats_window_size must be a positive int, got {stats_window_size!r}.")
        if policy_kwargs is not None and not isinstance(policy_kwargs, dict):
            raise TypeError("policy_kwargs must be a dict or None.")
        self.device = get_device(device)
        self.verbose = verbose
        self.policy_kwargs = {} if policy_kwargs is None else dict(policy_kwargs)
        self.learning_rate = learning_rate
        self.tensorboard_log = tensorboard_log
        self.seed = seed
        self.action_noise = None
        self.policy = None
        self.lr_schedule = None
        self.num_timesteps = 0
        self._total_timesteps = 0
        self._num_timesteps_at_start = 0
        self._episode_num = 0
        self._n_updates = 0
        self._current_progress_remaining = 1.0
        self._stats_window_size = int(stats_window_size)
        self.ep_info_buffer = None
        self.ep_success_buffer = None
        self.start_time = 0.0
        self._last_obs = None
        self._last_episode_starts = None
        self._last_original_obs = None
        self._custom_logger = False
        self._logger = None
        self._support_multi_env = support_multi_env
        self.env = None
        self._vec_normalize_env = None
        self.observation_space = self.action_space = None
        self.n_envs = 1
        if env is not None:
            if isinstance(env, str):
                env = gym.make(env)
            env = self._wrap_env(env, self.verbose, monitor_wrapper)
            self._attach_env(env)

    # ------------------------------------------------------------------ environment

    @staticmethod
    def _wrap_env(env, verbose=0, monitor_wrapper=True):
        # as SB3: Monitor + DummyVecEnv for a single env, VecTransposeImage for
        # channel-last images; outermost, the check of what the env returns
        if isinstance(env, CheckFiniteEnv):
            return env
        if not isinstance(env, VecEnv):
            if not isinstance(env, gym.Env):
                raise TypeError(
                    "env must be a gymnasium.Env, an SB3 VecEnv or an env id string, got "
                    f"{type(env).__name__}."
                )
            # (no SB3 _patch_env: it converts legacy gym envs, and a gymnasium.Env
            # passes through it unchanged)
            if monitor_wrapper and not is_wrapped(env, Monitor):
                env = Monitor(env)
            single = env
            env = DummyVecEnv([lambda: single])
        if not is_vecenv_wrapped(env, VecTransposeImage) and _needs_transpose(
                env.observation_space):
            env = VecTransposeImage(env)
        return CheckFiniteEnv(env)

    def _attach_env(self, env):
        check_spaces(env.observation_space, env.action_space, type(self).__name__,
                     self.supported_action_spaces,
                     dict_observations=getattr(self.policy_class, "supports_dict_observations",
                                               False),
                     multi_binary=getattr(self.policy_class,
                                          "supports_multibinary_observations", False))
        if not self._support_multi_env and env.num_envs > 1:
            raise ValueError(f"{type(self).__name__} supports only one environment.")
        self.env = env
        self.observation_space, self.action_space = env.observation_space, env.action_space
        self.n_envs = env.num_envs
        self._vec_normalize_env = unwrap_vec_normalize(env)

    def get_env(self):
        """Return the training environment.

        Returns
        -------
        env : stable_baselines3.common.vec_env.VecEnv or None
            The wrapped environment (as SB3 wraps it). ``self.env`` adds one outer
            layer, the check of non-finite observations and rewards, left out here so
            that SB3's callbacks see the same wrapper types as in SB3 (``EvalCallback``
            compares them and synchronises ``VecNormalize`` statistics layer by layer).
        """
        if isinstance(self.env, CheckFiniteEnv):
            return self.env.venv
        return self.env

    def get_vec_normalize_env(self):
        """Return the ``VecNormalize`` wrapper of the training env, if any.

        Returns
        -------
        vec_normalize : stable_baselines3.common.vec_env.VecNormalize or None
            The wrapper (save it separately with ``VecNormalize.save``, as in SB3).
        """
        return self._vec_normalize_env

    def set_env(self, env, force_reset=True):
        """Replace the training environment (same spaces required).

        Parameters
        ----------
        env : gymnasium.Env, VecEnv or str
            The new environment.
        force_reset : bool, default=True
            Reset it at the next ``learn`` instead of continuing the last observation.

        Raises
        ------
        ValueError
            When the observation or action space differs from the agent's (as SB3's
            ``check_for_correct_spaces``), or the number of environments differs
            (:class:`NumEnvsMismatchError`, also an ``AssertionError`` as in SB3).
        """
        original = env
        if isinstance(env, str):
            env = gym.make(env)
        env = self._wrap_env(env, self.verbose)
        if self.observation_space is not None:
            _check_same_spaces(env, self.observation_space, self.action_space)
            if self.env is not None and env.num_envs != self.n_envs:
                raise NumEnvsMismatchError(
                    "The number of environments to be set is different from the number of "
                    f"environments in the model: ({env.num_envs} != {self.n_envs}); load the "
                    "saved agent with the new env (load(path, env=...)) to change it."
                )
        self._attach_env(env)
        self._init_params["env"] = original
        if force_reset:
            self._last_obs = None

    # ------------------------------------------------------------------ seeding, logging

    def set_random_seed(self, seed=None):
        """Seed python, numpy, torch, the action space and the environment (as SB3).

        Parameters
        ----------
        seed : int, default=None
            The seed; ``None`` does nothing.
        """
        if seed is None:
            return
        sb3_utils.set_random_seed(seed, using_cuda=self.device.type == "cuda")
        if self.action_space is not None:
            self.action_space.seed(seed)
        if self.env is not None:
            self.env.seed(seed)

    @property
    def logger(self):
        """The SB3 logger used by ``learn`` and the callbacks.

        Returns
        -------
        logger : stable_baselines3.common.logger.Logger
            The logger.
        """
        if self._logger is None:
            self._logger = sb3_logger.configure(folder=None, format_strings=[])
        return self._logger

    def set_logger(self, logger):
        """Use a custom SB3 logger (kept across ``learn`` calls).

        Parameters
        ----------
        logger : stable_baselines3.common.logger.Logger
            The logger.
        """
        self._logger = logger
        self._custom_logger = True

    def _update_current_progress_remaining(self, num_timesteps, total_timesteps):
        self._current_progress_remaining = 1.0 - float(num_timesteps) / float(total_timesteps)

    def _update_learning_rate(self, optimizers):
        lr = self.lr_schedule(self._current_progress_remaining)
        self.logger.record("train/learning_rate", lr)
        if not isinstance(optimizers, (list, tuple)):
            optimizers = [optimizers]
        for optimizer in optimizers:
            for group in optimizer.param_groups:
                group["lr"] = lr

    def _update_info_buffer(self, infos, dones=None):
        for idx, info in enumerate(infos):
            episode = info.get("episode")
            if episode is not None:
                self.ep_info_buffer.append(episode)
            success = info.get("is_success")
            if success is not None and (dones is None or dones[idx]):
                self.ep_success_buffer.append(success)

    def dump_logs(self, iteration=0):
        """Record the rollout and time statistics and write them out.

        Parameters
        ----------
        iteration : int, default=0
            Current training iteration (logged when positive).
        """
        elapsed = max((time.time_ns() - self.start_time) / 1e9, sys.float_info.epsilon)
        fps = int((self.num_timesteps - self._num_timesteps_at_start) / elapsed)
        if iteration > 0:
            self.logger.record("time/iterations", iteration, exclude="tensorboard")
        if self.ep_info_buffer:
            self.logger.record("rollout/ep_rew_mean",
                               float(np.mean([ep["r"] for ep in self.ep_info_buffer])))
            self.logger.record("rollout/ep_len_mean",
                               float(np.mean([ep["l"] for ep in self.ep_info_buffer])))
        self.logger.record("time/fps", fps)
        self.logger.record("time/time_elapsed", int(elapsed), exclude="tensorboard")
        self.logger.record("time/total_timesteps", self.num_timesteps, exclude="tensorboard")
        if self.ep_success_buffer:
            self.logger.record("rollout/success_rate", float(np.mean(self.ep_success_buffer)))
        self.logger.dump(step=self.num_timesteps)

    # ------------------------------------------------------------------ learning

    @abstractmethod
    def _setup_model(self):
        """Seed, then build the policy and everything ``learn`` needs."""

    @abstractmethod
    def learn(self, total_timesteps, callback=None, log_interval=100, tb_log_name="run",
              reset_num_timesteps=True, progress_bar=False):
        """Train the agent.

        Parameters
        ----------
        total_timesteps : int
            Environment steps to train for.
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s), called at every step.
        log_interval : int, default=100
            Iterations between two log dumps.
        tb_log_name : str, default="run"
            Name of the TensorBoard run.
        reset_num_timesteps : bool, default=True
            Restart the step counter (``False`` continues a previous ``learn``).
        progress_bar : bool, default=False
            Show SB3's progress bar (tqdm and rich).

        Returns
        -------
        self : BaseAlgorithm
            The trained agent.
        """

    def _init_callback(self, callback, progress_bar=False):
        if isinstance(callback, list):
            callback = CallbackList(callback)
        if not isinstance(callback, BaseCallback):
            callback = ConvertCallback(callback)
        if progress_bar:
            callback = CallbackList([callback, ProgressBarCallback()])
        callback.init_callback(self)
        return callback

    def _setup_learn(self, total_timesteps, callback=None, reset_num_timesteps=True,
                     tb_log_name="run", progress_bar=False):
        if isinstance(total_timesteps, bool) or not isinstance(total_timesteps, (int, np.integer)) \
                or total_timesteps < 0:
            raise ValueError(
                f"total_timesteps must be a non-negative int, got {total_timesteps!r}.")
        if self.env is None:
            raise ValueError(
                "This agent has no environment: pass one to the constructor, to load(), "
                "or call set_env(env) before learn()."
            )
        self.start_time = time.time_ns()
        if self.ep_info_buffer is None or reset_num_timesteps:
            self.ep_info_buffer = deque(maxlen=self._stats_window_size)
            self.ep_success_buffer = deque(maxlen=self._stats_window_size)
        if reset_num_timesteps:
            self.num_timesteps = 0
            self._episode_num = 0
        else:
            total_timesteps += self.num_timesteps
        self._total_timesteps = int(total_timesteps)
        self._num_timesteps_at_start = self.num_timesteps
        if reset_num_timesteps or self._last_obs is None:
            self._last_obs = self.env.reset()
            self._last_episode_starts = np.ones((self.env.num_envs,), dtype=bool)
            if self._vec_normalize_env is not None:
                self._last_original_obs = self._vec_normalize_env.get_original_obs()
        if not self._custom_logger:
            self._logger = sb3_utils.configure_logger(
                self.verbose, self.tensorboard_log, tb_log_name, reset_num_timesteps)
        return int(total_timesteps), self._init_callback(callback, progress_bar)

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        """Action(s) for one observation or a batch (SB3's ``predict``).

        Parameters
        ----------
        observation : array-like of shape obs_shape or (n_env,) + obs_shape
            The observation(s).
        state : None
            Recurrent state (unused, returned unchanged).
        episode_start : numpy.ndarray, default=None
            Episode starts (unused; for recurrent policies).
        deterministic : bool, default=False
            Take the most likely action instead of sampling.

        Returns
        -------
        actions : numpy.ndarray
            One action, or ``(n_env,) + action_shape``; Box actions clipped to bounds.
        state : None
            The recurrent state.
        """
        return self.policy.predict(observation, state, episode_start, deterministic)

    # ------------------------------------------------------------------ parameters

    def _state_dict_names(self):
        """Names (attribute paths) of the state dicts saved with the agent."""
        return ["policy", "policy.optimizer"]

    def _resolve(self, name):
        obj = self
        for attr in name.split("."):
            obj = getattr(obj, attr)
        return obj

    def get_parameters(self):
        """State dicts of the policy and its optimiser.

        Returns
        -------
        params : dict of str to dict
            ``{"policy": ..., "policy.optimizer": ...}``.
        """
        # a module wrapped by torch.compile: the original module's state dict (no
        # "_orig_mod." prefixes), as SB3
        return {name: _uncompiled(self._resolve(name)).state_dict()
                for name in self._state_dict_names()}

    def set_parameters(self, load_path_or_dict, exact_match=True, device="auto"):
        """Load state dicts from a dict or from a save file.

        Parameters
        ----------
        load_path_or_dict : dict or str or pathlib.Path
            Output of :meth:`get_parameters`, or a file written by :meth:`save`.
        exact_match : bool, default=True
            Require every state dict of the agent to be given.
        device : str or torch.device, default="auto"
            Device to map the tensors to.
        """
        if isinstance(load_path_or_dict, dict):
            params = load_path_or_dict
        else:
            _, params = save_util.load_from_zip(load_path_or_dict, device=get_device(device))
            params.pop(_ROLLOUT_STATE, None)
        names = self._state_dict_names()
        unknown = set(params) - set(names)
        if unknown:
            raise ValueError(f"Unknown parameter groups {sorted(unknown)}; expected {names}.")
        missing = set(names) - set(params)
        if exact_match and missing:
            raise ValueError(f"Missing parameter groups {sorted(missing)} (exact_match=True).")
        for name, state in params.items():
            target = _uncompiled(self._resolve(name))
            if isinstance(target, torch.nn.Module):
                target.load_state_dict(save_util.strip_compile_prefix(state),
                                       strict=exact_match)
            else:
                target.load_state_dict(state)

    def get_params(self, deep=False):
        """Constructor arguments as given (scikit-learn protocol).

        Parameters
        ----------
        deep : bool, default=False
            Unused: agents hold no nested estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to the values given to the constructor (``env`` and
            ``expert`` are the very objects passed).
        """
        return dict(self._init_params)

    def set_params(self, **params):
        """Change constructor arguments and rebuild the (untrained) agent.

        Parameters
        ----------
        **params : dict
            New values of constructor arguments.

        Returns
        -------
        self : BaseAlgorithm
            The rebuilt agent (any training is discarded).
        """
        unknown = set(params) - set(self._init_params)
        if unknown:
            raise ValueError(
                f"Invalid parameters {sorted(unknown)} for {type(self).__name__}; valid "
                f"parameters are {sorted(self._init_params)}."
            )
        new = dict(self._init_params, **params)
        self.__init__(**new)
        self._init_params = new
        return self

    def __sklearn_clone__(self):
        return type(self)(**self.get_params())

    def __repr__(self):
        changed = {k: v for k, v in self._init_params.items() if k in ("policy", "env")}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in changed.items())})"

    # ------------------------------------------------------------------ save / load

    def save(self, path, exclude=None, include=None):
        """Write the agent to one zip file (JSON hyperparameters + torch tensors).

        Parameters
        ----------
        path : str, pathlib.Path or file-like
            Destination; ``.zip`` is appended to a path without that suffix.
        exclude : list of str, default=None
            Parameters not to save (as SB3): ``load`` then uses the constructor's
            default (or the value passed to ``load``). The environment, the device and
            an expert are never saved.
        include : list of str, default=None
            Parameters to save even if excluded, with the agent's current attribute
            value (e.g. ``agent.verbose = 2; agent.save(path, include=["verbose"])``).
        """
        exclude = set(exclude or ())
        include = set(include or ())
        stored, needs_custom = {}, []
        for name, value in self._init_params.items():
            if name in self._unsaved_params or (name in exclude and name not in include):
                continue
            if name in include and hasattr(self, name):
                value = getattr(self, name)
            data, ok = save_util.encode(value)
            stored[name] = data
            if not ok:
                needs_custom.append(name)
        meta = {
            "agent_class": save_util.qualified_name(type(self)),
            "mlnotes_version": _mlnotes_version(),
            "params": stored,
            "needs_custom_objects": needs_custom,
            "observation_space": save_util.encode_space(self.observation_space),
            "action_space": save_util.encode_space(self.action_space),
            "n_envs": int(self.n_envs),
            "counters": {"num_timesteps": int(self.num_timesteps),
                         "_total_timesteps": int(self._total_timesteps),
                         "_episode_num": int(self._episode_num),
                         "_n_updates": int(self._n_updates)},
        }
        tensors = self.get_parameters()
        last = _rollout_state(self)
        if last:
            tensors[_ROLLOUT_STATE] = last
        save_util.save_to_zip(path, meta, tensors)

    @classmethod
    def load(cls, path, env=None, device="auto", custom_objects=None, print_system_info=False,
             force_reset=True, **kwargs):
        """Load an agent written by :meth:`save` (no code from the file is executed).

        Parameters
        ----------
        path : str, pathlib.Path or file-like
            The save file (``.zip`` may be omitted).
        env : gymnasium.Env, VecEnv or str, default=None
            Environment to attach (its spaces must match the saved ones); ``None``
            gives an agent that can ``predict`` but needs ``set_env`` to learn.
        device : str or torch.device, default="auto"
            Device of the networks.
        custom_objects : dict, default=None
            Values replacing saved parameters; required for a parameter that could not
            be stored (a learning-rate callable that is not one of our schedules, a
            class from outside the allow-list). Names that are not parameters of the
            saved agent are ignored, as in SB3.
        print_system_info : bool, default=False
            Print the versions of python, torch, numpy, gymnasium and mlnotes (as SB3's
            option; our files do not record the saving system's).
        force_reset : bool, default=True
            Reset the environment at the next ``learn``; ``False`` continues from the
            last observation stored in the file (as SB3: for the same, unreset env).
        **kwargs : dict
            Constructor arguments overriding the saved ones.

        Returns
        -------
        agent : BaseAlgorithm
            The loaded agent.
        """
        if print_system_info:
            print("== CURRENT SYSTEM INFO ==")
            sb3_utils.get_system_info(print_info=True)
            print(f"mlnotes: {_mlnotes_version()}")
        meta, state_dicts = save_util.load_from_zip(path, device="cpu")
        last = state_dicts.pop(_ROLLOUT_STATE, None)
        saved = str(meta.get("agent_class", ""))
        if saved.rsplit(".", 1)[-1] != cls.__name__:
            raise ValueError(
                f"The file holds a {saved.rsplit('.', 1)[-1] or 'unknown'} agent; load it "
                f"with that class, not {cls.__name__}."
            )
        try:
            params = {k: save_util.decode(v) for k, v in meta["params"].items()}
            obs_space = save_util.decode_space(meta["observation_space"])
            act_space = save_util.decode_space(meta["action_space"])
            counters = dict(meta.get("counters", {}))
            n_envs = int(meta.get("n_envs", 1))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"Corrupted agent save file: malformed metadata ({exc}).") from exc
        custom_objects = dict(custom_objects or {})
        if "lr_schedule" in custom_objects and "learning_rate" not in custom_objects:
            custom_objects["learning_rate"] = custom_objects.pop("lr_schedule")
        for name, value in custom_objects.items():
            if name in params:
                params[name] = value
        params.update(kwargs)
        for name, value in params.items():
            if _contains_unstorable(value):
                raise ValueError(
                    f"The parameter {name!r} of the saved agent could not be stored in the "
                    f"file (it was {_describe_unstorable(value)}); pass it to load() with "
                    f"custom_objects={{{name!r}: ...}}."
                )
        if env is not None:
            wrapped = cls._wrap_env(gym.make(env) if isinstance(env, str) else env)
            _check_same_spaces(wrapped, obs_space, act_space)
            env = wrapped
        agent = cls(env=env, device=device, _init_setup_model=False, **params)
        if env is None:
            agent.observation_space, agent.action_space, agent.n_envs = obs_space, act_space, n_envs
        agent._setup_model()
        try:
            agent.set_parameters(state_dicts, exact_match=True, device=agent.device)
        except (RuntimeError, KeyError, ValueError) as exc:
            raise ValueError(f"The save file's tensors do not fit the agent: {exc}") from exc
        for name, value in counters.items():
            if name in ("num_timesteps", "_total_timesteps", "_episode_num", "_n_updates"):
                setattr(agent, name, int(value))
        if force_reset:
            agent._last_obs = None
        elif last:
            # as SB3: continue from the saved last observation (same env, not reset)
            _restore_rollout_state(agent, last)
        return agent


_ROLLOUT_STATE = "rollout_state"


def _rollout_state(agent):
    """The last observation and episode starts, as tensors (SB3 saves them too)."""
    state = {}
    for name in ("_last_obs", "_last_episode_starts", "_last_original_obs"):
        value = getattr(agent, name, None)
        if isinstance(value, dict):
            for key, v in value.items():
                state[f"{name}:{key}"] = torch.as_tensor(np.asarray(v))
        elif value is not None:
            state[name] = torch.as_tensor(np.asarray(value))
    return state


def _restore_rollout_state(agent, state):
    values = {}
    for full, tensor in state.items():
        name, _, key = str(full).partition(":")
        if name not in ("_last_obs", "_last_episode_starts", "_last_original_obs"):
            continue
        array = tensor.cpu().numpy()
        if key:
            values.setdefault(name, {})[key] = array
        else:
            values[name] = array
    for name, value in values.items():
        setattr(agent, name, value)


class NumEnvsMismatchError(ValueError, AssertionError):
    """``set_env`` with another number of environments (SB3 raises AssertionError)."""


def _check_same_spaces(env, observation_space, action_space):
    # SB3's check_for_correct_spaces, as ValueError
    if env.observation_space != observation_space:
        raise ValueError(
            f"Observation spaces do not match: {env.observation_space} != {observation_space}")
    if env.action_space != action_space:
        raise ValueError(f"Action spaces do not match: {env.action_space} != {action_space}")


def _needs_transpose(space):
    """Channel-last image observations (or Dict entries) that SB3 transposes."""
    if isinstance(space, spaces.Dict):
        return any(_needs_transpose(s) for s in space.spaces.values())
    return is_image_space(space) and not is_image_space_channels_first(space)


def _uncompiled(obj):
    """The module inside a ``torch.compile`` wrapper (the object itself otherwise)."""
    return getattr(obj, "_orig_mod", obj)


def _contains_unstorable(value):
    if isinstance(value, save_util._Unstorable):
        return True
    if isinstance(value, dict):
        return any(_contains_unstorable(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains_unstorable(v) for v in value)
    return False


def _describe_unstorable(value):
    if isinstance(value, save_util._Unstorable):
        return value.description
    items = value.values() if isinstance(value, dict) else value
    return next(_describe_unstorable(v) for v in items if _contains_unstorable(v))


def _mlnotes_version():
    import mlnotes

    return getattr(mlnotes, "__version__", "unknown")
