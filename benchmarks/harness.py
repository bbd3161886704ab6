"""Generic benchmark machinery: suites, cases, single-thread limits, timing.

Every suite follows the small :class:`Suite` protocol (a name, a description, case names,
``run(ctx, cases) -> SuiteResult``). A :class:`SuiteResult` holds plain data: a list of row
dicts, the :class:`~benchmarks.report.Column` list that says how to print them, an optional
:class:`~benchmarks.report.ChartSpec` for the ratio chart, and Markdown summary lines.
:mod:`benchmarks.report` turns any such result into ``<suite>.md`` and ``<suite>.png``, so a
new kind of suite reuses the writers with its own columns.

:class:`EstimatorSuite` is the suite for scikit-learn-style estimators (and density
estimators): a declarative list of :class:`Case` objects, each naming our class and the
reference class by dotted string (imported lazily), the shared parameters and the datasets.
For each (case, dataset) it fits and predicts with both, interleaved, on one thread: one
warm-up call excluded, then the median of ``repeats`` timed repeats.

Extension points (documented interfaces; no suite implements them yet)
-----------------------------------------------------------------------
*Density models* need no new machinery: declare ``Dataset(task="density")`` data and
``Case(..., metric="nll")``; fit is ``fit(X)``, the "predict" time is that of
``score_samples`` and the score is the held-out negative log-likelihood in nats (lower is
better). Sample plots go to ``SuiteResult.figures``.

*Agents* (vs Stable-Baselines3) implement :class:`Suite` directly. ``run`` should, inside
:func:`single_thread`, train each agent and its SB3 twin with the same env, seed and
hyperparameters up to fixed step budgets, evaluate them with SB3's ``evaluate_policy``, time
training with :func:`measure` or :func:`time_calls`, and return rows such as
``{"case", "env", "seed", "budget", "return_ours", "return_ref", "steps_per_s_ours",
"steps_per_s_ref", "speed_ratio", "status", "message"}`` with matching ``Column`` objects, a
``ChartSpec`` over the ratio keys, and learning-curve PNGs written into ``ctx.out_dir`` and
listed in ``SuiteResult.figures``. ``failed`` is True when a run raised.

Quick subsets and time budgets (``make bench``)
-----------------------------------------------
``python -m benchmarks --quick --subset --budget SECONDS`` is the first look that must
finish in a few minutes on two cores. ``--subset`` runs, per suite, only the cases named
by the suite's optional ``quick_cases`` attribute (a list of case names: a few
representative, cheap rows; the full ``--quick`` run and ``make bench-full`` still run
every case); a suite without one runs its entry in :data:`benchmarks.cli.QUICK_CASES`,
or else its first case. ``--budget`` gives every suite a deadline
(:attr:`RunContext.deadline`, :meth:`RunContext.time_left`): :class:`EstimatorSuite`
skips the rows it has no time left for (status ``skipped``); a custom suite should do
the same between its cases.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import math
import statistics
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

from benchmarks.datasets import Dataset, Split

__all__ = [
    "Acceptance", "Case", "EstimatorSuite", "Metric", "METRICS", "RunContext", "Suite",
    "SuiteResult", "geometric_mean", "load_object", "measure", "single_thread",
    "time_calls", "quick_case_names",
]

#: a timed repeat lasts at least this long: calls shorter than this are repeated
#: ``number`` times within the repeat and their mean is the repeat's time.
MIN_REPEAT_TIME = 0.02
MAX_NUMBER = 1000


# --------------------------------------------------------------------------- plumbing


def load_object(spec):
    """Import ``"package.module:Name"`` (or ``"package.module.Name"``); pass objects through.

    Raises ImportError (never AttributeError) when the module or the name is missing, so
    that callers can report "not available".
    """
    if not isinstance(spec, str):
        return spec
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
    else:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"expected 'package.module:Name', got {spec!r}")
    module = importlib.import_module(module_name)
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ImportError(f"cannot import name {part!r} from {module_name!r}") from None
    return obj


def spec_name(spec) -> str:
    """Readable name of a dotted spec or a class."""
    if isinstance(spec, str):
        return spec
    return f"{spec.__module__}:{getattr(spec, '__qualname__', repr(spec))}"


@contextlib.contextmanager
def single_thread():
    """Limit BLAS/OpenMP (threadpoolctl) and torch to one thread; restore on exit.

    Libraries loaded after entering are not covered by threadpoolctl, so import the
    estimators first (``python -m benchmarks`` also sets ``OMP_NUM_THREADS=1`` and friends
    before anything is imported).
    """
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")
    if torch is None:
        try:
            import torch
        except ImportError:  # pragma: no cover - torch is a dependency
            torch = None
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    numba = sys.modules.get("numba")
    numba_previous = None
    if numba is not None:
        with contextlib.suppress(Exception):
            numba_previous = numba.get_num_threads()
            numba.set_num_threads(1)
    daal_previous = _set_onedal_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(previous)
        if numba_previous is not None:
            with contextlib.suppress(Exception):
                numba.set_num_threads(numba_previous)
        _set_onedal_threads(daal_previous)


def _set_onedal_threads(n):
    """Set oneDAL's thread count (scikit-learn-intelex) if it is loaded; return the old one.

    oneDAL runs on TBB, which threadpoolctl does not see; ``daal4py.daalinit(n)`` limits it.
    """
    daal4py = sys.modules.get("daal4py")
    if daal4py is None or n is None:
        return None
    previous = daal4py.num_threads()
    daal4py.daalinit(int(n))
    return previous


@contextlib.contextmanager
def all_threads():
    """Every core for BLAS/OpenMP, numba, torch and oneDAL (``--threads all``); restore on exit."""
    import os

    from threadpoolctl import threadpool_limits

    cores = os.cpu_count() or 1
    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(cores)
    numba = sys.modules.get("numba")
    numba_previous = None
    if numba is not None:
        with contextlib.suppress(Exception):
            numba_previous = numba.get_num_threads()
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    daal_previous = _set_onedal_threads(cores)
    try:
        with threadpool_limits(limits=cores):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(previous)
        if numba_previous is not None:
            with contextlib.suppress(Exception):
                numba.set_num_threads(numba_previous)
        _set_onedal_threads(daal_previous)


def time_calls(fn: Callable[[], Any], number: int = 1):
    """Call ``fn`` ``number`` times with the garbage collector off; return (mean s, last).

    No ``gc.collect()`` here: with torch and scikit-learn loaded a full collection takes
    ~0.1 s; :meth:`EstimatorSuite.run` collects once per suite instead.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            out = fn()
        elapsed = time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()
    return elapsed / number, out


