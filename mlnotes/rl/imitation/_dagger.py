"""DAgger (dataset aggregation), chapter 26."""

import numpy as np

from ...utils._validation import check_int, check_real
from ._bc import _empty_storage, _ImitationAlgorithm, _stack_per_env

_SCHEDULES = ("exponential", "linear", "constant")


class DAgger(_ImitationAlgorithm):
    """DAgger: the expert labels the states the learner visits; aggregate and retrain.

    Parameters
    ----------
    policy : str or type
        ``"MlpPolicy"`` or a policy class
        (:class:`~mlnotes.rl.imitation._bc.ImitationPolicy` or a subclass).
    env : gymnasium.Env, stable_baselines3.common.vec_env.VecEnv or str
        The environment (an id string is made with ``gymnasium.make``).
    expert : object, default=None
        Anything with SB3's ``predict(obs, deterministic=True) -> (action, state)``:
        an SB3 model, an mlnotes agent, a scripted controller. It is only ever asked
        for actions (no gradients, values or probabilities), on batches of
        ``(n_envs,) + obs_shape`` observations. Needed by ``learn``; held by
        reference and never saved (pass it again to ``load``).
    learning_rate : float or callable, default=1e-3
        Adam's learning rate, or a schedule of the remaining progress within a round.
    batch_size : int, default=32
        Minibatch size.
    n_epochs : int, default=4
        Passes over the aggregated dataset after each round.
    steps_per_round : int, default=500
        Environment steps collected per round (summed over the environments); the
        number of rounds is ``ceil(total_timesteps / steps_per_round)``.
    beta : float, default=0.5
        Parameter of the mixing schedule (probability that the expert, rather than
        the learner, acts at a step), see ``beta_schedule``.
    beta_schedule : {"exponential", "linear", "constant"} or callable, \
default="exponential"
        :math:`\\beta_i` of round :math:`i \\ge 1` (round 0 always has
        :math:`\\beta_0 = 1`: the expert drives): ``"exponential"``
        :math:`\\beta^i` (Ross et al.'s :math:`p^{i}`); ``"linear"``
        :math:`\\max(0, 1 - i(1 - \\beta))`; ``"constant"`` :math:`\\beta`; a
        callable maps the round index ``i`` to :math:`\\beta_i \\in [0, 1]` (not
        stored in save files: pass it to ``load`` with ``custom_objects``).
    warm_start : bool, default=True
        Keep training the same network after each round (``False``: re-initialise it
        and train from scratch on the aggregated data, as in the analysis of DAgger).
    ent_weight : float, default=1e-3
        Weight of the entropy bonus.
    l2_weight : float, default=0.0
        Weight of :math:`\\tfrac12\\|\\theta\\|^2`.
    policy_head : {"gaussian", "mixture", "discretized"}, default="gaussian"
        Distribution of Box actions (see :class:`~mlnotes.rl.BC`).
    n_components : int, default=5
        Components of the mixture head.
    n_bins : int, default=21
        Bins per dimension of the discretised head.
    policy_kwargs : dict, default=None
        Policy arguments (``net_arch``, ``activation_fn``, ...).
    stats_window_size : int, default=100
        Episodes averaged in the logged statistics.
    tensorboard_log : str, default=None
        TensorBoard folder.
    verbose : int, default=0
        0 silent, 1 one log table per round.
    seed : int, default=None
        Seed of python, numpy, torch (globally, as SB3), the env, the mixing coins
        and the minibatch order.
    device : str or torch.device, default="auto"
        Device of the network.
    _init_setup_model : bool, default=True
        Build the network now.

    Attributes
    ----------
    policy : ImitationPolicy
        The learner.
    env : stable_baselines3.common.vec_env.VecEnv
        The environment.
    num_timesteps : int
        Environment steps taken.
    round : int
        Rounds completed.
    dataset : dict of str to numpy.ndarray
        The aggregated data of the current ``learn``: ``observations`` (every visited
        state), ``actions`` (the expert's label of each), ``expert_acted`` (whether
        the expert's action was executed there), ``round`` (the round that
        visited it), ``dones``.
    round_history : list of dict
        Per round: ``round``, ``beta``, ``n_steps``, ``n_expert_actions`` (steps
        the expert drove), ``dataset_size``.

    Notes
    -----
    Chapter 26 of the notes. BC trains on the expert's state distribution
    :math:`d^{\\pi^*}` but is tested on its own, :math:`d^{\\pi_\\theta}`; small
    mistakes lead to states the expert never visited and the error compounds
    (:math:`O(\\epsilon T^2)`). DAgger collects data where the learner goes:

    1. round 0: run the expert, :math:`\\mathcal D \\leftarrow \\{(s, \\pi^*(s))\\}`,
       train :math:`\\hat\\pi_1` on :math:`\\mathcal D`;
    2. round :math:`i \\ge 1`: run the mixture
       :math:`\\pi_i = \\beta_i \\pi^* + (1 - \\beta_i) \\hat\\pi_i` (at every step and
       in every env, the expert acts with probability :math:`\\beta_i`, the learner's
       deterministic action otherwise), label **every** visited state with the
       expert's action :math:`\\pi^*(s)`,
       :math:`\\mathcal D \\leftarrow \\mathcal D \\cup \\{(s, \\pi^*(s))\\}`;
    3. retrain :math:`\\hat\\pi_{i+1}` by maximum likelihood on all of
       :math:`\\mathcal D` (``n_epochs`` epochs; ``warm_start``).

    With :math:`\\beta_i \\to 0` the data follow the learner's own state distribution,
    and the loss grows only linearly in the horizon, :math:`O(\\epsilon T)` (no-regret
    reduction to online learning).

    References
    ----------
    .. [1] S. Ross, G. Gordon, D. Bagnell, "A reduction of imitation learning and
       structured prediction to no-regret online learning", AISTATS 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.rl import DAgger
    >>> class Expert:  # a scripted CartPole controller that scores 500
    ...     def predict(self, obs, state=None, episode_start=None, deterministic=True):
    ...         w = np.array([0.5, 1.5, 20.0, 3.0])
    ...         return (np.asarray(obs) @ w > 0).astype(np.int64), state
    >>> agent = DAgger("MlpPolicy", "CartPole-v1", Expert(), steps_per_round=200, seed=0)
    >>> agent = agent.learn(600)
    >>> [r["beta"] for r in agent.round_history]
    [1.0, 0.5, 0.25]
    >>> agent.dataset["observations"].shape
    (600, 4)
    """

    def __init__(self, policy, env, expert=None, learning_rate=1e-3, batch_size=32, n_epochs=4,
                 steps_per_round=500, beta=0.5, beta_schedule="exponential", warm_start=True,
                 ent_weight=1e-3, l2_weight=0.0, policy_head="gaussian", n_components=5,
                 n_bins=21, policy_kwargs=None, stats_window_size=100, tensorboard_log=None,
                 verbose=0, seed=None, device="auto", _init_setup_model=True):
        super().__init__(policy, env, expert, learning_rate, batch_size, n_epochs, ent_weight,
                         l2_weight, policy_head, n_components, n_bins, policy_kwargs,
                         stats_window_size, tensorboard_log, verbose, seed, device)
        check_int(steps_per_round, "steps_per_round", 1)
        check_real(beta, "beta", 0, 1)
        if not (callable(beta_schedule) or beta_schedule in _SCHEDULES):
            raise ValueError(
                f"beta_schedule must be one of {_SCHEDULES} or a callable of the round "
                f"index, got {beta_schedule!r}.")
        self.steps_per_round = int(steps_per_round)
        self.beta = float(beta)
        self.beta_schedule = beta_schedule
        self.warm_start = bool(warm_start)
        self.round = 0
        self.dataset = None
        self.round_history = []
        self._storage = None
        if _init_setup_model:
            self._setup_model()

    def beta_at(self, round_index):
        """Probability that the expert acts in a round (the mixing schedule).

        Parameters
        ----------
        round_index : int
            Round index (0 is the expert-only round).

        Returns
        -------
        beta : float
            :math:`\\beta_i` in [0, 1].
        """
        i = int(round_index)
        if i == 0:
            return 1.0
        if callable(self.beta_schedule):
            value = float(self.beta_schedule(i))
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"beta_schedule({i}) returned {value}, outside [0, 1].")
            return value
        if self.beta_schedule == "exponential":
            return self.beta ** i
        if self.beta_schedule == "linear":
            return max(0.0, 1.0 - i * (1.0 - self.beta))
        return self.beta

    def learn(self, total_timesteps, callback=None, log_interval=1, tb_log_name="DAgger",
              reset_num_timesteps=True, progress_bar=False):
        """Run DAgger rounds until ``total_timesteps`` environment steps were taken.

        Parameters
        ----------
        total_timesteps : int
            Environment steps (summed over the environments), all rounds included.
        callback : callable, BaseCallback or list, default=None
            SB3 callback(s), called once per vectorised step; ``locals`` hold
            ``actions`` (executed), ``expert_actions`` (the labels), ``use_expert``
            (who acted in each env), ``beta``. One returning ``False`` stops
            training at once.
        log_interval : int, default=1
            Rounds between log dumps (``None``: never).
        tb_log_name : str, default="DAgger"
            TensorBoard run name.
        reset_num_timesteps : bool, default=True
            Restart the step counter, the rounds and the dataset; ``False`` continues
            them (the dataset of a loaded agent starts empty: it is not saved).
        progress_bar : bool, default=False
            Show SB3's progress bar.

        Returns
        -------
        self : DAgger
            The trained agent.
        """
        self._require_expert()
        total_timesteps, callback = self._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        if reset_num_timesteps or self._storage is None:
            self._storage = dict(_empty_storage(), round=[])
            self.round = 0
            self.round_history = []
            self.dataset = None
        storage = self._storage
        n_envs = self.env.num_envs
        callback.on_training_start(locals(), globals())
        while self.num_timesteps < total_timesteps:
            beta = self.beta_at(self.round)
            budget = min(self.steps_per_round, total_timesteps - self.num_timesteps)
            n_steps = -(-budget // n_envs)
            before = len(storage["observations"])
            go_on = self._collect(n_steps, callback, beta, total_timesteps, storage)
            storage["round"].extend([np.full(n_envs, self.round)] *
                                    (len(storage["observations"]) - before))
            if not go_on:
                break
            obs, act, dones, _ = _stack_per_env(storage)
            self.dataset = {
                "observations": obs, "actions": act, "dones": dones,
                "expert_acted": _flat(storage["expert_acted"]),
                "round": _flat(storage["round"]),
            }
            if not self.warm_start and self.round > 0:
                self.policy = self._build_policy()
            self._train(obs, act, self.n_epochs)
            expert_steps = int(np.sum(storage["expert_acted"][before:]))
            self.round_history.append({
                "round": self.round, "beta": beta, "n_steps": (len(storage["observations"])
                                                               - before) * n_envs,
                "n_expert_actions": expert_steps, "dataset_size": len(act)})
            self.logger.record("dagger/round", self.round)
            self.logger.record("dagger/beta", beta)
            self.logger.record("dagger/dataset_size", len(act))
            self.round += 1
            if log_interval is not None and self.round % log_interval == 0:
                self.dump_logs(self.round)
        callback.on_training_end()
        return self


def _flat(steps):
    arr = np.stack(steps)
    return np.swapaxes(arr, 0, 1).reshape(-1)

