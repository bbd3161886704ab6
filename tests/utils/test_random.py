"""``mlnotes.utils._random.check_random_state`` (CONTRIBUTING.md, "Estimators")."""

import os
import sys

import numpy as np
import pytest

from mlnotes.utils import _random
from mlnotes.utils._random import check_random_state


def test_none_is_one_private_generator_that_leaves_the_global_one_alone():
    before = np.random.get_state()[1].copy()
    rng = check_random_state(None)
    assert rng is check_random_state(None)  # no new generator (and OS read) per fit
    assert rng is not np.random.mtrand._rand
    draws = rng.randint(2**31, size=8)
    assert not np.array_equal(draws, check_random_state(None).randint(2**31, size=8))
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_seeds_behave_as_scikit_learn():
    a, b = check_random_state(3), np.random.RandomState(3)
    np.testing.assert_array_equal(a.rand(4), b.rand(4))
    state = np.random.RandomState(0)
    assert check_random_state(state) is state


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "win32", reason="no fork")
def test_forked_child_does_not_replay_the_parent_stream():
    check_random_state(None)  # the parent's generator exists before the fork
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its first draws and leave at once
        try:
            os.write(write, check_random_state(None).randint(2**31, size=4).tobytes())
        finally:
            os._exit(0)
    os.close(write)
    child = np.frombuffer(os.read(read, 64), dtype=np.int64 if np.dtype(int).itemsize == 8
                          else np.int32)
    os.close(read)
    os.waitpid(pid, 0)
    state = _random._private.get_state()
    parent = _random._private.randint(2**31, size=4)
    _random._private.set_state(state)
    assert len(child) == 4 and not np.array_equal(child, parent)
