"""The save-file format of the agents: one zip, JSON + ``torch.save`` tensors, no pickle.

Layout of the archive::

    mlnotes_agent.json      format tag and version, agent class, constructor
                            parameters, spaces, counters (JSON)
    <name>.pth              one ``torch.save`` file per state dict listed under
                            "tensors" in the JSON (``policy``, ``policy.optimizer``, ...;
                            ``rollout_state``: the last observation, as SB3 keeps it)

A policy saved alone (``policy.save``) has the same layout with ``mlnotes_policy.json``
and ``policy.pth``.

Loading never executes code from the file: tensors are read with
``torch.load(weights_only=True)``; classes named in the JSON are re-imported only from an
allow-list of packages; our schedules are rebuilt from their parameters; any other
callable must be supplied through ``custom_objects``.
"""

import importlib
import io
import json
import math
import pathlib
import zipfile
import zlib

import numpy as np
import torch
from gymnasium import spaces

from .schedules import SCHEDULES, schedule_from_dict

FORMAT = "mlnotes-agent"
FORMAT_VERSION = 1
META = "mlnotes_agent.json"
#: the file of a policy saved alone (``policy.save``): same layout, its own tag
POLICY_FORMAT = "mlnotes-policy"
POLICY_META = "mlnotes_policy.json"
_COMPILE_PREFIX = "_orig_mod."
ALLOWED_MODULES = ("torch.nn", "torch.optim", "mlnotes", "stable_baselines3")
_MARK = "__mlnotes__"


class _Unstorable:
    """Placeholder for a parameter that could not be stored (needs custom_objects)."""

    def __init__(self, description):
        self.description = description


def _allowed(module):
    return any(module == m or module.startswith(m + ".") for m in ALLOWED_MODULES)


def qualified_name(cls):
    """``module.QualName`` of a class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def import_allowed(name):
    """Import ``module.attr`` by qualified name, only from the allow-list.

    Tries the longest importable module prefix; raises ValueError for anything outside
    ``ALLOWED_MODULES`` (the import itself only runs installed library code).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"Invalid class name in save file: {name!r}")
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:i])
        if not _allowed(module_name):
            continue
        try:
            obj = importlib.import_module(module_name)
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            break
        return obj
    raise ValueError(
        f"The save file names the class {name!r}, which is not importable from the "
        f"allowed packages {ALLOWED_MODULES}; pass it through custom_objects."
    )


def encode(value):
    """Encode a parameter value as JSON-compatible data (marks what cannot be stored).

    Returns ``(data, ok)``: ``ok`` is False when some part of the value (a foreign
    callable, an arbitrary object) was replaced by a placeholder.
    """
    if value is None or isinstance(value, (bool, str)):
        return value, True
    if isinstance(value, (int, np.integer)):
        return int(value), True
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return (v if math.isfinite(v) else {_MARK: "float", "repr": repr(v)}), True
    if isinstance(value, (list, tuple)):
        items, ok = zip(*(encode(v) for v in value)) if value else ((), ())
        data = list(items)
        return (data if isinstance(value, list) else {_MARK: "tuple", "items": data}), all(ok)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        enc = {k: encode(v) for k, v in value.items()}
        return ({_MARK: "dict", "items": {k: d for k, (d, _) in enc.items()}},
                all(ok for _, ok in enc.values()))
    if type(value).__name__ in SCHEDULES and type(value) is SCHEDULES[type(value).__name__]:
        return {_MARK: "schedule", **value.to_dict()}, True
    if isinstance(value, type) and _allowed(value.__module__):
        return {_MARK: "class", "name": qualified_name(value)}, True
    if isinstance(value, torch.device):
        return {_MARK: "device", "name": str(value)}, True
    return {_MARK: "unstorable", "repr": repr(value)[:200]}, False


