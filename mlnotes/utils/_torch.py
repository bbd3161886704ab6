"""Torch helpers shared by the torch estimators: device, seeding, local RNG, state.

Everything random in an mlnotes torch estimator comes from its ``random_state``; the
user's global torch RNG is never touched:

- a seed is derived from ``random_state`` (:func:`torch_seed`) and feeds a local
  :class:`torch.Generator` (:func:`make_generator`) for whatever torch samples with a
  ``generator=`` argument;
- work that draws from torch's *global* RNG because torch offers no generator argument
  (dropout masks, the default initialisation of ``torch.nn`` layers) runs inside
  :func:`local_torch_rng`, which forks the global state, seeds the fork, and restores
  the caller's state on exit.

Fitted models keep their weights as numpy arrays in the pickle
(:func:`module_state_to_numpy`, :func:`load_numpy_state`), so a model fitted on a GPU
unpickles and predicts on a machine without one.
"""

import contextlib
import functools
import inspect
import os
import threading
import time
import warnings
from numbers import Integral

import numpy as np
from mlnotes import _fastpaths
from mlnotes.utils._lazy import lazy_module
from mlnotes.utils._random import check_random_state

# imported by the first function that uses it: `import mlnotes.neural_network` stays
# torch-free (mlnotes/utils/_lazy.py)
torch = lazy_module("torch", globals())

__all__ = [
    "blas_threads",
    "check_device",
    "inference_device",
    "torch_seed",
    "make_generator",
    "local_torch_rng",
    "as_tensor",
    "torch_dtype",
    "module_state_to_numpy",
    "load_numpy_state",
    "choose_torch_threads",
    "torch_threads",
    "module_flops",
    "wrap_torch_threads",
]

_INT32_MAX = np.iinfo(np.int32).max


def check_device(device):
    """Validate a ``device`` parameter and return the :class:`torch.device`.

    Parameters
    ----------
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:<index>"`` (or a :class:`torch.device`).

    Returns
    -------
    device : torch.device
        The device. ``"cuda"`` without an index means the current CUDA device.

    Raises
    ------
    ValueError
        If the string is not a device name, or CUDA is asked for and is not available.
    """
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device must be 'cpu', 'cuda' or 'cuda:<index>'; got {device!r}."
        ) from exc
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda'; got {device!r}.")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this "
                "machine; use device='cpu'."
            )
        index = torch.cuda.current_device() if dev.index is None else dev.index
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r}: there are only {torch.cuda.device_count()} CUDA "
                "devices."
            )
        dev = torch.device("cuda", index)
    return dev


def inference_device(device):
    """The device a fitted model predicts on: its training device if present, else CPU.

    Parameters
    ----------
    device : str or torch.device
        The device the model was fitted on (or asked for).

    Returns
    -------
    device : torch.device
        ``device`` when usable here; the CPU when it names a GPU this machine lacks
        (a model fitted on a GPU, unpickled elsewhere).
    """
    try:
        return check_device(device)
    except ValueError:
        return torch.device("cpu")


def torch_seed(random_state):
    """A seed for torch, derived from a scikit-learn ``random_state``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        An int gives a fixed seed (decorrelated from numpy's stream of the same int);
        a :class:`numpy.random.RandomState` is drawn from (its state advances); None
        draws fresh OS entropy (numpy's global generator is left alone).

    Returns
    -------
    seed : int
        A seed in ``[0, 2**31 - 1)``.
    """
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        state = np.random.SeedSequence(int(random_state)).generate_state(1)[0]
        return int(state % _INT32_MAX)
    return int(check_random_state(random_state).randint(_INT32_MAX))


def make_generator(seed, device="cpu"):
    """A local :class:`torch.Generator` on ``device`` seeded with ``seed``.

    Parameters
    ----------
    seed : int
        The seed.
    device : str or torch.device, default="cpu"
        Device of the generator (CUDA sampling needs a CUDA generator).

    Returns
    -------
    generator : torch.Generator
        The seeded generator.
    """
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    return generator


