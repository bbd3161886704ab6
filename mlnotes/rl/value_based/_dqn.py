"""Deep Q-network (DQN), chapter 31, with its Q-network policy."""

import warnings

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.preprocessing import preprocess_obs as sb3_preprocess_obs
from stable_baselines3.common.torch_layers import CombinedExtractor, FlattenExtractor, NatureCNN
from torch import nn
from torch.nn import functional as F

from mlnotes.utils._torch import clip_gradients

from ..common.off_policy_algorithm import (
    OffPolicyAlgorithm,
    adam_step,
    obs_as_tensor,
    polyak_update,
)
from ..common.policies import BasePolicy, _run_sequential
from ..common.replay_buffer import NStepReplayBuffer, ReplayBuffer, ReplayBufferSamples
from ..common.schedules import LinearSchedule


def _mlp_layers(in_dim, sizes, activation_fn):
    layers = []
    for size in sizes:
        layers += [nn.Linear(in_dim, size), activation_fn()]
        in_dim = size
    return layers, in_dim


class QNetwork(BasePolicy):
    """MLP giving one Q-value per discrete action (optionally with a dueling head).

    Given the spaces (as :class:`DQNPolicy` builds it), it is also a greedy policy of its
    own, as SB3's ``QNetwork``: ``q_net.predict(obs)``, ``q_net.save(path)`` and
    ``QNetwork.load(path)``.

    Parameters
    ----------
    features_dim : int
        Input size (flattened observation).
    n_actions : int
        Number of actions.
    net_arch : list of int
        Hidden layer sizes.
    activation_fn : type of torch.nn.Module
        Activation after every hidden layer.
    dueling : bool, default=False
        Separate state-value and advantage heads,
        :math:`Q = V + A - \\operatorname{mean}_a A`.
    features_extractor : torch.nn.Module, default=None
        Applied to the input first (e.g. SB3's ``NatureCNN``); ``features_dim`` is then
        its output size. ``None``: the input is already a flat feature vector.
    observation_space : gymnasium.spaces.Space, default=None
        Observation space (needed by ``predict`` and ``save``).
    action_space : gymnasium.spaces.Discrete, default=None
        Action space (needed by ``predict`` and ``save``).
    normalize_images : bool, default=True
        Divide image observations by 255 (``predict``).
    features_extractor_class : type, default=None
        The class of ``features_extractor`` (recorded so that ``load`` rebuilds it;
        builds one when ``features_extractor`` is ``None``).
    features_extractor_kwargs : dict, default=None
        Its arguments.

    Attributes
    ----------
    q_net : torch.nn.Sequential
        Hidden layers followed by the output layer (without ``dueling``), or the
        hidden layers only (with ``dueling``).
    value_head, advantage_head : torch.nn.Linear or None
        The dueling heads.
    """

    #: Dict observations are checked by the owning DQNPolicy (they need an extractor)
    supports_dict_observations = True
    #: MultiBinary observations are read as float features (SB3's preprocessing)
    supports_multibinary_observations = True

    def __init__(self, features_dim, n_actions, net_arch, activation_fn, dueling=False,
                 features_extractor=None, observation_space=None, action_space=None,
                 normalize_images=True, features_extractor_class=None,
                 features_extractor_kwargs=None):
        if observation_space is None or action_space is None:
            nn.Module.__init__(self)  # a bare network on features (no predict/save)
            self.observation_space = self.action_space = None
            self.normalize_images = bool(normalize_images)
            self.optimizer = None
        else:
            super().__init__(observation_space, action_space, normalize_images)
        if features_extractor is None and features_extractor_class not in (None,
                                                                           FlattenExtractor):
            features_extractor = features_extractor_class(observation_space,
                                                          **dict(features_extractor_kwargs or {}))
        self.features_extractor = features_extractor
        layers, dim = _mlp_layers(features_dim, net_arch, activation_fn)
        self.dueling = bool(dueling)
        if self.dueling:
            self.q_net = nn.Sequential(*layers)
            self.value_head = nn.Linear(dim, 1)
            self.advantage_head = nn.Linear(dim, n_actions)
        else:
            self.q_net = nn.Sequential(*layers, nn.Linear(dim, n_actions))
            self.value_head = self.advantage_head = None

    def _get_constructor_parameters(self):
        if self.observation_space is None:
            raise ValueError("This QNetwork was built without its spaces: save the DQN "
                             "policy (or pass observation_space and action_space).")
        params = super()._get_constructor_parameters()
        if params.get("features_extractor_class") is not None:
            params["features_extractor"] = None  # saved by class and kwargs
        return params

    def _predict(self, obs, deterministic=True):
        if self.observation_space is None:
            raise ValueError("This QNetwork was built without its spaces: use the DQN "
                             "policy's predict.")
        if self.features_extractor is None:
            features = self.preprocess_obs(obs)
        else:
            features = sb3_preprocess_obs(obs, self.observation_space, self.normalize_images)
        return self(features).argmax(dim=1)

    def numpy_layers(self):
        """The layers as numpy views of the weights, for small CPU batches.

        Returns
        -------
        layers : list of tuple or None
            ``(weight, bias, activation)`` per Linear layer (views sharing memory with
            the parameters, so they follow in-place updates), then the dueling heads;
            ``None`` when a layer is not a plain Linear/ReLU/Tanh or not on the CPU.
        """
        if self.features_extractor is not None:
            return None
        layers = []
        for module in self.q_net:
            if type(module) is nn.Linear:
                if module.weight.device.type != "cpu" or module.bias is None:
                    return None
                layers.append([module.weight.detach().numpy(), module.bias.detach().numpy(),
                               None])
            elif type(module) in (nn.ReLU, nn.Tanh) and layers and layers[-1][2] is None:
                layers[-1][2] = "relu" if type(module) is nn.ReLU else "tanh"
            else:
                return None
        if self.dueling:
            heads = [(h.weight.detach().numpy(), h.bias.detach().numpy())
                     for h in (self.value_head, self.advantage_head)]
            layers.append(heads)
        return layers

    def forward(self, features):
        """Q-values of a batch of flattened observations.

        Parameters
        ----------
        features : torch.Tensor
            Flattened float observations ``(n, features_dim)``, or the input of the
            features extractor (e.g. images ``(n, C, H, W)`` scaled to [0, 1]).

        Returns
        -------
        q_values : torch.Tensor of shape (n, n_actions)
            :math:`Q(s, a)` for every action.
        """
        if self.features_extractor is not None:
            features = self.features_extractor(features)
        h = _run_sequential(self.q_net, features)
        if not self.dueling:
            return h
        advantage = F.linear(h, self.advantage_head.weight, self.advantage_head.bias)
        value = F.linear(h, self.value_head.weight, self.value_head.bias)
        return value + advantage - advantage.mean(dim=1, keepdim=True)