def calls_per_repeat(seconds: float, min_time: float = MIN_REPEAT_TIME) -> int:
    """How many calls make a repeat last ``min_time``, given one call's duration."""
    if seconds <= 0:
        return MAX_NUMBER
    return int(max(1, min(MAX_NUMBER, math.ceil(min_time / seconds))))


def measure(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1,
            min_time: float = MIN_REPEAT_TIME):
    """Median time of ``fn`` over ``repeats`` repeats after ``warmup`` excluded calls.

    A generic helper for suites that time something other than fit/predict (an agents
    suite timing ``learn``). Returns ``(median_seconds, times, number)``.
    """
    for _ in range(warmup):
        fn()
    first, _ = time_calls(fn)
    number = calls_per_repeat(first, min_time)
    times = [time_calls(fn, number)[0] for _ in range(repeats)]
    return statistics.median(times), times, number


def geometric_mean(values) -> float:
    """Geometric mean of positive numbers (nan when empty)."""
    values = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    if not values:
        return math.nan
    return math.exp(sum(math.log(v) for v in values) / len(values))


def episode_returns(agent, env_id: str, episodes: int, seed: int = 10_000,
                    reseed_each: bool = True):
    """Returns of ``episodes`` deterministic episodes of ``agent`` on ``gym.make(env_id)``.

    The seeded evaluation shared by the RL benchmark scripts. ``agent`` is anything with
    Stable-Baselines3's ``predict(obs, state, episode_start, deterministic)`` (our agents,
    SB3's, a planner); it gets one unbatched observation per call, ``episode_start`` true on
    the first step of each episode (a planner drops its warm start there) and
    ``deterministic=True``. Discrete actions are passed to the env as ``int``.

    Seeding: with ``reseed_each`` episode ``i`` starts from ``env.reset(seed=seed + i)``;
    without it only the first episode is seeded (``seed``) and the later ones continue the
    env's random stream, which is what SB3's ``evaluate_policy`` does on a one-env
    ``VecEnv`` seeded once (same start states and returns, up to the 1e-6 rounding of
    SB3's ``Monitor``). Returns a float array of the ``episodes`` undiscounted returns.
    """
    import gymnasium as gym
    import numpy as np

    env = gym.make(env_id)
    discrete = isinstance(env.action_space, gym.spaces.Discrete)
    returns = []
    try:
        for episode in range(episodes):
            if reseed_each or episode == 0:
                obs, _ = env.reset(seed=seed + episode)
            else:
                obs, _ = env.reset()
            state, start, done, total = None, True, False, 0.0
            while not done:
                action, state = agent.predict(obs, state, episode_start=np.array([start]),
                                              deterministic=True)
                obs, reward, terminated, truncated, _ = env.step(
                    int(action) if discrete else action)
                total += float(reward)
                start, done = False, terminated or truncated
            returns.append(total)
    finally:
        env.close()
    return np.asarray(returns, dtype=float)


