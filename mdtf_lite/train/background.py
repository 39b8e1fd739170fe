"""Train a second model beside the first: ``fit(cfg)`` in a child process with its own CPU threads.

    mlp = BackgroundFit(mlp_cfg)          # starts at once (a fresh "spawn" process: no shared torch state)
    mdtf = fit(mdtf_cfg)                  # meanwhile, in this process
    mlp_run = mlp.result()                # waits; a FitResult with the model reloaded from its checkpoint

This is how notebook 06 gives the per-frame MLP baseline the same wall-clock budget as MDTF on a
2-core machine: each trains on one core for the same ``time_budget`` seconds, side by side, instead of
one after the other.  The child reads the same data and run folder (it inherits the environment).
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
from pathlib import Path

from .build import load_checkpoint
from .config import TrainConfig
from .loop import FitResult, fit

__all__ = ["BackgroundFit"]


def _child(cfg_dict: dict, out) -> None:
    try:
        run = fit(TrainConfig.from_dict(cfg_dict))
        out.put({"ok": True, "checkpoint": str(run.checkpoint) if run.checkpoint else None, "history": run.history})
    except BaseException as exc:  # report every failure to the parent, which raises it
        out.put({"ok": False, "error": f"{type(exc).__name__}: {exc}"})


class BackgroundFit:
    """``fit(cfg)`` running in a child process; :meth:`result` waits for it and returns a ``FitResult``."""

    def __init__(self, cfg: TrainConfig):
        if not isinstance(cfg, TrainConfig):
            raise TypeError(f"BackgroundFit needs a TrainConfig, got {type(cfg).__name__}")
        self.cfg = cfg.replace(progress=False)  # no progress bar from a process without a notebook
        ctx = mp.get_context("spawn")
        self._queue = ctx.Queue()
        self._proc = ctx.Process(
            target=_child, args=(self.cfg.to_dict(), self._queue), daemon=True, name=f"fit-{cfg.name}"
        )
        self._proc.start()

    def running(self) -> bool:
        return self._proc.is_alive()

    def result(self, timeout: float | None = None):
        """Wait (at most ``timeout`` s) and return the child's ``FitResult`` (model loaded from its checkpoint).

        Raises ``RuntimeError`` naming the run if the child failed or died, ``TimeoutError`` on timeout.
        """
        try:
            msg = self._queue.get(timeout=timeout)
        except queue_mod.Empty:
            if self._proc.is_alive():
                raise TimeoutError(f"background run {self.cfg.name!r} still running after {timeout} s") from None
            raise RuntimeError(
                f"background run {self.cfg.name!r} died (exit code {self._proc.exitcode}) without a result"
            ) from None
        self._proc.join()
        if not msg["ok"]:
            raise RuntimeError(f"background run {self.cfg.name!r} failed: {msg['error']}")
        model, _ = load_checkpoint(msg["checkpoint"])
        return FitResult(
            model=model.eval(), config=self.cfg, history=msg["history"], checkpoint=Path(msg["checkpoint"])
        )