class DQNPolicy(BasePolicy):
    """Q-network policy of DQN (``MlpPolicy``, ``CnnPolicy``): online and target networks.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box or gymnasium.spaces.Discrete
        Observation space (Discrete observations are one-hot encoded).
    action_space : gymnasium.spaces.Discrete
        Action space.
    lr_schedule : callable
        Learning-rate schedule; ``lr_schedule(1)`` is the optimiser's initial rate.
    net_arch : list of int, default=None
        Hidden layers after the features extractor; ``None`` means ``[64, 64]`` as SB3
        (``[]`` for ``CnnPolicy``, also as SB3).
    activation_fn : type of torch.nn.Module, default=torch.nn.ReLU
        Activation after every hidden layer.
    features_extractor_class : type, default=FlattenExtractor
        SB3 features extractor (``stable_baselines3.common.torch_layers``); the default
        flattens (computed without a module call), ``NatureCNN`` for images. The
        online and the target network each have their own.
    features_extractor_kwargs : dict, default=None
        Arguments of the features extractor.
    normalize_images : bool, default=True
        Divide image observations (``uint8`` Box spaces) by 255.
    optimizer_class : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimiser class (of the online network). A plain Adam runs its fused kernel
        (the same update; pass ``optimizer_kwargs=dict(fused=False)`` to opt out).
    optimizer_kwargs : dict, default=None
        Extra optimiser arguments.
    dueling : bool, default=False
        Dueling architecture (Wang et al., 2016); not in SB3.

    Attributes
    ----------
    q_net, q_net_target : QNetwork
        Online and target networks (the target starts as a copy and is in eval mode).
    optimizer : torch.optim.Optimizer
        Optimiser of ``q_net``.

    Examples
    --------
    >>> import gymnasium as gym
    >>> from mlnotes.rl.value_based._dqn import DQNPolicy
    >>> env = gym.make("CartPole-v1")
    >>> policy = DQNPolicy(env.observation_space, env.action_space, lambda _: 1e-3)
    >>> action, _ = policy.predict(env.observation_space.sample())
    >>> action.shape
    ()
    """

    #: MultiBinary observations are read as float features (SB3's preprocessing)
    supports_multibinary_observations = True

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.ReLU, features_extractor_class=FlattenExtractor,
                 features_extractor_kwargs=None, normalize_images=True,
                 optimizer_class=torch.optim.Adam, optimizer_kwargs=None, dueling=False):
        super().__init__(observation_space, action_space, normalize_images=normalize_images)
        if not isinstance(action_space, spaces.Discrete):
            raise ValueError(f"DQNPolicy needs a Discrete action space, got {action_space!r}.")
        if not (isinstance(features_extractor_class, type)
                and issubclass(features_extractor_class, nn.Module)):
            raise TypeError("features_extractor_class must be a torch.nn.Module subclass "
                            f"(an SB3 features extractor), got {features_extractor_class!r}.")
        flat = features_extractor_class is FlattenExtractor
        if flat and isinstance(observation_space, spaces.Dict):
            raise ValueError(
                "Dict observation spaces need a Dict features extractor: use "
                "\"MultiInputPolicy\" (CombinedExtractor), not MlpPolicy.")
        if net_arch is None:
            net_arch = [] if features_extractor_class is NatureCNN else [64, 64]  # as SB3
        net_arch = list(net_arch)
        for size in net_arch:
            if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"net_arch layer sizes must be positive integers, got {net_arch!r}.")
        self.net_arch, self.activation_fn = net_arch, activation_fn
        self.dueling = bool(dueling)
        self.features_extractor_class = features_extractor_class
        self.features_extractor_kwargs = dict(features_extractor_kwargs or {})
        self._flat = flat
        n_actions = int(action_space.n)

        if not self.normalize_images and issubclass(features_extractor_class,
                                                    (NatureCNN, CombinedExtractor)):
            self.features_extractor_kwargs.setdefault("normalized_image", True)  # as SB3

        def make():
            extractor, dim = None, self.features_dim
            if not flat:
                try:
                    extractor = features_extractor_class(observation_space,
                                                         **self.features_extractor_kwargs)
                except (AssertionError, ValueError, TypeError) as exc:
                    raise ValueError(
                        f"{features_extractor_class.__name__} cannot handle the observation "
                        f"space {observation_space!r}: {exc}") from exc
                dim = int(extractor.features_dim)
            spec = {} if flat else dict(
                features_extractor_class=features_extractor_class,
                features_extractor_kwargs=dict(self.features_extractor_kwargs))
            return QNetwork(dim, n_actions, net_arch, activation_fn, dueling, extractor,
                            observation_space=observation_space, action_space=action_space,
                            normalize_images=self.normalize_images, **spec)

        self.q_net, self.q_net_target = make(), make()
        self.q_net_target.load_state_dict(self.q_net.state_dict())
        self.q_net_target.train(False)
        self.optimizer_class = optimizer_class
        self.optimizer_kwargs = dict(optimizer_kwargs or {})
        kwargs = dict(self.optimizer_kwargs)
        if optimizer_class is torch.optim.Adam and not kwargs.keys() & {
                "fused", "foreach", "capturable", "differentiable"}:
            # the same Adam update in one fused kernel instead of ~10 ops per tensor
            kwargs["fused"] = True
        self.optimizer = optimizer_class(self.q_net.parameters(), lr=lr_schedule(1), **kwargs)

    def prepare_obs(self, obs):
        """Raw observations as the Q-networks' input.

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.

        Returns
        -------
        inputs : torch.Tensor
            Flat float features (:meth:`preprocess_obs`) for the MLP policy; SB3's
            preprocessing (images scaled to [0, 1]) for a features extractor.
        """
        if self._flat:
            return self.preprocess_obs(obs)
        return sb3_preprocess_obs(obs, self.observation_space, self.normalize_images)

    def set_training_mode(self, mode):
        """Switch the online network's train/eval mode (the target stays in eval mode).

        Parameters
        ----------
        mode : bool
            ``True`` for training mode.
        """
        mode = bool(mode)
        modules = self.__dict__.get("_q_modules")
        if modules is None:
            # nn.Module.train recurses through __setattr__; plain modules only need a flag
            modules = list(self.q_net.modules())
            if any(type(m).train is not nn.Module.train for m in modules):
                modules = ()
            self.__dict__["_q_modules"] = modules
        if not modules:
            self.q_net.train(mode)
        else:
            for module in modules:
                module.__dict__["training"] = mode
        self.__dict__["training"] = mode

    def q_values(self, obs):
        """Online Q-values of a batch of raw observations.

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.

        Returns
        -------
        q_values : torch.Tensor of shape (n, n_actions)
            :math:`Q_\\theta(s, \\cdot)`.
        """
        return self.q_net(self.prepare_obs(obs))

    def forward(self, obs, deterministic=True):
        """Greedy actions of a batch of observations.

        Parameters
        ----------
        obs : torch.Tensor of shape (n,) + obs_shape
            Observations.
        deterministic : bool, default=True
            Unused: the policy is greedy (exploration is the agent's epsilon).

        Returns
        -------
        actions : torch.Tensor of shape (n,)
            :math:`\\arg\\max_a Q_\\theta(s, a)`.
        """
        return self.q_values(obs).argmax(dim=1)

    def _predict(self, obs, deterministic=True):
        return self.q_values(obs).argmax(dim=1)


