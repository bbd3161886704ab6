"""Twin delayed DDPG (TD3), chapter 41."""

import numpy as np
import torch
from gymnasium import spaces

from ...utils._validation import check_real
from ..common.continuous_policies import (
    TD3CnnPolicy,
    TD3MultiInputPolicy,
    TD3Policy,
    optimizer_step,
)
from ..common.off_policy_algorithm import OffPolicyAlgorithm, obs_as_tensor, polyak_update
from ._critic_ops import critic_layers, min_q_action_grad, q_values


class TD3(OffPolicyAlgorithm):
    """Twin delayed deep deterministic policy gradient (TD3), Stable-Baselines3's surface.

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` or a policy class
        (:class:`~mlnotes.rl.common.continuous_policies.TD3Policy` or a subclass).
    env : gymnasium.Env, stable_baselines3.common.vec_env.VecEnv or str
        The environment (an id string is made with ``gymnasium.make``): Box or
        Discrete observations, a bounded Box action space (anything else raises at
        construction).
    learning_rate : float or callable, default=1e-3
        Learning rate of the actor and the critics, or a schedule of the remaining
        progress.
    buffer_size : int, default=1_000_000
        Replay buffer size.
    learning_starts : int, default=100
        Steps of uniformly random actions before the first update.
    batch_size : int, default=256
        Minibatch size of each gradient step.
    tau : float, default=0.005
        Polyak coefficient of the target networks.
    gamma : float, default=0.99
        Discount factor.
    train_freq : int or tuple of (int, str), default=1
        Update every ``train_freq`` steps, or ``(n, "episode")``.
    gradient_steps : int, default=1
        Gradient steps per update (-1: as many as env steps collected).
    action_noise : stable_baselines3.common.noise.ActionNoise, default=None
        Exploration noise added to the deterministic action in [-1, 1] (e.g. SB3's
        ``NormalActionNoise``); without it the agent explores only during warm-up.
    replay_buffer_class : type, default=None
        Replay buffer class (default :class:`~mlnotes.rl.common.replay_buffer.ReplayBuffer`).
    replay_buffer_kwargs : dict, default=None
        Extra replay buffer arguments.
    optimize_memory_usage : bool, default=False
        Memory-saving replay buffer.
    n_steps : int, default=1
        n-step returns in the critic's target (``NStepReplayBuffer``) when > 1.
    policy_delay : int, default=2
        Critic updates per actor (and target) update.
    target_policy_noise : float, default=0.2
        Standard deviation of the Gaussian noise on the target action.
    target_noise_clip : float, default=0.5
        That noise is clipped to ``[-target_noise_clip, target_noise_clip]``.
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    policy_kwargs : dict, default=None
        Policy arguments: ``net_arch`` (list, or ``dict(pi=[...], qf=[...])``),
        ``activation_fn``, ``n_critics``, ``optimizer_class``, ``optimizer_kwargs``,
        ``share_features_extractor``.
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
    policy : TD3Policy
        Actor, critics and their targets.
    actor, actor_target : DeterministicActor
        Aliases of the policy's (``actor.optimizer`` included).
    critic, critic_target : ContinuousCritic
        Aliases of the policy's (``critic.optimizer`` included).
    replay_buffer : ReplayBuffer
        The experience replay.
    num_timesteps : int
        Environment steps taken.

    Notes
    -----
    Chapter 41. DDPG's deterministic policy gradient,
    :math:`\\nabla_\\theta J = \\mathbb E_s[\\nabla_a Q(s, a)|_{a=\\mu_\\theta(s)}
    \\nabla_\\theta \\mu_\\theta(s)]`, with three fixes against the overestimation of
    :math:`Q` [1]_. *Clipped double Q*: the target takes the smaller of two target
    critics. *Target policy smoothing*: the target action is perturbed,

    .. math::

        \\tilde a' = \\operatorname{clip}\\big(\\mu_{\\bar\\theta}(s') +
        \\operatorname{clip}(\\epsilon, -c, c), -1, 1\\big),\\quad
        \\epsilon \\sim \\mathcal N(0, \\sigma^2),\\qquad
        y = r + \\gamma (1 - d) \\min_{j=1,2} \\bar Q_j(s', \\tilde a'),

    with :math:`\\sigma` = ``target_policy_noise``, :math:`c` = ``target_noise_clip``;
    each critic minimises :math:`\\mathbb E[(Q_j(s, a) - y)^2]` (the losses summed).
    *Delayed updates*: every ``policy_delay`` critic updates, the actor minimises
    :math:`-\\mathbb E_s[Q_1(s, \\mu_\\theta(s))]` (the critic's own gradients are not
    computed) and the targets move,
    :math:`\\bar\\phi \\leftarrow (1 - \\tau)\\bar\\phi + \\tau\\phi`,
    :math:`\\bar\\theta \\leftarrow (1 - \\tau)\\bar\\theta + \\tau\\theta`.
    :math:`d` is 1 only for a true termination: an episode cut by a time limit is
    bootstrapped from its real final observation. Actions live in :math:`[-1, 1]`
    inside the agent and are rescaled to the env's bounds.

    References
    ----------
    .. [1] S. Fujimoto, H. van Hoof and D. Meger, "Addressing function approximation
       error in actor-critic methods", ICML 2018.

    Examples
    --------
    >>> from mlnotes.rl import TD3
    >>> agent = TD3("MlpPolicy", "Pendulum-v1", learning_starts=50, batch_size=32,
    ...             policy_kwargs=dict(net_arch=[32, 32]), seed=0).learn(100)
    >>> action, _ = agent.predict(agent.env.reset(), deterministic=True)
    >>> action.shape
    (1, 1)
    """

    policy_aliases = {"MlpPolicy": TD3Policy, "CnnPolicy": TD3CnnPolicy,
                      "MultiInputPolicy": TD3MultiInputPolicy}

    def __init__(self, policy, env, learning_rate=1e-3, buffer_size=1_000_000,
                 learning_starts=100, batch_size=256, tau=0.005, gamma=0.99, train_freq=1,
                 gradient_steps=1, action_noise=None, replay_buffer_class=None,
                 replay_buffer_kwargs=None, optimize_memory_usage=False, n_steps=1,
                 policy_delay=2, target_policy_noise=0.2, target_noise_clip=0.5,
                 stats_window_size=100, tensorboard_log=None, policy_kwargs=None, verbose=0,
                 seed=None, device="auto", _init_setup_model=True):
        super().__init__(policy, env, learning_rate, buffer_size, learning_starts, batch_size,
                         tau, gamma, train_freq, gradient_steps, action_noise=action_noise,
                         replay_buffer_class=replay_buffer_class,
                         replay_buffer_kwargs=replay_buffer_kwargs,
                         optimize_memory_usage=optimize_memory_usage, n_steps=n_steps,
                         policy_kwargs=policy_kwargs, stats_window_size=stats_window_size,
                         tensorboard_log=tensorboard_log, verbose=verbose, device=device,
                         seed=seed, sde_support=False, supported_action_spaces=(spaces.Box,),
                         support_multi_env=True)
        if isinstance(policy_delay, bool) or not isinstance(policy_delay, (int, np.integer)) \
                or policy_delay < 1:
            raise ValueError(f"policy_delay must be an int >= 1, got {policy_delay!r}.")
        check_real(target_policy_noise, "target_policy_noise", 0)
        check_real(target_noise_clip, "target_noise_clip", 0)
        self.policy_delay = int(policy_delay)
        self.target_policy_noise = float(target_policy_noise)
        self.target_noise_clip = float(target_noise_clip)
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self):
        super()._setup_model()
        self.actor = self.policy.actor
        self.actor_target = self.policy.actor_target
        self.critic = self.policy.critic
        self.critic_target = self.policy.critic_target
        self._actor_params = list(self.actor.parameters())
        self._actor_target_params = list(self.actor_target.parameters())
        self._critic_params = list(self.critic.parameters())
        self._critic_target_params = list(self.critic_target.parameters())

    def _state_dict_names(self):
        return ["policy", "actor.optimizer", "critic.optimizer"]

    def _policy_actions(self, observation):
        # lean exploration path: one actor pass on the raw batch (VecEnv observations)
        with torch.no_grad():
            actions = self.actor(obs_as_tensor(observation, self.device))
        actions = actions.cpu().numpy().reshape((-1, *self.action_space.shape))
        return self.unscale_action(actions)

    def learn(self, total_timesteps, callback=None, log_interval=4, tb_log_name="TD3",
              reset_num_timesteps=True, progress_bar=False):
        """Train for ``total_timesteps`` environment steps (SB3's ``TD3.learn``).

        Parameters
        ----------
        total_timesteps : int
            Environment steps (summed over the environments).
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s); one whose ``on_step`` returns ``False`` stops training.
        log_interval : int, default=4
            Episodes between log dumps (``None``: never).
        tb_log_name : str, default="TD3"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : TD3
            The trained agent.
        """
        return super().learn(total_timesteps, callback=callback, log_interval=log_interval,
                             tb_log_name=tb_log_name, reset_num_timesteps=reset_num_timesteps,
                             progress_bar=progress_bar)

    def _actor_loss(self, data):
        """The deterministic policy gradient's loss: :math:`-Q_1(s, \\mu(s))`."""
        # Q_1 differentiated in the action only (no weight gradients, no graph)
        nets = critic_layers(self.critic)
        if nets is None:
            return -self.critic.q1_forward(data.observations,
                                           self.actor(data.observations)).mean()
        return -min_q_action_grad(self.critic, data.observations,
                                  self.actor(data.observations), nets[:1]).mean()

    def train(self, gradient_steps, batch_size=100):
        """``gradient_steps`` critic updates, with an actor update every ``policy_delay``.

        Parameters
        ----------
        gradient_steps : int
            Number of gradient steps.
        batch_size : int, default=100
            Minibatch size.
        """
        actor, actor_target = self.actor, self.actor_target
        critic, critic_target = self.critic, self.critic_target
        self.policy.set_training_mode(True)
        self._update_learning_rate([actor.optimizer, critic.optimizer])
        actor_losses, critic_losses = [], []
        sigma, clip = self.target_policy_noise, self.target_noise_clip
        critic_nets = critic_layers(critic)
        for _ in range(gradient_steps):
            self._n_updates += 1
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
            discounts = self.gamma if data.discounts is None else data.discounts

            # critics: clipped double-Q target with a smoothed target action
            with torch.no_grad():
                noise = torch.randn_like(data.actions).mul_(sigma).clamp_(-clip, clip)
                next_actions = (actor_target(data.next_observations) + noise).clamp_(-1.0, 1.0)
                next_q = critic_target.q_values(data.next_observations, next_actions)
                target_q = data.rewards + (1.0 - data.dones) * discounts \
                    * next_q.min(dim=1, keepdim=True).values
            current_q = q_values(critic, data.observations, data.actions, critic_nets)
            critic_loss = (current_q - target_q).square().mean(dim=0).sum()
            self._check_finite_loss(critic_loss, "critic_loss")
            critic_loss.backward()
            optimizer_step(critic.optimizer)
            critic_losses.append(critic_loss.detach())

            # delayed actor and target updates: maximise Q_1(s, mu(s))
            if self._n_updates % self.policy_delay == 0:
                actor_loss = self._actor_loss(data)
                self._check_finite_loss(actor_loss, "actor_loss")
                actor_loss.backward(inputs=self._actor_params)
                optimizer_step(actor.optimizer)
                actor_losses.append(actor_loss.detach())
                polyak_update(self._critic_params, self._critic_target_params, self.tau)
                polyak_update(self._actor_params, self._actor_target_params, self.tau)

        record = self.logger.record
        record("train/n_updates", self._n_updates, exclude="tensorboard")
        if actor_losses:
            record("train/actor_loss", torch.stack(actor_losses).mean().item())
        record("train/critic_loss", torch.stack(critic_losses).mean().item())
