"""True, vectorised models of classic-control environments for the planners.

A *model* here is any callable ``model(observations, actions) -> (next_observations,
rewards, terminated)`` on batches: ``observations`` of shape ``(n, obs_dim)``,
``actions`` of shape ``(n, act_dim)``, returning arrays of shapes ``(n, obs_dim)``,
``(n,)`` and ``(n,)``. The shooting planners evaluate all their candidate action
sequences with one call per time step, so a model must be vectorised over the batch.

For the gymnasium environments below the observation is the full state, so the exact
dynamics can be written on observations; :func:`true_model` finds the model of an
environment (reading its physical constants from ``env.unwrapped``). A learned model
(e.g. a dynamics ensemble) has the same signature.
"""

import numpy as np

__all__ = []


class PendulumModel:
    """Exact, vectorised dynamics and reward of gymnasium's ``Pendulum-v1``.

    Observations are ``[cos(theta), sin(theta), theta_dot]``; the torque is clipped to
    ``[-max_torque, max_torque]``; the reward is
    ``-(angle_normalize(theta)^2 + 0.1 theta_dot^2 + 0.001 u^2)``. Never terminates.

    Parameters
    ----------
    g, m, l, dt, max_speed, max_torque : float
        The environment's constants (gymnasium's defaults).
    """

    def __init__(self, g=10.0, m=1.0, l=1.0, dt=0.05, max_speed=8.0, max_torque=2.0):
        self.g, self.m, self.l, self.dt = g, m, l, dt
        self.max_speed, self.max_torque = max_speed, max_torque

    @classmethod
    def from_env(cls, env):
        u = env.unwrapped
        return cls(u.g, u.m, u.l, u.dt, u.max_speed, u.max_torque)

    def __call__(self, obs, actions):
        obs = np.asarray(obs, dtype=np.float64)
        th = np.arctan2(obs[:, 1], obs[:, 0])
        thdot = obs[:, 2]
        u = np.clip(np.asarray(actions, dtype=np.float64)[:, 0], -self.max_torque,
                    self.max_torque)
        cost = th**2 + 0.1 * thdot**2 + 0.001 * u**2  # arctan2 is already in [-pi, pi]
        new_thdot = thdot + (3 * self.g / (2 * self.l) * np.sin(th)
                             + 3.0 / (self.m * self.l**2) * u) * self.dt
        new_thdot = np.clip(new_thdot, -self.max_speed, self.max_speed)
        new_th = th + new_thdot * self.dt
        next_obs = np.stack([np.cos(new_th), np.sin(new_th), new_thdot], axis=1)
        return next_obs, -cost, np.zeros(len(obs), dtype=bool)


class MountainCarContinuousModel:
    """Exact, vectorised dynamics and reward of ``MountainCarContinuous-v0``.

    Parameters
    ----------
    power, max_speed, min_position, max_position, goal_position, goal_velocity : float
        The environment's constants.
    """

    def __init__(self, power=0.0015, max_speed=0.07, min_position=-1.2, max_position=0.6,
                 goal_position=0.45, goal_velocity=0.0):
        self.power, self.max_speed = power, max_speed
        self.min_position, self.max_position = min_position, max_position
        self.goal_position, self.goal_velocity = goal_position, goal_velocity

    @classmethod
    def from_env(cls, env):
        u = env.unwrapped
        return cls(u.power, u.max_speed, u.min_position, u.max_position, u.goal_position,
                   u.goal_velocity)

    def __call__(self, obs, actions):
        obs = np.asarray(obs, dtype=np.float64)
        position, velocity = obs[:, 0].copy(), obs[:, 1].copy()
        force = np.clip(np.asarray(actions, dtype=np.float64)[:, 0], -1.0, 1.0)
        velocity += force * self.power - 0.0025 * np.cos(3 * position)
        velocity = np.clip(velocity, -self.max_speed, self.max_speed)
        position = np.clip(position + velocity, self.min_position, self.max_position)
        velocity[(position == self.min_position) & (velocity < 0)] = 0.0
        terminated = (position >= self.goal_position) & (velocity >= self.goal_velocity)
        reward = np.where(terminated, 100.0, 0.0) - 0.1 * force**2
        return np.stack([position, velocity], axis=1), reward, terminated


_MODELS = {
    "PendulumEnv": PendulumModel,
    "Continuous_MountainCarEnv": MountainCarContinuousModel,
}


def true_model(env, algorithm="This planner"):
    """The exact vectorised model of a supported gymnasium environment.

    Parameters
    ----------
    env : gymnasium.Env
        ``Pendulum-v1`` or ``MountainCarContinuous-v0`` (any wrapper around them).
    algorithm : str, default="This planner"
        Name used in the error message.

    Returns
    -------
    model : callable
        ``model(observations, actions) -> (next_observations, rewards, terminated)``.
    """
    name = type(getattr(env, "unwrapped", env)).__name__
    if name not in _MODELS:
        raise ValueError(
            f"{algorithm} has no true model of {name}: pass model=f with "
            "f(observations, actions) -> (next_observations, rewards, terminated) on "
            f"batches (exact models are built in for {sorted(_MODELS)})."
        )
    return _MODELS[name].from_env(env)
