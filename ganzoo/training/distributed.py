"""One run over many processes, launched by torchrun (``torch.distributed``).

``ganzoo train`` started by ``torchrun`` finds the launcher's environment (RANK, WORLD_SIZE,
LOCAL_RANK, MASTER_ADDR/PORT), joins the process group (NCCL on CUDA, gloo on CPU) and pins
each process to its local device; without it the run is the single process of a world of one
and none of this costs anything.

What is shared, and how (docs/many-gpus.md has the user's view, docs/architecture.md the why):

- gradients: after each phase's backward, one flat all-reduce (mean) of the gradients that
  phase produced, before its optimizer steps; so every rank steps the same weights;
- weights and buffers: broadcast from rank 0 when the run starts and after a resume;
- host-side agreements (stop now? which random states? does the run exist?) go over a gloo
  group on the CPU, so they never wait for a GPU stream.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from ganzoo.errors import GanzooError, UsageError, first_line

#: Seconds a collective (or the process group's start) may wait for a peer before the run fails.
DEFAULT_TIMEOUT_S = 600
#: Hours the other processes wait for work rank 0 does alone (preparing a dataset's cache).
PATIENT_HOURS = 12
_JOINS = 0  # joins by this process: each gets its own keys in the launcher's store


def launched_by_torchrun() -> bool:
    return all(key in os.environ for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"))


def rank_seed(seed: int, rank: int) -> int:
    """Rank 0 draws from ``seed`` itself (a one-process run is unchanged); every other rank
    from a stream derived from (seed, rank)."""
    if rank == 0:
        return seed
    digest = hashlib.sha256(f"ganzoo:{seed}:{rank}".encode()).digest()
    return int.from_bytes(digest[:8], "little") % 2**63


@dataclass
class World:
    """This process's place in the run: ``rank`` of ``size`` processes."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    control: Any = field(default=None, repr=False)  # the gloo group for host-side agreements
    #: A gloo group with a long timeout, for waiting on work only rank 0 does (preparing a
    #: dataset's cache, a translation model's evaluation): a healthy wait, not a lost peer.
    patient: Any = field(default=None, repr=False)
    owns_group: bool = False  # whether join() created the process group (and close() may end it)

    @property
    def active(self) -> bool:
        """Whether a process group is up (torchrun, even with one process)."""
        return self.control is not None

    @property
    def is_writer(self) -> bool:
        """Rank 0 alone writes the run folder; the others compute and wait."""
        return self.rank == 0

    # -- tensors on the training device (NCCL or gloo) ----------------------------------------
    def average_gradients(self, parameters: Iterable[torch.Tensor]) -> None:
        """Mean of each gradient over the ranks, as one flat all-reduce (parameters without a
        gradient in this phase are left without one: they are the same on every rank)."""
        if self.size == 1:
            return
        grads = [p.grad for p in parameters if p.grad is not None]
        if not grads:
            return
        flat = torch._utils._flatten_dense_tensors(grads)
        flat.div_(self.size)
        self._collective(torch.distributed.all_reduce, flat)
        for grad, synced in zip(grads, torch._utils._unflatten_dense_tensors(flat, grads)):
            grad.copy_(synced)

    def broadcast_state(self, tensors: Iterable[torch.Tensor]) -> None:
        """Every rank takes rank 0's values of ``tensors`` (parameters, buffers): one flat
        broadcast per dtype."""
        if self.size == 1:
            return
        groups: dict[tuple, list[torch.Tensor]] = {}
        for tensor in tensors:
            groups.setdefault((tensor.dtype, tensor.device), []).append(tensor.data)
        for group in groups.values():
            flat = torch._utils._flatten_dense_tensors(group)
            self._collective(torch.distributed.broadcast, flat, src=0)
            for tensor, synced in zip(group, torch._utils._unflatten_dense_tensors(flat, group)):
                tensor.copy_(synced)

    def mean(self, values: torch.Tensor) -> torch.Tensor:
        """The mean over ranks of a tensor of logged values."""
        if self.size == 1:
            return values
        values = values.clone()
        self._collective(torch.distributed.all_reduce, values)
        return values / self.size

    def maximum(self, values: torch.Tensor) -> torch.Tensor:
        """The element-wise maximum over ranks."""
        if self.size == 1:
            return values
        values = values.clone()
        self._collective(torch.distributed.all_reduce, values, op=torch.distributed.ReduceOp.MAX)
        return values

    # -- host-side agreements (gloo, CPU) --------------------------------------------------------
    def any_of(self, *flags: bool) -> tuple[bool, ...]:
        """Each flag, true on every rank if it is true on any rank (one small CPU all-reduce:
        it never waits for a GPU stream)."""
        if self.size == 1:
            return flags
        values = torch.tensor([int(flag) for flag in flags])
        self._collective(torch.distributed.all_reduce, values, op=torch.distributed.ReduceOp.MAX, group=self.control)
        return tuple(bool(v) for v in values.tolist())

    def together(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` (no collectives inside) on every rank; if it fails on any rank, it fails
        on all of them, so no rank waits forever for one that gave up."""
        if self.size == 1:
            return work()
        try:
            result, error = work(), None
        except Exception as exc:  # noqa: BLE001 - re-raised below, on this rank and the others
            result, error = None, exc
        failures = self.gather_objects(None if error is None else f"{type(error).__name__}: {error}")
        if error is not None:
            raise error
        failed = [(rank, message) for rank, message in enumerate(failures) if message]
        if failed:
            rank, message = failed[0]
            raise GanzooError(f"process {rank} of the run failed before training ({message.splitlines()[0]})")
        return result

    @contextmanager
    def writer_first(self) -> Iterator[None]:
        """Rank 0 runs the block first (e.g. preparing a dataset's cache), the others after it."""
        if not self.is_writer:
            self.barrier(patient=True)
        try:
            yield
        finally:
            if self.is_writer:
                self.barrier(patient=True)

    def share(self, value: Any, patient: bool = False) -> Any:
        """Rank 0's ``value`` on every rank (a decision only rank 0 can take); ``patient``: rank 0
        may take long to reach this point (it works alone before it)."""
        if self.size == 1:
            return value
        box = [value]
        group = self.patient if patient else self.control
        self._collective(torch.distributed.broadcast_object_list, box, src=0, group=group)
        return box[0]

    def gather_objects(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order, on every rank."""
        if self.size == 1:
            return [value]
        boxes: list[Any] = [None] * self.size
        self._collective(torch.distributed.all_gather_object, boxes, value, group=self.control)
        return boxes

    def barrier(self, patient: bool = False) -> None:
        if self.size > 1:
            self._collective(torch.distributed.barrier, group=self.patient if patient else self.control)

    def _collective(self, operation, *args, **kwargs) -> None:
        try:
            operation(*args, **kwargs)
        except (RuntimeError, pickle.PickleError) as exc:
            if not _lost_peer(exc):  # a bug (a dtype, a shape): its own error, not "lost contact"
                raise
            first = first_line(exc)
            raise PeerLost(
                f"rank {self.rank} of {self.size} lost contact with the other processes of the run "
                f"({first}); torchrun restarts the run with --max-restarts, `--resume auto` "
                "continues it"
            ) from None

    def close(self) -> None:
        if self.owns_group and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        self.control = self.patient = None


def _lost_peer(exc: BaseException) -> bool:
    """Whether a collective failed because another process is gone or silent."""
    if isinstance(exc, getattr(torch.distributed, "DistError", ())):
        return True
    text = str(exc).lower()
    return any(mark in text for mark in ("connection", "timed out", "timeout", "gloo", "nccl", "peer", "socket"))


class PeerLost(GanzooError):
    """Another process of a distributed run died or stopped answering."""


def join(device_choice: str) -> tuple[World, str]:
    """The world this process belongs to, and the device name it trains on. Under torchrun
    the process group is initialised here; otherwise the world is this process alone."""
    if not launched_by_torchrun():
        return World(), device_choice
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    wants_cuda = device_choice.startswith("cuda") or (device_choice == "auto" and torch.cuda.is_available())
    if not wants_cuda and device_choice not in ("cpu", "auto"):
        raise UsageError(f"--device {device_choice}: under torchrun ganzoo trains on CUDA GPUs (NCCL) or CPUs (gloo)")
    if wants_cuda:
        if not torch.cuda.is_available():
            raise UsageError(f"--device {device_choice}: no CUDA device is available here (try --device cpu)")
        if local_rank >= torch.cuda.device_count():
            raise UsageError(
                f"torchrun started {local_rank + 1}+ processes on this node but it has "
                f"{torch.cuda.device_count()} CUDA device(s): lower --nproc-per-node"
            )
        device, backend = f"cuda:{local_rank}", "nccl"
        torch.cuda.set_device(local_rank)
    else:
        device, backend = "cpu", "gloo"
    timeout = timedelta(seconds=float(os.environ.get("GANZOO_DIST_TIMEOUT", DEFAULT_TIMEOUT_S)))
    global _JOINS
    _JOINS += 1
    owns = not dist.is_initialized()
    try:
        if owns:
            # the launcher's store outlives a restart (torchrun --max-restarts): keys of each attempt
            # get their own prefix, so a restarted process never reads the address of a dead one
            store, _, _ = next(dist.rendezvous("env://", timeout=timeout))
            attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
            store = dist.PrefixStore(f"ganzoo/attempt-{attempt}/join-{_JOINS}", store)
            dist.init_process_group(
                backend,
                store=store,
                rank=rank,
                world_size=size,
                timeout=timeout,
                device_id=torch.device(device) if backend == "nccl" else None,  # None: the default
            )
        control = dist.new_group(backend="gloo", timeout=timeout) if backend != "gloo" else dist.group.WORLD
        patient = dist.new_group(backend="gloo", timeout=timedelta(hours=PATIENT_HOURS))
    except (RuntimeError, ValueError) as exc:
        first = first_line(exc)
        raise GanzooError(
            f"rank {rank} could not join the other {size - 1} process(es) of the run at "
            f"{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']} within {timeout.seconds}s "
            f"({first})"
        ) from None
    return World(rank, size, local_rank, control, patient, owns), device