MlpPolicy = DQNPolicy


class CnnPolicy(DQNPolicy):
    """DQN's ``CnnPolicy``: :class:`DQNPolicy` with SB3's ``NatureCNN`` extractor.

    Parameters
    ----------
    observation_space : gymnasium.spaces.Box
        Image observations (channel-first or channel-last ``uint8``).
    action_space : gymnasium.spaces.Discrete
        Action space.
    lr_schedule : callable
        Learning-rate schedule.
    net_arch : list of int, default=None
        Hidden layers after the CNN (``None``: none, as SB3).
    activation_fn : type of torch.nn.Module, default=torch.nn.ReLU
        Activation of the hidden layers.
    features_extractor_class : type, default=NatureCNN
        Features extractor.
    features_extractor_kwargs : dict, default=None
        Its arguments (e.g. ``features_dim``).
    normalize_images : bool, default=True
        Divide the images by 255.
    optimizer_class : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimiser class.
    optimizer_kwargs : dict, default=None
        Extra optimiser arguments.
    dueling : bool, default=False
        Dueling heads (not in SB3).
    """

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.ReLU, features_extractor_class=NatureCNN,
                 features_extractor_kwargs=None, normalize_images=True,
                 optimizer_class=torch.optim.Adam, optimizer_kwargs=None, dueling=False):
        super().__init__(observation_space, action_space, lr_schedule, net_arch=net_arch,
                         activation_fn=activation_fn,
                         features_extractor_class=features_extractor_class,
                         features_extractor_kwargs=features_extractor_kwargs,
                         normalize_images=normalize_images, optimizer_class=optimizer_class,
                         optimizer_kwargs=optimizer_kwargs, dueling=dueling)