def decode(data):
    """Inverse of :func:`encode`; placeholders become :class:`_Unstorable`."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    kind = data.get(_MARK)
    if kind == "tuple":
        return tuple(decode(v) for v in data["items"])
    if kind == "dict":
        return {k: decode(v) for k, v in data["items"].items()}
    if kind == "float":
        return float(data["repr"])
    if kind == "schedule":
        return schedule_from_dict(data)
    if kind == "class":
        obj = import_allowed(data["name"])
        if not isinstance(obj, type):
            raise ValueError(f"{data['name']!r} in the save file is not a class.")
        return obj
    if kind == "device":
        return torch.device(data["name"])
    if kind == "unstorable":
        return _Unstorable(data.get("repr", "?"))
    raise ValueError(f"Malformed value in save file: {data!r}")


def strip_compile_prefix(state_dict):
    """Remove the ``_orig_mod.`` prefixes ``torch.compile`` adds to state-dict keys.

    Parameters
    ----------
    state_dict : dict
        A module's state dict (an optimiser's is returned unchanged).

    Returns
    -------
    state_dict : dict
        The same entries under the uncompiled module's names.
    """
    if not any(isinstance(k, str) and _COMPILE_PREFIX in k for k in state_dict):
        return state_dict
    return type(state_dict)(
        ((k.replace(_COMPILE_PREFIX, "") if isinstance(k, str) else k), v)
        for k, v in state_dict.items())


def encode_space(space):
    """Structural JSON description of a Box, Discrete or Dict space."""
    if isinstance(space, spaces.Dict):
        return {"type": "Dict",
                "spaces": {str(k): encode_space(v) for k, v in space.spaces.items()}}
    if isinstance(space, spaces.Box):
        return {"type": "Box", "low": encode(space.low.tolist())[0],
                "high": encode(space.high.tolist())[0], "shape": list(space.shape),
                "dtype": np.dtype(space.dtype).name}
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": [int(n) for n in np.atleast_1d(space.n)]}
    raise ValueError(
        f"Cannot store the space {space!r} (only Box, Discrete, MultiBinary and Dict).")


def decode_space(data):
    """Rebuild a space from :func:`encode_space` output."""
    try:
        if data["type"] == "Box":
            return spaces.Box(
                low=np.array(decode(data["low"]), dtype=data["dtype"]).reshape(data["shape"]),
                high=np.array(decode(data["high"]), dtype=data["dtype"]).reshape(data["shape"]),
                shape=tuple(data["shape"]), dtype=np.dtype(data["dtype"]))
        if data["type"] == "Discrete":
            return spaces.Discrete(int(data["n"]), start=int(data.get("start", 0)))
        if data["type"] == "MultiBinary":
            n = [int(k) for k in data["n"]]
            if not n or min(n) < 1:
                raise ValueError("MultiBinary sizes must be positive")
            return spaces.MultiBinary(n[0] if len(n) == 1 else n)
        if data["type"] == "Dict":
            return spaces.Dict({str(k): decode_space(v) for k, v in data["spaces"].items()})
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"Malformed space in save file: {data!r}") from exc
    raise ValueError(f"Unknown space type in save file: {data.get('type')!r}")


def _zip_path(path, for_writing):
    if isinstance(path, (str, pathlib.Path)):
        path = pathlib.Path(path)
        if for_writing:
            # as SB3: ".zip" is added to a path without a suffix only
            if path.suffix == "":
                path = path.with_name(path.name + ".zip")
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.exists() and path.with_name(path.name + ".zip").exists():
            path = path.with_name(path.name + ".zip")
    return path


def save_to_zip(path, meta, state_dicts, kind="agent"):
    """Write the JSON metadata and the state dicts into one zip archive.

    Parameters
    ----------
    path : str, pathlib.Path or file-like
        Destination (``.zip`` is appended to a path without that suffix).
    meta : dict
        JSON-compatible metadata.
    state_dicts : dict of str to dict
        Named state dicts, each written with ``torch.save``.
    kind : {"agent", "policy"}, default="agent"
        An agent file, or a policy saved alone (written at ``path`` exactly).
    """
    fmt, meta_name = (FORMAT, META) if kind == "agent" else (POLICY_FORMAT, POLICY_META)
    meta = dict(meta, format=fmt, format_version=FORMAT_VERSION,
                tensors=sorted(state_dicts))
    if kind != "agent" and isinstance(path, (str, pathlib.Path)):
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        path = _zip_path(path, True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(meta_name, json.dumps(meta, indent=1))
        for name, state in state_dicts.items():
            buffer = io.BytesIO()
            torch.save(state, buffer)
            archive.writestr(f"{name}.pth", buffer.getvalue())


def load_from_zip(path, device="cpu", kind="agent"):
    """Read an archive written by :func:`save_to_zip`, executing no code from it.

    ``kind="policy"`` reads a policy saved alone.

    Returns
    -------
    meta : dict
        The JSON metadata.
    state_dicts : dict of str to dict
        The state dicts (``torch.load(weights_only=True)``).

    Raises
    ------
    ValueError
        For a file that is not a zip, a zip that is not an mlnotes agent, or a
        corrupted or truncated one.
    FileNotFoundError
        When the path does not exist.
    """
    path = _zip_path(path, False)
    where = path if isinstance(path, pathlib.Path) else "the given file"
    fmt, meta_name = (FORMAT, META) if kind == "agent" else (POLICY_FORMAT, POLICY_META)
    try:
        with zipfile.ZipFile(path, "r") as archive:
            names = set(archive.namelist())
            if meta_name not in names:
                other = POLICY_META if kind == "agent" else META
                hint = (f" (it is an mlnotes {'policy' if kind == 'agent' else 'agent'} file: "
                        f"load it with {'PolicyClass.load' if kind == 'agent' else 'Agent.load'})"
                        if other in names else
                        "; files saved by Stable-Baselines3 must be loaded with SB3")
                raise ValueError(
                    f"{where} is a zip archive but not an mlnotes {kind} save file "
                    f"(no {meta_name}){hint}."
                )
            try:
                meta = json.loads(archive.read(meta_name).decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ValueError(f"Corrupted {kind} save file {where}: unreadable metadata.") from exc
            if not isinstance(meta, dict) or meta.get("format") != fmt:
                raise ValueError(f"{where} is not an mlnotes {kind} save file.")
            if meta.get("format_version") != FORMAT_VERSION:
                raise ValueError(
                    f"{where} has save-format version {meta.get('format_version')!r}; this "
                    f"mlnotes reads version {FORMAT_VERSION}."
                )
            state_dicts = {}
            for name in meta.get("tensors", []):
                if f"{name}.pth" not in names:
                    raise ValueError(f"Corrupted {kind} save file {where}: {name}.pth is missing.")
                raw = archive.read(f"{name}.pth")
                try:
                    state_dicts[name] = torch.load(io.BytesIO(raw), map_location=device,
                                                   weights_only=True)
                except Exception as exc:  # torch raises many types for a damaged file
                    raise ValueError(
                        f"Corrupted {kind} save file {where}: cannot read {name}.pth ({exc})."
                    ) from exc
    except zipfile.BadZipFile as exc:
        raise ValueError(
            f"{where} is not a valid {kind} save file: it wasn't a zip-file (or it is a "
            f"truncated or corrupted one: {exc})."
        ) from exc
    except (EOFError, zlib.error, zipfile.LargeZipFile, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"Corrupted or truncated {kind} save file {where}: {exc}") from exc
    return meta, state_dicts
