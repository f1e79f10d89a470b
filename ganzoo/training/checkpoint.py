"""Checkpoints: every tensor in a safetensors file, everything else as JSON in its metadata.

Nothing here unpickles, so loading a checkpoint never runs code. Files are written to a
temporary name, flushed to disk and renamed, so a crash at any moment leaves the previous
checkpoint whole. The metadata holds a sha256 digest of the tensor data and one of the JSON
values, checked on every load, so a flipped byte anywhere is reported as damage.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from ganzoo.errors import CheckpointError

FORMAT = "ganzoo-checkpoint/2"  # /2 added the digests
#: Checkpoints written before digests existed: loaded as they are, without a check.
UNDIGESTED = "ganzoo-checkpoint/1"
_TENSOR = "__tensor__"
_PAIRS = "__pairs__"  # a dict whose keys are not all strings (optimizer state uses ints)


def flatten(obj: Any, tensors: dict[str, torch.Tensor], path: str = "") -> Any:
    """Replace every tensor in a nested structure by a reference; collect tensors by path."""
    if isinstance(obj, torch.Tensor):
        tensors[path] = obj.detach().to("cpu").contiguous()
        return {_TENSOR: path}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {k: flatten(v, tensors, f"{path}/{k}" if path else k) for k, v in obj.items()}
        return {_PAIRS: [[k, flatten(v, tensors, f"{path}/{k}")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        return [flatten(v, tensors, f"{path}/{i}") for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} at '{path}' in a checkpoint")


def unflatten(obj: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_TENSOR}:
            return tensors[obj[_TENSOR]]
        if set(obj) == {_PAIRS}:
            return {k: unflatten(v, tensors) for k, v in obj[_PAIRS]}
        return {k: unflatten(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [unflatten(v, tensors) for v in obj]
    return obj


WRITING_PREFIX = ".writing-"
"""The private folder (``.writing-PID``, beside the checkpoints) a checkpoint is written in."""


def save_checkpoint(path: Path, state: dict[str, Any], info: dict[str, Any] | None = None) -> None:
    """Atomically write ``state`` (nested dicts/lists of tensors and plain values)."""
    tensors: dict[str, torch.Tensor] = {}
    skeleton = flatten(state, tensors)
    metadata = {"format": FORMAT, "state": json.dumps(skeleton), "info": json.dumps(info or {})}
    metadata.update(tensor_digest=tensor_digest(tensors), value_digest=value_digest(metadata))
    path.parent.mkdir(parents=True, exist_ok=True)
    # safetensors writes through a temporary file of its own (".tmpXXXXXX") beside the target:
    # a private folder holds both, so whatever a killed write leaves is one folder to remove
    # (RunDir.remove_leftovers), never a stray file among the checkpoints.
    workspace = path.parent / f"{WRITING_PREFIX}{os.getpid()}"
    workspace.mkdir(exist_ok=True)
    tmp = workspace / path.name
    try:
        save_file(tensors, str(tmp), metadata=metadata)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except SafetensorError as exc:  # safetensors reports OS failures (a full disk) as its own error
        reason = "the disk is full: free some space" if "StorageFull" in str(exc) or "No space" in str(exc) else exc
        raise CheckpointError(
            f"cannot write checkpoint '{path}' ({reason}); the previous checkpoints are kept, "
            "and the run resumes from the newest of them"
        ) from None
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    _fsync_dir(path.parent)


def load_checkpoint(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(state, info) of a checkpoint written by :func:`save_checkpoint`; refuses anything else."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint '{path}' does not exist")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        _refuse_pickle(path)  # the likeliest foreign format gets its own explanation
        raise CheckpointError(f"checkpoint '{path}' is corrupt or truncated ({exc})") from None
    if metadata.get("format") not in (FORMAT, UNDIGESTED):
        raise CheckpointError(f"'{path}' is a safetensors file but not a ganzoo checkpoint")
    if metadata["format"] == FORMAT:
        if metadata.get("tensor_digest") != tensor_digest(tensors):
            raise CheckpointError(f"checkpoint '{path}' is damaged (tensor data does not match its digest)")
        if metadata.get("value_digest") != value_digest(metadata):
            raise CheckpointError(f"checkpoint '{path}' is damaged (its metadata does not match its digest)")
    try:
        state = unflatten(json.loads(metadata["state"]), tensors)
        info = json.loads(metadata.get("info", "{}"))
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"checkpoint '{path}' has damaged metadata ({exc})") from None
    return state, info


def tensor_digest(tensors: dict[str, torch.Tensor]) -> str:
    """sha256 of every tensor's name, dtype, shape and bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name]
        digest.update(f"{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\n".encode())
        # ignored: numpy's stubs declare ndarray.__buffer__ only for Python >= 3.12 (mypy checks 3.10)
        digest.update(tensor.contiguous().reshape(-1).view(torch.uint8).numpy())  # type: ignore[arg-type]
    return digest.hexdigest()


def value_digest(metadata: dict[str, str]) -> str:
    """sha256 of the JSON values (state skeleton and info) a checkpoint's metadata holds."""
    return hashlib.sha256(json.dumps([metadata.get("state"), metadata.get("info")]).encode()).hexdigest()


def _refuse_pickle(path: Path) -> None:
    """Raise a clear error for a pickle file. Only looks at bytes; never unpickles."""
    with open(path, "rb") as handle:
        head = handle.read(2)
    if (head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05") or head == b"PK":  # pickle 2+, torch.save zip
        raise CheckpointError(
            f"'{path}' is a pickle (torch.save) file; ganzoo loads only safetensors checkpoints, "
            "because unpickling can run arbitrary code"
        )


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