class MultiInputPolicy(DQNPolicy):
    """DQN's ``MultiInputPolicy``: :class:`DQNPolicy` on Dict observations with SB3's
    ``CombinedExtractor`` (a ``NatureCNN`` per image entry, the other entries
    flattened, concatenated).

    Parameters
    ----------
    observation_space : gymnasium.spaces.Dict
        Dict of Box/Discrete spaces.
    action_space : gymnasium.spaces.Discrete
        Action space.
    lr_schedule : callable
        Learning-rate schedule.
    net_arch : list of int, default=None
        Hidden layers after the extractor (``None``: ``[64, 64]``, as SB3).
    activation_fn : type of torch.nn.Module, default=torch.nn.ReLU
        Activation of the hidden layers.
    features_extractor_class : type, default=CombinedExtractor
        Features extractor.
    features_extractor_kwargs : dict, default=None
        Its arguments (e.g. ``cnn_output_dim``).
    normalize_images : bool, default=True
        Divide image entries by 255.
    optimizer_class : type of torch.optim.Optimizer, default=torch.optim.Adam
        Optimiser class.
    optimizer_kwargs : dict, default=None
        Extra optimiser arguments.
    dueling : bool, default=False
        Dueling heads (not in SB3).
    """

    supports_dict_observations = True

    def __init__(self, observation_space, action_space, lr_schedule, net_arch=None,
                 activation_fn=nn.ReLU, features_extractor_class=CombinedExtractor,
                 features_extractor_kwargs=None, normalize_images=True,
                 optimizer_class=torch.optim.Adam, optimizer_kwargs=None, dueling=False):
        super().__init__(observation_space, action_space, lr_schedule,
                         net_arch=net_arch,
                         activation_fn=activation_fn,
                         features_extractor_class=features_extractor_class,
                         features_extractor_kwargs=features_extractor_kwargs,
                         normalize_images=normalize_images, optimizer_class=optimizer_class,
                         optimizer_kwargs=optimizer_kwargs, dueling=dueling)


