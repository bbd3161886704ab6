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
import warnings
from numbers import Integral

import numpy as np
import torch
from mlnotes.utils._random import check_random_state

__all__ = [
    "check_device",
    "inference_device",
    "torch_seed",
    "make_generator",
    "local_torch_rng",
    "as_tensor",
    "torch_dtype",
    "module_state_to_numpy",
    "load_numpy_state",
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
    norms = torch._foreach_norm(grads)
    total = torch.linalg.vector_norm(torch.stack(norms))
    factor = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    torch._foreach_mul_(grads, factor)
