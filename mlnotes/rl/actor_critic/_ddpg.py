"""Deep deterministic policy gradient (DDPG), chapter 41."""

from ._td3 import TD3


class DDPG(TD3):
    """Deep deterministic policy gradient (DDPG), Stable-Baselines3's surface.

    TD3 without its three additions: one critic, the actor updated at every step,
    no target policy smoothing (SB3's DDPG is built the same way).

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
        Learning rate of the actor and the critic, or a schedule of the remaining
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
        ``NormalActionNoise`` or ``OrnsteinUhlenbeckActionNoise``).
    replay_buffer_class : type, default=None
        Replay buffer class (default :class:`~mlnotes.rl.common.replay_buffer.ReplayBuffer`).
    replay_buffer_kwargs : dict, default=None
        Extra replay buffer arguments.
    optimize_memory_usage : bool, default=False
        Memory-saving replay buffer.
    n_steps : int, default=1
        n-step returns in the critic's target (``NStepReplayBuffer``) when > 1.
    tensorboard_log : str, default=None
        TensorBoard folder.
    policy_kwargs : dict, default=None
        Policy arguments (``n_critics`` defaults to 1 here), as for :class:`TD3`.
    verbose : int, default=0
        0 silent, 1 training information.
    seed : int, default=None
        Seed (python, numpy, torch, action space, environment).
    device : str or torch.device, default="auto"
        Device of the networks.
    _init_setup_model : bool, default=True
        Build the networks now (``load`` builds them after setting the spaces).

    Attributes
    ----------
    policy : TD3Policy
        Actor, critic and their targets.
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
    Chapter 41. The critic regresses on the one-step target of the target networks,

    .. math::

        y = r + \\gamma (1 - d)\\, \\bar Q(s', \\mu_{\\bar\\theta}(s')),\\qquad
        L_Q = \\mathbb E[(Q_\\phi(s, a) - y)^2],

    and the actor follows the deterministic policy gradient,
    :math:`\\nabla_\\theta J = \\mathbb E_s[\\nabla_a Q_\\phi(s, a)|_{a = \\mu_\\theta(s)}
    \\nabla_\\theta \\mu_\\theta(s)]` (loss :math:`-\\mathbb E_s[Q_\\phi(s,
    \\mu_\\theta(s))]`), after which both targets move by Polyak averaging with
    :math:`\\tau`. :math:`d` is 1 only for a true termination (time-limit ends are
    bootstrapped). Like SB3, there is no ``stats_window_size`` argument (it stays 100).

    References
    ----------
    .. [1] T. P. Lillicrap et al., "Continuous control with deep reinforcement
       learning", ICLR 2016.

    Examples
    --------
    >>> from mlnotes.rl import DDPG
    >>> agent = DDPG("MlpPolicy", "Pendulum-v1", learning_starts=50, batch_size=32,
    ...              policy_kwargs=dict(net_arch=[32, 32]), seed=0).learn(100)
    >>> agent.critic.n_critics
    1
    """

    def __init__(self, policy, env, learning_rate=1e-3, buffer_size=1_000_000,
                 learning_starts=100, batch_size=256, tau=0.005, gamma=0.99, train_freq=1,
                 gradient_steps=1, action_noise=None, replay_buffer_class=None,
                 replay_buffer_kwargs=None, optimize_memory_usage=False, n_steps=1,
                 tensorboard_log=None, policy_kwargs=None, verbose=0, seed=None,
                 device="auto", _init_setup_model=True):
        super().__init__(policy, env, learning_rate=learning_rate, buffer_size=buffer_size,
                         learning_starts=learning_starts, batch_size=batch_size, tau=tau,
                         gamma=gamma, train_freq=train_freq, gradient_steps=gradient_steps,
                         action_noise=action_noise, replay_buffer_class=replay_buffer_class,
                         replay_buffer_kwargs=replay_buffer_kwargs,
                         optimize_memory_usage=optimize_memory_usage, n_steps=n_steps,
                         tensorboard_log=tensorboard_log, policy_kwargs=policy_kwargs,
                         verbose=verbose, seed=seed, device=device,
                         # TD3 without its tricks: one critic, no delay, no smoothing
                         policy_delay=1, target_noise_clip=0.0, target_policy_noise=0.1,
                         _init_setup_model=False)
        if _init_setup_model:
            self._setup_model()

    def _default_policy_kwargs(self):
        return {"n_critics": 1}

    def learn(self, total_timesteps, callback=None, log_interval=4, tb_log_name="DDPG",
              reset_num_timesteps=True, progress_bar=False):
        """Train for ``total_timesteps`` environment steps (SB3's ``DDPG.learn``).

        Parameters
        ----------
        total_timesteps : int
            Environment steps (summed over the environments).
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s); one whose ``on_step`` returns ``False`` stops training.
        log_interval : int, default=4
            Episodes between log dumps (``None``: never).
        tb_log_name : str, default="DDPG"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter.
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : DDPG
            The trained agent.
        """
        return super().learn(total_timesteps, callback=callback, log_interval=log_interval,
                             tb_log_name=tb_log_name, reset_num_timesteps=reset_num_timesteps,
                             progress_bar=progress_bar)