@contextlib.contextmanager
def local_torch_rng(seed, device="cpu"):
    """Run a block on torch's global RNG forked and seeded, then restore it.

    Dropout and the default initialisation of ``torch.nn`` layers draw from torch's
    global RNG (they take no ``generator``). Inside this context they are
    reproducible from ``seed``, and the caller's RNG state is exactly as before
    once the block exits.

    Parameters
    ----------
    seed : int
        Seed of the forked RNG.
    device : str or torch.device, default="cpu"
        With a CUDA device, that device's RNG is forked and seeded too.

    Yields
    ------
    None
        The block runs with the forked RNG.
    """
    device = torch.device(device)
    cuda = device.type == "cuda"
    devices = [device.index if device.index is not None else torch.cuda.current_device()] \
        if cuda else []
    with torch.random.fork_rng(devices=devices, device_type="cuda"):
        torch.random.default_generator.manual_seed(int(seed))
        if cuda:
            with torch.cuda.device(devices[0]):
                torch.cuda.manual_seed(int(seed))
        yield


def torch_dtype(dtype):
    """The torch dtype of a numpy float dtype (float32 stays float32, else float64).

    Parameters
    ----------
    dtype : numpy dtype
        The dtype of the validated input.

    Returns
    -------
    dtype : torch.dtype
        ``torch.float32`` for float32 input, ``torch.float64`` otherwise.
    """
    return torch.float32 if np.dtype(dtype) == np.float32 else torch.float64


def as_tensor(array, dtype=None, device="cpu"):
    """A tensor viewing ``array`` where possible (no copy on the CPU), else a copy.

    Read-only arrays are viewed too: the estimators never write into their input.

    Parameters
    ----------
    array : ndarray
        The data.
    dtype : torch.dtype, default=None
        Target dtype; None keeps the array's.
    device : str or torch.device, default="cpu"
        Target device.

    Returns
    -------
    tensor : torch.Tensor
        The tensor.
    """
    array = np.asarray(array)
    if not (array.flags.c_contiguous or array.flags.f_contiguous):
        array = np.ascontiguousarray(array)
    with warnings.catch_warnings():
        # torch warns that a read-only array is not writable; we never write to it.
        warnings.simplefilter("ignore", UserWarning)
        tensor = torch.as_tensor(array)
    return tensor.to(device=device, dtype=dtype if dtype is not None else tensor.dtype)


def module_state_to_numpy(module):
    """The state dict of ``module`` as numpy arrays on the CPU.

    Parameters
    ----------
    module : torch.nn.Module
        The module.

    Returns
    -------
    state : dict of str to ndarray
        Parameters and buffers (e.g. batch-norm running statistics), copied.
    """
    return {k: v.detach().cpu().numpy().copy() for k, v in module.state_dict().items()}


def load_numpy_state(module, state, device="cpu"):
    """Load numpy arrays written by :func:`module_state_to_numpy` into ``module``.

    Parameters
    ----------
    module : torch.nn.Module
        A module of the same architecture.
    state : dict of str to ndarray
        The arrays.
    device : str or torch.device, default="cpu"
        Device the module is moved to.

    Returns
    -------
    module : torch.nn.Module
        The same module, on ``device``, holding the arrays' values.
    """
    tensors = {k: torch.from_numpy(np.array(v)) for k, v in state.items()}
    module.load_state_dict(tensors)
    return module.to(device)


def clip_gradients(grads, max_norm):
    """Scale ``grads`` in place to global L2 norm at most ``max_norm`` (no host sync).

    ``torch.nn.utils.clip_grad_norm_`` with foreach kernels and without its checks:
    cheap enough for the hot path of small networks.

    Parameters
    ----------
    grads : list of torch.Tensor
        Gradients, scaled in place.
    max_norm : float
        Largest allowed global norm.
    """
    if not grads:
        return
    fast = _fastpaths.enabled()  # torch._foreach_*: a fast path (mlnotes/_fastpaths.py)
    norms = (torch._foreach_norm(grads) if fast
             else [torch.linalg.vector_norm(g) for g in grads])
    total = torch.linalg.vector_norm(torch.stack(norms))
    factor = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    if fast:
        torch._foreach_mul_(grads, factor)
    else:
        for g in grads:
            g.mul_(factor)