def _error_message(exc: BaseException, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- protocol


@dataclass
class RunContext:
    """Options of one invocation, shared by every suite."""

    quick: bool = False
    repeats: int = 5
    out_dir: Path = Path(__file__).resolve().parent / "results"
    command: str = "python -m benchmarks"
    log: Callable[[str], None] = field(default=lambda msg: print(msg, file=sys.stderr,
                                                                  flush=True))
    min_time: float = MIN_REPEAT_TIME
    #: ``time.monotonic()`` after which a suite should skip its remaining cases/rows
    #: (``--budget``); None: no limit
    deadline: float | None = None
    #: ``--subset``: each suite runs only its ``quick_cases``
    subset: bool = False
    #: ``--intelex``: estimator suites time scikit-learn-intelex's class of the same name
    #: (``sklearnex.<module>``) as a third column
    intelex: bool = False
    #: ``--threads all``: every core for everyone (BLAS, numba, torch, oneDAL, and
    #: ``n_jobs=-1`` where an estimator has it) instead of one thread
    all_cores: bool = False

    @property
    def mode(self) -> str:
        return "quick" if self.quick else "full"

    @property
    def variant(self) -> str:
        """Suffix of the result files of a non-default run (``-intelex``, ``-allcores``)."""
        return ("-intelex" if self.intelex else "") + ("-allcores" if self.all_cores else "")

    def threads(self):
        """The thread context of a timed section: :func:`single_thread` or :func:`all_threads`."""
        return all_threads() if self.all_cores else single_thread()

    def time_left(self) -> float:
        """Seconds before :attr:`deadline` (infinite without a budget)."""
        return math.inf if self.deadline is None else self.deadline - time.monotonic()


@dataclass
class SuiteResult:
    """What a suite hands to the report writers: plain data only."""

    suite: str
    rows: list[dict]
    columns: list  # list[benchmarks.report.Column]
    chart: Any = None  # benchmarks.report.ChartSpec or None
    title: str = ""
    method: list[str] = field(default_factory=list)  # header lines: how it was measured
    summary: list[str] = field(default_factory=list)  # Markdown lines after the table
    figures: list[Path] = field(default_factory=list)  # extra plots, linked from the .md
    failed: bool = False
    #: the row key the one-screen summary reports (geometric mean, worst row): a time
    #: ratio ours / reference by default; None picks ``total_ratio`` or, failing that,
    #: the inverse of ``speed_ratio`` (a throughput ratio ours / reference)
    ratio_key: str | None = None
    #: True when a larger ``ratio_key`` value is better (a throughput ratio)
    ratio_higher_is_better: bool = False


@runtime_checkable
class Suite(Protocol):
    """A benchmark suite: one module under ``benchmarks/suites`` defines ``SUITE``."""

    name: str
    description: str

    def case_names(self) -> list[str]:
        """Names that ``--only`` and ``--list`` use."""

    def describe(self) -> list[str]:
        """One line per case for ``--list``."""

    def run(self, ctx: RunContext, cases: Sequence[str]) -> SuiteResult:
        """Run the named cases; never raise for a failing case (report it in the rows).

        Optional: a ``quick_cases`` attribute (list of case names) selects the rows of
        ``--subset`` runs, and ``run`` should skip cases once ``ctx.time_left() <= 0``.
        """


def quick_case_names(suite, fallback: Sequence[str] | None = None) -> list[str]:
    """The cases a ``--subset`` run of ``suite`` takes.

    The suite's own ``quick_cases`` if it declares them, else ``fallback`` (names not in
    the suite are dropped), else its first case.
    """
    names = list(suite.case_names())
    declared = getattr(suite, "quick_cases", None)
    if callable(declared):
        declared = declared()
    for candidate in (declared, fallback):
        if candidate:
            picked = [n for n in candidate if n in names]
            if picked:
                return picked
    return names[:1]


# --------------------------------------------------------------------------- estimators


@dataclass(frozen=True)
class Metric:
    """A held-out score: ``func(y_test, output)`` where ``output = getattr(est, method)(X)``.

    With ``with_inputs=True`` it is ``func(y_test, output, X_test, estimator)``: scores of
    transformers (reconstruction error, distance distortion) need the input and the fitted
    estimator, and ``y_test`` is None for them.
    """

    name: str
    func: Callable[..., float]
    method: str = "predict"
    greater_is_better: bool = True
    with_inputs: bool = False


def _accuracy(y, pred):
    from sklearn.metrics import accuracy_score

    return float(accuracy_score(y, pred))


def _r2(y, pred):
    from sklearn.metrics import r2_score

    return float(r2_score(y, pred))


def _nll(_y, log_density):
    import numpy as np

    return float(-np.mean(log_density))


def _ari(y, labels):
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(y, labels))