class DQN(OffPolicyAlgorithm):
    """Deep Q-network (DQN) with Stable-Baselines3's surface and defaults.

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` or a policy class (:class:`DQNPolicy` or a subclass).
    env : gymnasium.Env, stable_baselines3.common.vec_env.VecEnv or str
        The environment (Discrete actions; Box or Discrete observations).
    learning_rate : float or callable, default=1e-4
        Adam's learning rate, or a schedule of the remaining progress.
    buffer_size : int, default=1_000_000
        Replay buffer size.
    learning_starts : int, default=100
        Steps of uniformly random actions before learning starts.
    batch_size : int, default=32
        Minibatch size.
    tau : float, default=1.0
        Target update coefficient (1: hard copy every ``target_update_interval``).
    gamma : float, default=0.99
        Discount factor.
    train_freq : int or tuple of (int, str), default=4
        Steps (or ``(n, "episode")``) between training phases.
    gradient_steps : int, default=1
        Gradient steps per training phase (-1: as many as steps collected).
    replay_buffer_class : type, default=None
        Replay buffer class.
    replay_buffer_kwargs : dict, default=None
        Extra replay buffer arguments.
    optimize_memory_usage : bool, default=False
        Memory-saving replay buffer.
    n_steps : int, default=1
        n-step returns (``NStepReplayBuffer`` when > 1).
    target_update_interval : int, default=10000
        Env steps between target-network updates.
    exploration_fraction : float, default=0.1
        Fraction of training over which epsilon decays linearly.
    exploration_initial_eps : float, default=1.0
        Initial epsilon.
    exploration_final_eps : float, default=0.05
        Final epsilon.
    max_grad_norm : float, default=10
        Gradient clipping (global norm).
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    policy_kwargs : dict, default=None
        Policy arguments: ``net_arch``, ``activation_fn``, ``optimizer_class``,
        ``optimizer_kwargs``, ``dueling`` (not in SB3).
    verbose : int, default=0
        Verbosity.
    seed : int, default=None
        Seed (python, numpy, torch, action space, environment).
    device : str or torch.device, default="auto"
        Device of the networks.
    double_q : bool, default=False
        Double DQN targets (van Hasselt et al., 2016); not in SB3.
    _init_setup_model : bool, default=True
        Build the networks now.

    Attributes
    ----------
    policy : DQNPolicy
        Online and target Q-networks.
    q_net, q_net_target : QNetwork
        Aliases of the policy's networks.
    exploration_rate : float
        Current epsilon.
    exploration_schedule : LinearSchedule
        Epsilon as a function of the remaining progress.
    replay_buffer : ReplayBuffer
        The experience replay.

    Notes
    -----
    Chapter 31 of the notes. Each gradient step minimises the Huber loss
    :math:`\\ell_\\kappa` (``smooth_l1``, :math:`\\kappa=1`) between
    :math:`Q_\\theta(s, a)` and the target

    .. math::

        y = r + \\gamma^k (1 - d) \\max_{a'} Q_{\\theta^-}(s', a'),

    over a minibatch from the replay buffer, with :math:`\\theta^-` the target network
    (copied every ``target_update_interval`` steps, or Polyak-averaged when
    ``tau < 1``), :math:`d` the termination flag (0 at a time-limit truncation) and
    :math:`k` = 1 (or the n-step horizon). With ``double_q=True`` the online network
    chooses and the target network evaluates:
    :math:`y = r + \\gamma^k (1-d) Q_{\\theta^-}(s', \\arg\\max_{a'} Q_\\theta(s', a'))`.
    Gradients are clipped to global norm ``max_grad_norm``. Actions are
    epsilon-greedy, epsilon decaying linearly from ``exploration_initial_eps`` to
    ``exploration_final_eps`` over the first ``exploration_fraction`` of training.

    References
    ----------
    .. [1] V. Mnih et al., "Human-level control through deep reinforcement learning",
       Nature 518, 2015.

    Examples
    --------
    >>> from mlnotes.rl import DQN
    >>> agent = DQN("MlpPolicy", "CartPole-v1", learning_starts=50, seed=0).learn(200)
    >>> action, _ = agent.predict(agent.env.reset(), deterministic=True)
    >>> action.shape
    (1,)
    """

    policy_aliases = {"MlpPolicy": DQNPolicy, "CnnPolicy": CnnPolicy,
                      "MultiInputPolicy": MultiInputPolicy}

    def __init__(self, policy, env, learning_rate=1e-4, buffer_size=1_000_000, learning_starts=100,
                 batch_size=32, tau=1.0, gamma=0.99, train_freq=4, gradient_steps=1,
                 replay_buffer_class=None, replay_buffer_kwargs=None,
                 optimize_memory_usage=False, n_steps=1, target_update_interval=10000,
                 exploration_fraction=0.1, exploration_initial_eps=1.0,
                 exploration_final_eps=0.05, max_grad_norm=10, stats_window_size=100,
                 tensorboard_log=None, policy_kwargs=None, verbose=0, seed=None, device="auto",
                 double_q=False, _init_setup_model=True):
        super().__init__(policy, env, learning_rate, buffer_size, learning_starts, batch_size,
                         tau, gamma, train_freq, gradient_steps, action_noise=None,
                         replay_buffer_class=replay_buffer_class,
                         replay_buffer_kwargs=replay_buffer_kwargs,
                         optimize_memory_usage=optimize_memory_usage, n_steps=n_steps,
                         policy_kwargs=policy_kwargs, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, verbose=verbose, device=device,
                         seed=seed, sde_support=False,
                         supported_action_spaces=(spaces.Discrete,), support_multi_env=True)
        if isinstance(target_update_interval, bool) \
                or not isinstance(target_update_interval, (int, np.integer)) \
                or target_update_interval < 1:
            raise ValueError(
                f"target_update_interval must be a positive int, got {target_update_interval!r}.")
        for name, value in (("exploration_fraction", exploration_fraction),
                            ("exploration_initial_eps", exploration_initial_eps),
                            ("exploration_final_eps", exploration_final_eps)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) \
                    or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number in [0, 1], got {value!r}.")
        if exploration_fraction == 0:
            raise ValueError("exploration_fraction must be in (0, 1], got 0.")
        if max_grad_norm is not None and (
                isinstance(max_grad_norm, bool) or not isinstance(max_grad_norm, (int, float))
                or not max_grad_norm > 0):
            raise ValueError(f"max_grad_norm must be a positive number, got {max_grad_norm!r}.")
        self.exploration_initial_eps = float(exploration_initial_eps)
        self.exploration_final_eps = float(exploration_final_eps)
        self.exploration_fraction = float(exploration_fraction)
        self.target_update_interval = int(target_update_interval)
        self._n_calls = 0
        self.max_grad_norm = None if max_grad_norm is None else float(max_grad_norm)
        self.double_q = bool(double_q)
        self.exploration_rate = 0.0
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self):
        super()._setup_model()
        self.q_net, self.q_net_target = self.policy.q_net, self.policy.q_net_target
        self._q_params = list(self.q_net.parameters())
        self._target_params = list(self.q_net_target.parameters())
        self._q_buffers = [b for n, b in self.q_net.named_buffers() if "running_" in n]
        self._target_buffers = [b for n, b in self.q_net_target.named_buffers()
                                if "running_" in n]
        self.exploration_schedule = LinearSchedule(
            self.exploration_initial_eps, self.exploration_final_eps, self.exploration_fraction)
        if self.n_envs > 1 and self.n_envs > self.target_update_interval:
            warnings.warn(
                "The number of environments used is greater than the target network update "
                f"interval ({self.n_envs} > {self.target_update_interval}): the target "
                f"network is updated at every env.step() call, i.e. every {self.n_envs} "
                "steps.", UserWarning, stacklevel=3)

    def _setup_learn(self, *args, **kwargs):
        self._numpy_q = None  # rebuilt from the current parameters at the first action
        return super()._setup_learn(*args, **kwargs)

    def _on_step(self):
        self._n_calls += 1
        if self._n_calls % max(self.target_update_interval // self.n_envs, 1) == 0:
            polyak_update(self._q_params, self._target_params, self.tau)
            polyak_update(self._q_buffers, self._target_buffers, 1.0)
        self.exploration_rate = self.exploration_schedule(self._current_progress_remaining)
        self.logger.record("rollout/exploration_rate", self.exploration_rate)

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        """Epsilon-greedy action(s) (greedy when ``deterministic``), as SB3's DQN.

        Parameters
        ----------
        observation : array-like of shape obs_shape or (n_env,) + obs_shape
            The observation(s).
        state : None
            Recurrent state (unused, returned unchanged).
        episode_start : numpy.ndarray, default=None
            Episode starts (unused).
        deterministic : bool, default=False
            Greedy actions; otherwise a uniformly random action with probability
            ``exploration_rate``.

        Returns
        -------
        actions : numpy.ndarray
            One action, or ``(n_env,)`` actions.
        state : None
            The recurrent state.
        """
        if not deterministic and np.random.rand() < self.exploration_rate:
            obs, vectorized = self.policy.obs_to_tensor(observation)  # validates
            if vectorized:
                n = len(next(iter(obs.values()))) if isinstance(obs, dict) else len(obs)
                return np.array([self.action_space.sample() for _ in range(n)]), state
            return np.array(self.action_space.sample()), state
        return self.policy.predict(observation, state, episode_start, deterministic)

    def _policy_actions(self, observation):
        # the rollout's epsilon-greedy step without predict()'s checks (obs come from the env)
        if np.random.rand() < self.exploration_rate:
            return np.array([self.action_space.sample() for _ in range(self.n_envs)])
        policy = self.policy
        cache = self.__dict__.get("_numpy_q")
        if cache is None or cache[0] is not self.q_net:
            cache = self._numpy_q = (self.q_net, self.q_net.numpy_layers())
        layers = cache[1]
        if layers is None or not isinstance(self.observation_space, spaces.Box):
            with torch.inference_mode():
                obs = obs_as_tensor(observation, self.device)
                q_values = self.q_net(policy.prepare_obs(obs))
            return q_values.argmax(dim=1).cpu().numpy()
        # a few rows through a small MLP: numpy on views of the weights costs far less
        # per call than torch's dispatch (the weights are the same memory)
        h = np.asarray(observation, dtype=np.float32).reshape(len(observation), -1)
        scale = getattr(policy, "_image_scale", None)
        if scale is not None:  # images under the MLP policy, as preprocess_obs
            h = h * np.float32(scale)
        dueling = self.q_net.dueling
        for layer in (layers[:-1] if dueling else layers):
            weight, bias, activation = layer
            h = h @ weight.T
            h += bias
            if activation == "relu":
                np.maximum(h, 0.0, out=h)
            elif activation == "tanh":
                np.tanh(h, out=h)
        if dueling:
            (w_v, b_v), (w_a, b_a) = layers[-1]
            advantage = h @ w_a.T + b_a
            h = (h @ w_v.T + b_v) + advantage - advantage.mean(axis=1, keepdims=True)
        return h.argmax(axis=1)

    def learn(self, total_timesteps, callback=None, log_interval=4, tb_log_name="DQN",
              reset_num_timesteps=True, progress_bar=False):
        """Train for ``total_timesteps`` environment steps (SB3's ``DQN.learn``).

        Parameters
        ----------
        total_timesteps : int
            Environment steps (summed over the environments).
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s); one whose ``on_step`` returns ``False`` stops training.
        log_interval : int, default=4
            Episodes between log dumps (``None``: never).
        tb_log_name : str, default="DQN"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : DQN
            The trained agent.
        """
        return super().learn(total_timesteps, callback=callback, log_interval=log_interval,
                             tb_log_name=tb_log_name, reset_num_timesteps=reset_num_timesteps,
                             progress_bar=progress_bar)

    def _targets(self, batch):
        """Bellman targets ``r + discount * (1 - d) * max_a' Q_target(s', a')`` (no grad)."""
        policy = self.policy
        discounts = self.gamma if batch.discounts is None else batch.discounts
        with torch.no_grad():
            next_features = policy.prepare_obs(batch.next_observations)
            next_q = self.q_net_target(next_features)
            if self.double_q:
                best = self.q_net(next_features).argmax(dim=1, keepdim=True)
                next_q = next_q.gather(1, best)
            else:
                next_q = next_q.max(dim=1, keepdim=True)[0]
            return batch.rewards + (1.0 - batch.dones) * discounts * next_q

    def _phase_batches(self, gradient_steps, batch_size):
        """Minibatches of one training phase as ``(batch, target or None)`` pairs.

        The buffer does not change during a phase and its samples are independent and
        uniform, so the phase's ``gradient_steps * batch_size`` transitions are drawn
        at once (SB3 draws the same distribution step by step); the target network does
        not change either, so the plain DQN targets of a whole chunk come from one
        forward pass. Other buffer classes (e.g. prioritised replay) are sampled step
        by step.
        """
        buffer, vec_normalize = self.replay_buffer, self._vec_normalize_env
        if type(buffer) not in (ReplayBuffer, NStepReplayBuffer):
            for _ in range(gradient_steps):
                yield buffer.sample(batch_size, env=vec_normalize), None
            return
        row = max(int(np.prod(buffer.obs_shape)), 1)
        steps_per_chunk = max(1, min(gradient_steps, (1 << 21) // (row * batch_size)))
        done = 0
        while done < gradient_steps:
            n = min(steps_per_chunk, gradient_steps - done)
            big = buffer.sample(n * batch_size, env=vec_normalize)
            targets = None if self.double_q else self._targets(big)
            for k in range(n):
                part = slice(k * batch_size, (k + 1) * batch_size)
                batch = ReplayBufferSamples(*(None if t is None else t[part] for t in big))
                yield batch, (None if targets is None else targets[part])
            done += n

    def _q_penalty(self, q_values, current):
        """A term added to the loss (none in DQN; discrete CQL's conservative penalty)."""
        return None

    def train(self, gradient_steps, batch_size=100):
        """``gradient_steps`` Huber-loss steps on minibatches of the replay buffer.

        Parameters
        ----------
        gradient_steps : int
            Number of gradient steps.
        batch_size : int, default=100
            Minibatch size.
        """
        policy = self.policy
        policy.set_training_mode(True)
        self._update_learning_rate(policy.optimizer)
        optimizer, params, q_net = policy.optimizer, self._q_params, self.q_net
        preprocess, max_grad_norm = policy.prepare_obs, self.max_grad_norm
        losses = []
        for batch, target in self._phase_batches(gradient_steps, batch_size):
            if target is None:
                target = self._targets(batch)
            q_all = q_net(preprocess(batch.observations))
            current = q_all.gather(1, batch.actions.long())
            loss = F.smooth_l1_loss(current, target)
            penalty = self._q_penalty(q_all, current)
            if penalty is not None:  # a regulariser of a subclass (discrete CQL)
                loss = loss + penalty
            for p in params:
                p.grad = None
            loss.backward()
            if max_grad_norm is not None:
                clip_gradients([p.grad for p in params if p.grad is not None], max_grad_norm)
            adam_step(optimizer)
            losses.append(loss.detach())
        self._n_updates += gradient_steps
        mean_loss = torch.stack(losses).mean() if losses else torch.tensor(0.0)
        self._check_finite_loss(mean_loss, "the Huber loss (train/loss)")
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", mean_loss.item())