# ----------------------------------------------------------------------- threads
#
# Small networks gain nothing from torch's intra-op threads (each operation is a few
# microseconds of work, less than the cost of waking a thread pool) and lose a lot when
# cores are shared: A2C on CartPole ran 6x slower, MADE on digits 5x slower, with torch's
# default thread count on two busy cores. mlnotes therefore chooses the intra-op thread
# count of its own torch work: one thread unless a step is large enough (convolutions,
# attention over long sequences) for threads to pay, never more than the caller's own
# ``torch.get_num_threads()`` nor more than the cores other processes leave idle (the
# one-minute load average, as GNU OpenMP's ``OMP_DYNAMIC`` does: a thread that waits at
# every barrier for a descheduled sibling is what made the busy-machine runs 5-30x
# slower), and the caller's setting is restored on exit.

#: environment variable overriding the choice: an integer >= 1, ``"auto"`` (the
#: default) or ``"torch"`` (leave torch's thread setting alone).
THREADS_ENV = "MLNOTES_TORCH_THREADS"
#: estimated floating-point operations of one forward pass of a batch above which a
#: second thread pays; one more thread per further multiple, up to the caller's count
#: and the idle cores. Measured on an idle 2-core machine (benchmarks/threads.py,
#: median of 5 fresh processes): CNNClassifier on digits (4.8e8 per batch), PixelCNN
#: (2.8e8) and TransformerAR (1.5e8) fit 35-50% faster on two threads and MADE on
#: digits (1.3e7) 7% faster, while MLPClassifier on digits (3e6: 200 x 64 x 100
#: products) fits in 0.16 s on one thread and 0.21 s on two; the agents' policies
#: (A2C on CartPole: 1e4) gain nothing.
AUTO_THREAD_WORK = 1e7


_instant_cache = []  # [(monotonic time, threads of others runnable)], at most one entry


def _running_elsewhere():
    """Threads of other processes runnable right now (Linux), or None if unknown.

    The kernel's count of runnable threads (the fourth field of ``/proc/loadavg``)
    less the calling thread; this process's other threads, if any are running,
    count as others (the cautious side). Read at most every half second: a read of
    ``/proc`` costs 10-250 us, which a small ``predict`` called in a loop would feel.
    """
    now = time.monotonic()
    if _instant_cache and now - _instant_cache[0][0] < 0.5:
        return _instant_cache[0][1]
    try:
        with open("/proc/loadavg") as f:
            running = max(0, int(f.read().split()[3].split("/")[0]) - 1)
    except (OSError, ValueError, IndexError):
        running = None
    _instant_cache[:] = [(now, running)]
    return running


def idle_cores():
    """Cores this process may use that other processes leave idle (at least 1).

    The cores of the process's CPU affinity minus the load of other processes,
    rounded to the nearest integer. That load is the smaller of two measures: the
    one-minute load average less this process's own share (about 1 when it is
    running), and the threads runnable at this instant less the calling one
    (Linux, :func:`_running_elsewhere`), looked at only when the average says
    the machine is busy. The average alone lags: after a two-thread fit, or a previous
    process's, it stays near 2 for a minute on an idle machine and would keep the
    next fit on one thread; the instant count alone could catch a busy process
    between two of its steps. The affinity alone where neither is available
    (Windows).

    Returns
    -------
    n_cores : int
        At least 1.
    """
    try:
        n_cpu = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n_cpu = os.cpu_count() or 1
    try:
        others = max(0.0, os.getloadavg()[0] - 1.0)
    except (AttributeError, OSError):
        others = None
    if others is not None and others < 0.5:
        return max(1, n_cpu)
    now = _running_elsewhere()
    if now is not None:
        others = now if others is None else min(others, now)
    if others is None:
        return max(1, n_cpu)
    return max(1, int(np.floor(n_cpu - others + 0.5)))

_thread_state = threading.local()

#: work estimate meaning "this block sets nothing itself": it records the caller's
#: count as the ceiling and restores it on exit, and the blocks nested inside it (a
#: fit's training loop, a predict's batches, which know their network and batch)
#: choose. Used where the outer method's work is not known yet (a first ``fit``
#: builds its network inside): every ``torch.set_num_threads`` call costs more than
#: the call, since torch's default state does not come back (a transformer fit on 2
#: threads ran 2.8 s after ``torch.set_num_threads(2)`` on a machine whose default
#: is 2 threads, 1.8-2.4 s without the call), so a block whose nested choice equals
#: the caller's count must not switch away and back.
DEFER = "defer"