def _inertia(y, score):
    return float(-score / len(y))  # KMeans.score is minus the summed inertia


METRICS = {
    "accuracy": Metric("accuracy", _accuracy),
    "r2": Metric("R^2", _r2),
    "nll": Metric("NLL (nats)", _nll, method="score_samples", greater_is_better=False),
    # clusterers (task "cluster"): adjusted Rand index against the generating labels
    # of the test set, from predict, or from fit_predict for clusterers without
    # predict (agglomerative, spectral: the "predict" time is then a second fit, on
    # the test set); or the held-out k-means objective per sample
    "ari": Metric("ARI", _ari),
    "ari_fit_predict": Metric("ARI (fit_predict on test)", _ari, method="fit_predict"),
    "inertia": Metric("inertia / sample", _inertia, method="score",
                      greater_is_better=False),
}
DEFAULT_METRIC = {"classification": "accuracy", "regression": "r2", "density": "nll",
                  "cluster": "ari"}


@dataclass(frozen=True)
class Case:
    """One estimator compared with its reference on several datasets.

    Parameters
    ----------
    name : str
        Shown in tables and matched by ``--only`` (e.g. ``"Ridge"``).
    ours, reference : str or class
        ``"package.module:Class"``, imported lazily when the case runs. If ``ours`` cannot
        be imported the rows are "not available"; the reference is still timed.
    datasets : sequence of Dataset
    params : mapping
        Constructor parameters given to *both* classes.
    metric : str or Metric, default=None
        ``"accuracy"``, ``"r2"``, ``"nll"`` or a :class:`Metric`; None picks it from the
        dataset's task.
    """

    name: str
    ours: Any
    reference: Any
    datasets: Sequence[Dataset]
    params: Mapping[str, Any] = field(default_factory=dict)
    metric: Any = None

    def metric_for(self, split: Split) -> Metric:
        metric = self.metric if self.metric is not None else DEFAULT_METRIC[split.task]
        return METRICS[metric] if isinstance(metric, str) else metric


@dataclass(frozen=True)
class Acceptance:
    """A suite's acceptance criterion on the rows of ``acceptance=True`` datasets."""

    max_ratio: float = 1.5
    max_geomean: float = 1.0
    description: str = ""


class _Side:
    """Measurements for one of the two estimators of a row."""

    def __init__(self, key, spec):
        self.key = key  # "ours" or "ref"
        self.spec = spec
        self.cls = None
        self.unavailable = None
        self.error = None
        self.fit_times: list[float] = []
        self.predict_times: list[float] = []
        self.fit_number = 1
        self.predict_number = 1
        self.output = None
        self.estimator = None  # the last fitted instance (Metric.with_inputs)
        self.warnings: set[str] = set()

    @property
    def alive(self):
        return self.cls is not None and self.error is None

    def resolve(self):
        if self.spec is None:
            self.unavailable = "no scikit-learn class to take the name from"
            return
        try:
            self.cls = load_object(self.spec)
        except ImportError as exc:
            self.unavailable = _error_message(exc)
        except Exception as exc:  # a broken module is an error, not "not available"
            self.error = "import: " + _error_message(exc)
            traceback.print_exc()


