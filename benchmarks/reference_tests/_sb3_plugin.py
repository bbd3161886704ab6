"""pytest plugin loaded by :mod:`benchmarks.reference_tests.sb3` in its subprocess.

At collection it keeps the tests that reach one of mlnotes' agents and deselects the
rest: a test reaches an agent when one of its parameters is one of our classes (SB3's
``model_class``/``algo`` parametrisations), or, when no parameter is an SB3 algorithm
class, when its source names one of the swapped names. For every kept test it writes
one JSON line to ``$MLNOTES_SB3TEST_OUT``: ``nodeid``, ``outcome`` (passed / failed /
skipped / error / timeout), ``agent`` (the swapped name it reaches), ``message`` (the
last line of the error) and ``private`` (whether the failure reads an
``_underscored`` attribute of an object: SB3-private internals). Each test runs under
``signal.alarm($MLNOTES_SB3TEST_TIMEOUT)``.
"""

import inspect
import json
import os
import re
import signal

import pytest

_OUT = os.environ.get("MLNOTES_SB3TEST_OUT")
_TIMEOUT = int(os.environ.get("MLNOTES_SB3TEST_TIMEOUT", "120"))
_SWAPPED = set(filter(None, os.environ.get("MLNOTES_SB3TEST_NAMES", "").split(",")))
_PRIVATE = re.compile(r"has no attribute '_[A-Za-z]\w*'|object has no attribute '_")


class _Timeout(Exception):
    pass


def _param_classes(item):
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return []
    return [v for v in callspec.params.values() if isinstance(v, type)]


def _reached(item):
    """The swapped name the test reaches, or None."""
    classes = _param_classes(item)
    for cls in classes:
        if cls.__module__.startswith("mlnotes.") and cls.__name__ in _SWAPPED:
            return cls.__name__
    if any(cls.__module__.startswith("stable_baselines3") and hasattr(cls, "learn")
           for cls in classes):
        return None  # parametrised with an SB3 algorithm we do not swap
    try:
        source = inspect.getsource(item.function)
    except (OSError, TypeError):
        return None
    for name in sorted(_SWAPPED):
        if re.search(rf"\b{re.escape(name)}\b", source):
            return name
    return None


def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        agent = _reached(item)
        if agent is None:
            dropped.append(item)
        else:
            item.user_properties.append(("agent", agent))
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def _alarm(signum, frame):
    raise _Timeout(f"test ran longer than {_TIMEOUT} s")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _write(record):
    if _OUT:
        with open(_OUT, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


def _message(report):
    text = str(report.longrepr or "")
    lines = [ln for ln in text.splitlines() if ln.startswith("E ")]
    if lines:
        return lines[-1][1:].strip()[:300]
    return text.strip().splitlines()[-1][:300] if text.strip() else ""


def pytest_runtest_logreport(report):
    agent = dict(report.user_properties).get("agent")
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.passed:
            outcome = "passed"
        elif report.skipped:
            outcome = "skipped"
        else:
            text = str(report.longrepr or "")
            outcome = "timeout" if "_Timeout" in text else (
                "failed" if report.when == "call" else "error")
        message = "" if report.passed else _message(report)
        if report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[-1])[:300]
        _write({"nodeid": report.nodeid, "outcome": outcome, "agent": agent,
                "message": message,
                "private": bool(outcome in ("failed", "error")
                                and _PRIVATE.search(str(report.longrepr or "")))})
