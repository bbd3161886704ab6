"""pytest plugin loaded by :mod:`benchmarks.reference_tests.sklearn` in its subprocess.

For every test it records, as one JSON line in ``$MLNOTES_REFTEST_OUT``:

- ``outcome``: passed / failed / skipped / xfailed / xpassed / error / timeout;
- ``reached``: whether the test can touch one of mlnotes' classes: the source of
  the test function names one of the swapped names, or one of its parameters is a
  swapped class or an instance of one;
- ``private``: for a failure, whether it reads scikit-learn's private internals:
  the test function uses a name imported from a private module of a mirrored
  scikit-learn sub-package (``sklearn.linear_model._sag``...), or the error is
  an ``AttributeError`` on an ``_underscored`` attribute;
- ``message``: the last line of the error.

Each test runs under ``signal.alarm($MLNOTES_REFTEST_TIMEOUT)``: a test that runs
longer fails with ``outcome="timeout"`` (code compiled by numba is interrupted
only when it returns to Python; the parent also bounds each file's run).
"""

import inspect
import json
import os
import re
import signal

import pytest

_OUT = os.environ.get("MLNOTES_REFTEST_OUT")
_TIMEOUT = int(os.environ.get("MLNOTES_REFTEST_TIMEOUT", "60"))
_SWAPPED = set(filter(None, os.environ.get("MLNOTES_REFTEST_NAMES", "").split(",")))
_PRIVATE = set(filter(None, os.environ.get("MLNOTES_REFTEST_PRIVATE", "").split(",")))
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PRIVATE_ATTR = re.compile(r"AttributeError: .*has no attribute '_")


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException so that ``pytest.raises(Exception)``
    inside a test does not swallow it."""


def _on_alarm(signum, frame):
    raise _Timeout(f"test ran longer than {_TIMEOUT} s")


def _swapped_value(value):
    try:
        if inspect.isclass(value):
            return value.__module__.startswith("mlnotes.")
        if type(value).__module__.startswith("mlnotes."):
            return True
        if isinstance(value, (list, tuple)):
            return any(_swapped_value(v) for v in value)
    except Exception:  # noqa: BLE001 -- an odd parameter is just not swapped
        return False
    return False


def _names_in_source(item):
    fn = getattr(item, "function", None)
    if fn is None:
        return set()
    try:
        src = inspect.getsource(fn)
    except (OSError, TypeError):
        return set()
    return set(_WORD.findall(src))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if _OUT is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.when == "setup" and report.skipped:
            status = "skipped"
        elif report.when == "setup":
            status = "error"
        elif hasattr(report, "wasxfail"):
            status = "xfailed" if report.skipped else "xpassed"
        elif report.passed:
            status = "passed"
        elif report.skipped:
            status = "skipped"
        else:
            status = "failed"
        message = ""
        if report.failed:
            text = str(report.longrepr)
            if "_Timeout" in text:
                status = "timeout"
            lines = [ln for ln in text.splitlines() if ln.startswith("E ")]
            message = (lines[-1][1:].strip() if lines else text.splitlines()[-1])[:300]
        names = _names_in_source(item)
        params = getattr(getattr(item, "callspec", None), "params", {})
        reached = bool(names & _SWAPPED) or any(_swapped_value(v) for v in params.values())
        private = bool(report.failed and (
            names & _PRIVATE or _PRIVATE_ATTR.search(str(report.longrepr))))
        record = {"test": item.nodeid, "outcome": status, "reached": reached,
                  "private": private, "message": message}
        with open(_OUT, "a") as fh:
            fh.write(json.dumps(record) + "\n")