class EstimatorSuite:
    """Compare estimators with their references: score, fit and predict time, ratios."""

    def __init__(self, name: str, description: str, cases: Sequence[Case],
                 acceptance: Acceptance | None = None, reference_label: str = "ref",
                 quick_cases: Sequence[str] | None = None):
        names = [c.name for c in cases]
        if len(set(names)) != len(names):
            raise ValueError(f"suite {name!r}: duplicate case names {names}")
        unknown = [q for q in (quick_cases or ()) if q not in names]
        if unknown:
            raise ValueError(f"suite {name!r}: quick_cases {unknown} are not cases")
        #: the cases of ``--subset`` runs (``make bench``); None: the first case
        self.quick_cases = list(quick_cases) if quick_cases else None
        self.name = name
        self.description = description
        self.cases = list(cases)
        self.acceptance = acceptance
        self.reference_label = reference_label

    def case_names(self) -> list[str]:
        return [c.name for c in self.cases]

    def describe(self) -> list[str]:
        lines = []
        for c in self.cases:
            params = ", ".join(f"{k}={v!r}" for k, v in c.params.items()) or "defaults"
            data = ", ".join(d.name for d in c.datasets)
            lines.append(f"{c.name}: {spec_name(c.ours)} vs {spec_name(c.reference)} "
                         f"({params}) on {data}")
        return lines

    # -- running -----------------------------------------------------------------

    def run(self, ctx: RunContext, cases: Sequence[str] | None = None) -> SuiteResult:
        from benchmarks.report import estimator_chart, estimator_columns

        selected = [c for c in self.cases if cases is None or c.name in cases]
        gc.collect()  # once: a full collection takes ~0.1 s with torch loaded
        splits: dict[str, Split] = {}
        rows = []
        for case in selected:
            for dataset in case.datasets:
                if ctx.time_left() <= 0:
                    rows.append(self.skipped_row(case, dataset, ctx))
                    ctx.log(f"[{self.name}] {case.name} on {dataset.name}: skipped "
                            "(time budget spent)")
                    continue
                if dataset.name not in splits:
                    ctx.log(f"[{self.name}] loading {dataset.name} ({ctx.mode})")
                    splits[dataset.name] = dataset.split(quick=ctx.quick)
                row = self.run_one(case, splits[dataset.name], ctx)
                rows.append(row)
                ctx.log(f"[{self.name}] {_progress(row)}")
        failed = any(r["status"] == "error" for r in rows)
        return SuiteResult(
            suite=self.name, rows=rows, columns=estimator_columns(self.reference_label,
                                                       intelex=ctx.intelex),
            chart=estimator_chart(self.name, ctx, self.acceptance),
            title=f"{self.name}: {self.description}",
            method=self.method_lines(ctx), summary=self.summary(rows, ctx), failed=failed)

    def skipped_row(self, case: Case, dataset: Dataset, ctx: RunContext) -> dict:
        """The row of a (case, dataset) pair not run because the time budget is spent."""
        row = {
            "suite": self.name, "case": case.name, "ours": spec_name(case.ours),
            "reference": spec_name(case.reference), "params": dict(case.params),
            "dataset": dataset.name, "n_train": 0, "n_test": 0, "n_features": 0,
            "n_classes": None, "acceptance": False, "mode": ctx.mode,
            "repeats": ctx.repeats, "metric": "-", "greater_is_better": True,
            "score_diff": None, "status": "skipped",
            "message": "time budget (--budget) spent before this row",
        }
        for k in ("ours", "ref"):
            row.update({f"score_{k}": None, f"fit_times_{k}": [], f"predict_times_{k}": [],
                        f"fit_{k}": None, f"predict_{k}": None, f"fit_number_{k}": 0,
                        f"predict_number_{k}": 0, f"warnings_{k}": []})
        row.update(fit_ratio=None, predict_ratio=None, total_ratio=None)
        return row

    def method_lines(self, ctx: RunContext) -> list[str]:
        return [
            f"timing: per estimator one warm-up fit + predict excluded (JIT, caches), one "
            f"calibration call excluded, then the median of {ctx.repeats} repeats; ours and "
            f"the reference alternate within every repeat (order swapped each repeat). A "
            f"call shorter than {ctx.min_time * 1e3:g} ms is repeated within a repeat and "
            f"averaged (at most {MAX_NUMBER} calls). Construction is not timed; predict "
            f"time is on the test set.",
            "data: the same train/test split for both (fixed seed; 20% held out unless the "
            "dataset says otherwise; stratified for classification) and the same "
            "constructor parameters; arrays read-only, float64, C-contiguous.",
            "score: accuracy for classifiers, R^2 for regressors, held-out NLL for density "
            "models, on the held-out part; ratios are ours / reference of the median times.",
        ] + ([
            "clusterers: ARI against the generating labels of the held-out part (from "
            "`predict`, or from `fit_predict` on it, whose time is then the predict "
            "column), or held-out inertia per sample (`score`, k-means objective).",
        ] if any(d.task == "cluster" for c in self.cases for d in c.datasets) else []) + (
            [f"† marks acceptance-size datasets ({self.acceptance.description})"]
            if self.acceptance is not None else [])

    def run_one(self, case: Case, split: Split, ctx: RunContext) -> dict:
        """Measure one (case, dataset) pair; returns the row dict (never raises)."""
        ours, ref = _Side("ours", case.ours), _Side("ref", case.reference)
        sides = [ref, ours]
        ix = None
        if ctx.intelex:  # the third column: scikit-learn-intelex's class of the same name
            ix = _Side("ix", intelex_spec(case.reference))
            sides.append(ix)
        for side in sides:
            side.resolve()
        metric = case.metric_for(split)
        # clusterers never see the generating labels (they only score the result)
        fit_args = ((split.X_train,) if split.y_train is None or split.task == "cluster"
                    else (split.X_train, split.y_train))

        def make(side):
            params = dict(case.params)
            if ctx.all_cores and "n_jobs" not in params:
                with contextlib.suppress(Exception):
                    if "n_jobs" in side.cls().get_params():
                        params["n_jobs"] = -1
            return side.cls(**params)

        def fit_once(side, number, record):
            instances = [make(side) for _ in range(number)]
            it = iter(instances)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always" if record else "ignore")
                t, est = time_calls(lambda: next(it).fit(*fit_args), number)
            side.warnings.update(type(w.message).__name__ for w in caught)
            return t, est

        def predict_once(side, est, number, record):
            method = getattr(est, metric.method)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always" if record else "ignore")
                t, out = time_calls(lambda: method(split.X_test), number)
            side.warnings.update(type(w.message).__name__ for w in caught)
            return t, out

        label = {"ours": "ours", "ref": "reference", "ix": "sklearnex"}

        def guarded(side, fn):
            if not side.alive:
                return
            try:
                fn()
            except Exception as exc:
                side.error = _error_message(exc)
                ctx.log(f"[{self.name}] {case.name} on {split.name}: "
                        f"{label[side.key]} raised:")
                traceback.print_exc()

        def warm_and_calibrate(side):
            # warm-up: JIT compilation, caches, lazy imports (excluded)
            _, est = fit_once(side, 1, record=True)
            predict_once(side, est, 1, record=True)
            # calibration (excluded): how many calls make a repeat last min_time
            t_fit, est = fit_once(side, 1, record=False)
            t_pred, _ = predict_once(side, est, 1, record=False)
            side.fit_number = calls_per_repeat(t_fit, ctx.min_time)
            side.predict_number = calls_per_repeat(t_pred, ctx.min_time)

        def repeat(side):
            t_fit, est = fit_once(side, side.fit_number, record=False)
            t_pred, out = predict_once(side, est, side.predict_number, record=False)
            side.fit_times.append(t_fit)
            side.predict_times.append(t_pred)
            side.output = out
            side.estimator = est

        with ctx.threads():
            for side in sides:
                guarded(side, lambda: warm_and_calibrate(side))
            for r in range(ctx.repeats):
                for side in (sides if r % 2 == 0 else sides[::-1]):
                    guarded(side, lambda: repeat(side))

        row = {
            "suite": self.name, "case": case.name, "ours": spec_name(case.ours),
            "reference": spec_name(case.reference),
            "params": dict(case.params), "dataset": split.name,
            "n_train": split.n_train, "n_test": split.n_test,
            "n_features": split.n_features, "n_classes": split.n_classes,
            "acceptance": split.acceptance, "mode": ctx.mode, "repeats": ctx.repeats,
            "metric": metric.name, "greater_is_better": metric.greater_is_better,
        }
        for side in sides[1:] + sides[:1]:
            k = side.key
            done = side.alive and len(side.fit_times) == ctx.repeats
            score = None
            if done:
                try:
                    extra = (split.X_test, side.estimator) if metric.with_inputs else ()
                    score = metric.func(split.y_test, side.output, *extra)
                except Exception as exc:
                    side.error = "score: " + _error_message(exc)
                    done = False
            row[f"score_{k}"] = score
            row[f"fit_times_{k}"] = list(side.fit_times) if done else []
            row[f"predict_times_{k}"] = list(side.predict_times) if done else []
            row[f"fit_{k}"] = statistics.median(side.fit_times) if done else None
            row[f"predict_{k}"] = statistics.median(side.predict_times) if done else None
            row[f"fit_number_{k}"] = side.fit_number
            row[f"predict_number_{k}"] = side.predict_number
            row[f"warnings_{k}"] = sorted(side.warnings)
        row.update(ratios(row))
        row["score_diff"] = (row["score_ours"] - row["score_ref"]
                             if row["score_ours"] is not None
                             and row["score_ref"] is not None else None)
        row["status"], row["message"] = _status(ours, ref)
        if ix is not None:
            row.update(intelex_ratios(row))
            row["intelex_status"] = ("ok" if row["fit_ix"] is not None else
                                     ix.unavailable and "not accelerated"
                                     or f"error: {ix.error}")
            if ix.error is not None:
                row["message"] = "; ".join(
                    m for m in (row["message"], f"sklearnex: {ix.error}") if m)
        return row

    # -- summary -----------------------------------------------------------------

    def summary(self, rows: list[dict], ctx: RunContext) -> list[str]:
        lines = []
        if self.acceptance is not None:
            lines += acceptance_summary(rows, self.acceptance, ctx)
        if ctx.intelex:
            lines += intelex_summary(rows)
        groups: dict[tuple, list[str]] = {}
        for r in rows:
            if r["status"] != "ok" or r["message"]:
                groups.setdefault((r["case"], r["status"], r["message"]), []).append(
                    r["dataset"])
        if groups:
            lines += ["", "### Messages", ""]
            for (case, status, message), datasets in groups.items():
                lines.append(f"- **{case}** on {', '.join(datasets)} ({status}): "
                             f"{message or ''}".rstrip())
        return lines


