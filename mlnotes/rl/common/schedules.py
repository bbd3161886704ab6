"""Schedules of a hyperparameter over training (learning rate, clip range, ...).

A schedule is called with ``progress_remaining``, which goes from 1 at the start of
``learn`` to 0 at its end, as in Stable-Baselines3. Ours are small objects with
parameters (not closures), so a save file stores them as JSON and ``load`` rebuilds them
without executing code.
"""

import math



class _Schedule:
    """Common part of the schedule objects: parameters, equality, JSON form."""

    _fields = ()

    def to_dict(self):
        """Describe the schedule by its class name and parameters.

        Returns
        -------
        spec : dict
            ``{"name": class name, "params": {parameter: value}}``.
        """
        return {"name": type(self).__name__,
                "params": {f: getattr(self, f) for f in self._fields}}

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash((type(self).__name__, tuple(getattr(self, f) for f in self._fields)))

    def __repr__(self):
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({args})"


class ConstantSchedule(_Schedule):
    """A schedule that always returns the same value.

    Parameters
    ----------
    value : float
        The value returned at every point of training.

    Examples
    --------
    >>> from mlnotes.rl.common.schedules import ConstantSchedule
    >>> ConstantSchedule(3e-4)(0.5)
    0.0003
    """

    _fields = ("value",)

    def __init__(self, value):
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"ConstantSchedule needs a finite value, got {value!r}.")
        self.value = value

    def __call__(self, progress_remaining):
        """Return the constant value.

        Parameters
        ----------
        progress_remaining : float
            Fraction of training left (1 at the start, 0 at the end); ignored.

        Returns
        -------
        value : float
            The constant.
        """
        return self.value


class LinearSchedule(_Schedule):
    """Linear interpolation from ``start`` to ``end`` over the first ``end_fraction``.

    With ``progress = 1 - progress_remaining`` the value is
    ``start + (end - start) * min(progress / end_fraction, 1)``, the same form as
    Stable-Baselines3's ``LinearSchedule``.

    Parameters
    ----------
    start : float
        Value at the start of training.
    end : float
        Value reached after ``end_fraction`` of training and kept afterwards.
    end_fraction : float, default=1.0
        Fraction of training, in (0, 1], over which the value moves.

    Examples
    --------
    >>> from mlnotes.rl.common.schedules import LinearSchedule
    >>> LinearSchedule(1.0, 0.0)(0.75)  # a quarter of training done
    0.75
    """

    _fields = ("start", "end", "end_fraction")

    def __init__(self, start, end, end_fraction=1.0):
        self.start, self.end, self.end_fraction = float(start), float(end), float(end_fraction)
        if not (0.0 < self.end_fraction <= 1.0):
            raise ValueError(f"end_fraction must be in (0, 1], got {end_fraction!r}.")
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise ValueError("LinearSchedule needs finite start and end values.")

    def __call__(self, progress_remaining):
        """Return the value at this point of training.

        Parameters
        ----------
        progress_remaining : float
            Fraction of training left (1 at the start, 0 at the end).

        Returns
        -------
        value : float
            The interpolated value.
        """
        progress = 1.0 - float(progress_remaining)
        if progress >= self.end_fraction:
            return self.end
        return self.start + progress * (self.end - self.start) / self.end_fraction


SCHEDULES = {"ConstantSchedule": ConstantSchedule, "LinearSchedule": LinearSchedule}


class _FloatSchedule:
    """A user's schedule with its values cast to Python floats (SB3's FloatSchedule)."""

    def __init__(self, value_schedule):
        self.value_schedule = value_schedule

    def __call__(self, progress_remaining):
        return float(self.value_schedule(progress_remaining))

    def __repr__(self):
        return f"FloatSchedule({self.value_schedule!r})"


def get_schedule_fn(value_schedule):
    """Turn a number or a callable into a schedule.

    Parameters
    ----------
    value_schedule : float or callable
        A constant (wrapped in a :class:`ConstantSchedule`) or a callable of
        ``progress_remaining`` (our schedules are returned unchanged; any other
        callable is wrapped so that its values are Python floats, as SB3's
        ``FloatSchedule``).

    Returns
    -------
    schedule : callable
        A callable of ``progress_remaining`` returning a float.

    Examples
    --------
    >>> from mlnotes.rl.common.schedules import get_schedule_fn
    >>> get_schedule_fn(0.1)
    ConstantSchedule(value=0.1)
    """
    if callable(value_schedule):
        if isinstance(value_schedule, (_Schedule, _FloatSchedule)):
            return value_schedule
        return _FloatSchedule(value_schedule)
    if isinstance(value_schedule, bool) or not isinstance(value_schedule, (int, float)):
        raise TypeError(
            "A schedule must be a number or a callable of progress_remaining, got "
            f"{type(value_schedule).__name__}."
        )
    return ConstantSchedule(value_schedule)


def schedule_from_dict(spec):
    """Rebuild a schedule from :meth:`_Schedule.to_dict` output (no code executed)."""
    try:
        return SCHEDULES[spec["name"]](**spec["params"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"Unknown or malformed schedule in save file: {spec!r}") from exc