def _requested_threads():
    value = os.environ.get(THREADS_ENV, "").strip().lower()
    if value in ("", "auto"):
        return "auto"
    if value == "torch":
        return "torch"
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(
            f"{THREADS_ENV} must be a positive integer, 'auto' or 'torch'; got "
            f"{os.environ[THREADS_ENV]!r}."
        )
    return n


def choose_torch_threads(work=None, ceiling=None):
    r"""The intra-op thread count mlnotes uses for a block of torch work.

    Parameters
    ----------
    work : float or None, default=None
        Estimated floating-point operations of one forward pass of a batch (see
        :func:`module_flops`); None means small or unknown.
    ceiling : int or None, default=None
        Most threads the automatic choice may take; None is the current
        ``torch.get_num_threads()`` (the caller's setting).

    Returns
    -------
    n_threads : int or None
        The thread count, or None when ``MLNOTES_TORCH_THREADS=torch`` asks to leave
        torch's setting alone.

    Notes
    -----
    With the environment variable unset or ``"auto"``, the count is
    :math:`\min(c, i, 1 + \lfloor w / w_0 \rfloor)` for work :math:`w`, caller's
    count :math:`c`, idle cores :math:`i` (:func:`idle_cores`: the cores minus the
    load of other processes) and :math:`w_0` = ``AUTO_THREAD_WORK`` (:math:`10^7`):
    one thread for every multilayer perceptron, policy network and small density
    model of the course, more for convolutions and attention when cores are idle,
    one on a busy machine. Because the choice follows the machine's load, a float32
    model whose reductions depend on the thread count can differ in its last bits
    between a run on an idle and on a busy machine; an integer value of the variable
    (e.g. ``MLNOTES_TORCH_THREADS=1``) fixes the count and makes runs bit-identical.
    An integer value of the variable is used as is.
    """
    requested = _requested_threads()
    if requested == "torch":
        return None
    if requested != "auto":
        return requested
    ceiling = torch.get_num_threads() if ceiling is None else ceiling
    if work is None or not np.isfinite(work) or work < AUTO_THREAD_WORK:
        return 1
    return int(max(1, min(ceiling, idle_cores(), 1 + work // AUTO_THREAD_WORK)))


@contextlib.contextmanager
def torch_threads(work=None):
    """Run a block with mlnotes' choice of torch intra-op threads; restore on exit.

    Nested blocks may change the count again (a ``fit`` that learns the size of its
    network inside); the automatic choice never exceeds the count the caller had
    set when the outermost block was entered, and that setting is restored when it
    exits, whatever happens inside.

    Parameters
    ----------
    work : float, None or ``DEFER``, default=None
        Estimated floating-point operations of one forward pass of a batch;
        ``DEFER``: set nothing here and leave the choice to the blocks nested
        inside (the caller's count still caps them and is restored on exit).

    Yields
    ------
    n_threads : int
        The thread count in effect inside the block.
    """
    depth = getattr(_thread_state, "depth", 0)
    previous = torch.get_num_threads()
    if depth == 0:
        _thread_state.ceiling = previous
    n = None if isinstance(work, str) and work == DEFER else choose_torch_threads(
        work, ceiling=_thread_state.ceiling)
    changed = n is not None and n != previous
    if changed:
        torch.set_num_threads(n)
    _thread_state.depth = depth + 1
    try:
        yield torch.get_num_threads()
    finally:
        _thread_state.depth = depth
        if changed:
            torch.set_num_threads(previous)


_blas_controller = []  # numpy's BLAS libraries (threadpoolctl), found on first use


@contextlib.contextmanager
def blas_threads(n_threads):
    """Cap numpy's BLAS at ``n_threads`` threads in a block (never raise it).

    For torch estimators that also multiply with numpy (the multilayer perceptron's
    hand-written back-propagation and L-BFGS objective): their products follow the
    thread count :func:`torch_threads` chose for the same work, instead of BLAS's
    default of every core, which on a small network only adds synchronisation. A
    lower cap the caller set (``threadpoolctl``, ``OPENBLAS_NUM_THREADS``) is kept.

    Parameters
    ----------
    n_threads : int
        The cap.

    Yields
    ------
    None
    """
    if not _blas_controller:
        from threadpoolctl import ThreadpoolController

        _blas_controller.append(ThreadpoolController().select(user_api="blas"))
    controller = _blas_controller[0]
    current = [lib["num_threads"] for lib in controller.info()]
    if not current or max(current) <= n_threads:
        yield
        return
    with controller.limit(limits=max(1, int(n_threads))):
        yield


def module_flops(module, batch_size=1, spatial=1):
    r"""Rough floating-point operations of one forward pass of ``module`` on a batch.

    Parameters
    ----------
    module : torch.nn.Module
        The network.
    batch_size : int, default=1
        Rows per forward pass.
    spatial : int, default=1
        Positions each convolution kernel is applied at (an upper bound such as the
        number of pixels of the input image); ignored without convolutions.

    Returns
    -------
    flops : float
        :math:`2 b \left(\sum_{\text{dense}} |W| + s \sum_{\text{conv}} |K|\right)`
        for batch size :math:`b` and :math:`s` positions.
    """
    counts = module.__dict__.get("_mlnotes_weight_counts")
    if counts is None:  # parameter shapes never change after construction: count once
        counts = module.__dict__["_mlnotes_weight_counts"] = _weight_counts(module)
    dense, conv = counts
    return 2.0 * max(int(batch_size), 1) * (dense + max(int(spatial), 1) * conv)


def _weight_counts(module):
    """``(dense, conv)``: the weights of ``module``'s matrices and of its kernels."""
    dense = conv = 0
    for sub in module.modules():
        # every matrix parameter, wherever it is registered (a layer's ``weight`` or
        # a ParameterList of weight matrices, as the multilayer perceptron keeps them)
        size = sum(p.numel() for p in sub.parameters(recurse=False) if p.dim() >= 2)
        if isinstance(sub, torch.nn.modules.conv._ConvNd):
            conv += size
        else:
            dense += size
    return dense, conv


def wrap_torch_threads(cls, names, work=None):
    """Make the methods ``names`` that ``cls`` defines run inside :func:`torch_threads`.

    Used from ``__init_subclass__`` of the torch estimators and the agents, so that
    every subclass's public entry points (``fit``, ``learn``, ``predict``...) choose
    their thread count and restore the caller's.

    Parameters
    ----------
    cls : type
        The class being created.
    names : iterable of str
        Method names. A plain function, defined in ``cls`` or inherited from an
        mlnotes class (e.g. the base class that calls this), is wrapped once;
        descriptors (``available_if``, properties), methods inherited from other
        packages (scikit-learn's ``score`` calls the wrapped ``predict`` anyway) and
        missing names are left alone.
    work : callable or None, default=None
        ``work(self) -> float, None or DEFER``: the estimated forward work of a
        batch (``DEFER`` where the method chooses inside, see :func:`torch_threads`).
    """
    for name in names:
        owner = next((k for k in cls.__mro__ if name in k.__dict__), None)
        if owner is None or not owner.__module__.startswith("mlnotes"):
            continue
        method = owner.__dict__[name]
        if not inspect.isfunction(method) or getattr(method, "_mlnotes_threads", False):
            continue
        setattr(cls, name, _threaded(method, work))


def _threaded(method, work):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        estimate = None
        if work is not None:
            try:
                estimate = work(self)
            except Exception:  # an estimate must never break the call
                estimate = None
        with torch_threads(estimate):
            return method(self, *args, **kwargs)

    wrapper._mlnotes_threads = True
    return wrapper


def agent_forward_work(agent):
    """Estimated flops of one forward pass of an agent's policy on a training batch.

    Parameters
    ----------
    agent : object
        An agent with a ``policy`` module; its ``batch_size`` (or ``n_steps`` times
        ``n_envs``) is the batch, and an image observation space (three dimensions)
        gives the convolution positions.

    Returns
    -------
    flops : float or None
        The estimate, None before the policy exists.
    """
    policy = getattr(agent, "policy", None)
    if not isinstance(policy, torch.nn.Module):
        return None
    batch = getattr(agent, "batch_size", None) or (
        (getattr(agent, "n_steps", None) or 1) * (getattr(agent, "n_envs", None) or 1))
    shape = getattr(getattr(agent, "observation_space", None), "shape", None) or ()
    spatial = int(np.prod(shape[-2:])) if len(shape) == 3 else 1
    return module_flops(policy, batch, spatial)