def ratios(row: dict) -> dict:
    """Ratios ours / reference of the median times (None where either is missing)."""

    def ratio(a, b):
        return a / b if a is not None and b is not None and b > 0 else None

    total_ours = (row["fit_ours"] + row["predict_ours"]
                  if row["fit_ours"] is not None and row["predict_ours"] is not None
                  else None)
    total_ref = (row["fit_ref"] + row["predict_ref"]
                 if row["fit_ref"] is not None and row["predict_ref"] is not None
                 else None)
    return {
        "fit_ratio": ratio(row["fit_ours"], row["fit_ref"]),
        "predict_ratio": ratio(row["predict_ours"], row["predict_ref"]),
        "total_ratio": ratio(total_ours, total_ref),
    }


def intelex_spec(reference) -> str | None:
    """scikit-learn-intelex's class of the same name as a scikit-learn reference, or None.

    ``"sklearn.linear_model:Ridge"`` -> ``"sklearnex.linear_model:Ridge"``; a class that
    sklearnex does not provide is "not available" when resolved (it does not accelerate it).
    """
    name = spec_name(reference)
    return "sklearnex" + name[len("sklearn"):] if name.startswith("sklearn.") else None


def intelex_ratios(row: dict) -> dict:
    """fit+predict time ratios ours / sklearnex and sklearnex / scikit-learn."""

    def total(k):
        f, p = row.get(f"fit_{k}"), row.get(f"predict_{k}")
        return f + p if f is not None and p is not None else None

    ours, ref, ix = total("ours"), total("ref"), total("ix")
    return {
        "total_ratio_ix": ours / ix if ours is not None and ix else None,
        "ix_ratio_ref": ix / ref if ix is not None and ref else None,
    }


