"""The process a run trains in: CPU threads, subnormal flushing, the device, and data parallelism (DDP).

    with training_process(cfg) as (ranks, device):     # torchrun sets WORLD_SIZE / RANK / LOCAL_RANK
        net = ranks.wrap(model, device)                  # DistributedDataParallel when world > 1
        ranks.mean(loss), ranks.any(out_of_time), ranks.barrier()

One process (no torchrun): ``ranks.world == 1`` and every call is a no-op.  Under torchrun each rank
takes every ``world``-th clip of the same global batch and DDP averages the gradients, so a step equals
the single-process step up to floating-point summation order (BatchNorm statistics are per rank).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["Ranks", "training_process", "pick_device"]


@dataclass(frozen=True)
class Ranks:
    """This process's place in the run: ``rank`` of ``world`` processes (rank 0 saves and reports), and the
    device its collectives run on (nccl reduces CUDA tensors only)."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    def mean(self, value: torch.Tensor) -> torch.Tensor:
        """The mean of ``value`` over the ranks."""
        if self.world == 1:
            return value
        value = value.detach().clone()
        dist.all_reduce(value)
        return value / self.world

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is True on any rank (so all ranks stop at the same step)."""
        if self.world == 1:
            return flag
        value = torch.tensor(float(flag), device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value > 0)

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """What the forward runs: ``model`` itself, or its ``DistributedDataParallel`` wrapper."""
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)


def pick_device(wanted: str | None, world: int) -> torch.device:
    """``wanted`` ("cpu", "cuda", "cuda:1"), else CUDA when available (the LOCAL_RANK-th GPU under torchrun),
    else CPU.  Raises ``ValueError`` for a CUDA device this torch does not have."""
    if wanted:
        device = torch.device(wanted)
    elif torch.cuda.is_available():
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) if world > 1 else 0)
    else:
        device = torch.device("cpu")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={wanted!r} but this torch has no CUDA device; use device: cpu")
        torch.cuda.set_device(device)
    return device


@contextmanager
def training_process(num_threads: int | None, device: str | None):
    """Set this process up for training and put it back afterwards: yields ``(Ranks, torch.device)``.

    ``num_threads`` CPU threads (None: torch's default); subnormal floats flushed to zero (|x| < 1.2e-38:
    decayed SSM states, tiny gradients cost ~100 cycles per operation on x86 -- flushing them changes
    nothing a model can notice and made CPU training steps ~1.5x faster); under torchrun
    (``WORLD_SIZE`` > 1) the process group (nccl with CUDA, else gloo), joined here unless it already is
    and then left again.
    """
    threads_before = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    flushed = torch.set_flush_denormal(True)
    world, created = int(os.environ.get("WORLD_SIZE", "1")), False
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
        created = True
    try:
        rank, world = (dist.get_rank(), dist.get_world_size()) if world > 1 else (0, 1)
        chosen = pick_device(device, world)
        yield Ranks(rank, world, chosen), chosen
    finally:
        torch.set_num_threads(threads_before)
        if flushed:
            torch.set_flush_denormal(False)
        if created:
            dist.destroy_process_group()