def intelex_summary(rows: list[dict]) -> list[str]:
    """Markdown lines: where sklearnex accelerates scikit-learn, are we as fast?"""
    accelerated = [r for r in rows if r.get("total_ratio_ix") is not None
                   and r.get("ix_ratio_ref") is not None and r["ix_ratio_ref"] < 1.0]
    measured = [r for r in rows if r.get("total_ratio_ix") is not None]
    lines = ["", "### Against scikit-learn-intelex", ""]
    if not measured:
        return lines + ["No row has a sklearnex timing (not installed, or no class of the "
                        "same name)."]
    lines.append(f"- rows with a sklearnex timing: {len(measured)}; geometric mean of "
                 f"ours / sklearnex (fit+predict): "
                 f"**{geometric_mean(r['total_ratio_ix'] for r in measured):.2f}x**")
    if accelerated:
        behind = [r for r in accelerated if r["total_ratio_ix"] > 1.0]
        lines.append(f"- rows where sklearnex is faster than scikit-learn: {len(accelerated)}; "
                     f"mlnotes at least as fast as sklearnex on "
                     f"{len(accelerated) - len(behind)} of them" + (
                         " (behind: " + ", ".join(
                             f"{r['case']} / {r['dataset']} {r['total_ratio_ix']:.2f}x"
                             for r in behind) + ")" if behind else ""))
    return lines


def _status(ours: _Side, ref: _Side):
    notes = []
    for side, label in ((ours, "ours"), (ref, "reference")):
        if side.warnings:
            notes.append(f"{label} warned {', '.join(sorted(side.warnings))}")
    if ours.error is not None or ref.error is not None:
        parts = [f"ours: {ours.error}"] if ours.error else []
        parts += [f"reference: {ref.error}"] if ref.error else []
        if ref.unavailable:
            parts.append(f"reference not available: {ref.unavailable}")
        return "error", "; ".join(parts + notes)
    if ref.unavailable is not None:
        return "error", "; ".join([f"reference not available: {ref.unavailable}"] + notes)
    if ours.unavailable is not None:
        return "not available", "; ".join([ours.unavailable] + notes)
    return "ok", "; ".join(notes)


def acceptance_summary(rows: list[dict], acceptance: Acceptance, ctx: RunContext):
    """Markdown lines: geo-mean and worst fit+predict ratio over the acceptance rows."""
    acc = [r for r in rows if r.get("acceptance")]
    if not acc:
        return []
    measured = [r for r in acc if r.get("total_ratio") is not None]
    gm = geometric_mean(r["total_ratio"] for r in measured)
    worst = max(measured, key=lambda r: r["total_ratio"], default=None)
    sizes = sorted({f"{r['n_train']:,} x {r['n_features']}" for r in acc})
    lines = ["", "### Acceptance", ""]
    if acceptance.description:
        lines.append(f"Criterion: {acceptance.description}")
        lines.append("")
    lines.append(f"Rows counted: {len(measured)} of {len(acc)} acceptance-size rows "
                 f"(training sets {', '.join(sizes)}) have both timings.")
    if ctx.quick:
        lines.append("Quick mode: these datasets are reduced; the figures below are "
                     "indicative only, the criterion is judged on `make bench-full`.")
    if measured:
        lines.append("")
        lines.append(f"- geometric mean of fit+predict ratios: **{gm:.2f}x** "
                     f"(limit {acceptance.max_geomean:.1f}x)")
        lines.append(f"- worst fit+predict ratio: **{worst['total_ratio']:.2f}x** "
                     f"({worst['case']} on {worst['dataset']}; limit "
                     f"{acceptance.max_ratio:.1f}x)")
        over = [r for r in measured if r["total_ratio"] > acceptance.max_ratio]
        ok = not over and gm <= acceptance.max_geomean
        verdict = "met" if ok else "NOT met"
        if len(measured) < len(acc):
            verdict += f" on the measured rows; {len(acc) - len(measured)} row(s) missing"
        lines.append(f"- verdict: **{verdict}**" + (
            f" (over {acceptance.max_ratio:g}x: "
            f"{', '.join(r['case'] + ' / ' + r['dataset'] for r in over)})" if over else ""))
    return lines


def _progress(row: dict) -> str:
    def ms(t):
        return "-" if t is None else f"{t * 1e3:.3g} ms"

    def x(v):
        return "-" if v is None else f"{v:.2f}x"

    return (f"{row['case']} on {row['dataset']} ({row['n_train']}x{row['n_features']}): "
            f"fit {ms(row['fit_ours'])} vs {ms(row['fit_ref'])} ({x(row['fit_ratio'])}), "
            f"predict {ms(row['predict_ours'])} vs {ms(row['predict_ref'])} "
            f"({x(row['predict_ratio'])}) [{row['status']}]")
