"""The GPU check: run on a CUDA machine, prints one summary (``scripts/gpu_check.sh`` sets it up).

    python -m mdtf_lite.bench gpu [--steps 300] [--length 243]

1. the ``triton`` and ``mamba_ssm`` scan backends against mamba-ssm's ``selective_scan_ref`` on CUDA
   tensors: output and the gradients of all eight inputs (max relative error);
2. their time (forward + backward) beside the CPU path (``cpp``/``cpu`` on the CPU tensors, same shape);
3. the tiny preset (MDTF-Tiny, T = 243, no BAM: bone tokens from the true theta) trained for ``--steps``
   optimiser steps on the default dataset: the loss must fall to well below its start.

Without CUDA it stops at once with exit code 3 and says so (nothing is run).  Nothing here is asserted
by the CPU test suite; the CPU tests check the same kernels in Triton's interpreter.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from mdtf_lite.bones import bone_tokens, token_thetas
from mdtf_lite.data import load_clips
from mdtf_lite.models import build_model, get_config
from mdtf_lite.ssm import available_backends, selective_scan
from mdtf_lite.train.loop import make_optimizer
from mdtf_lite.train.losses import pose_loss

GRADS = ("u", "delta", "A", "B", "C", "D", "z", "delta_bias")


def _inputs(device, batch=8, d_inner=64, n_state=16, length=243, seed=0):
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, scale=1.0):
        return (torch.randn(*shape, generator=g) * scale).to(device).requires_grad_()

    A = (-torch.exp(torch.randn(d_inner, n_state, generator=g) * 0.5)).to(device).requires_grad_()
    return dict(
        u=rnd(batch, d_inner, length),
        delta=rnd(batch, d_inner, length, scale=0.5),
        A=A,
        B=rnd(batch, n_state, length),
        C=rnd(batch, n_state, length),
        D=rnd(d_inner),
        z=rnd(batch, d_inner, length),
        delta_bias=rnd(d_inner, scale=0.5),
    )


def _run(fn, x):
    y = fn(
        x["u"], x["delta"], x["A"], x["B"], x["C"], D=x["D"], z=x["z"], delta_bias=x["delta_bias"], delta_softplus=True
    )
    w = torch.ones_like(y)
    grads = torch.autograd.grad((y * w).sum(), [x[k] for k in GRADS])
    return y, grads


def _time(fn, x, repeats=10) -> float:
    sync = torch.cuda.synchronize if x["u"].is_cuda else (lambda: None)
    _run(fn, x)
    sync()
    t0 = time.perf_counter()
    for _ in range(repeats):
        _run(fn, x)
    sync()
    return (time.perf_counter() - t0) / repeats


def check_backends(length: int) -> list[str]:
    from mdtf_lite.ssm.mamba_ssm_backend import load_selective_scan_ref

    ref = load_selective_scan_ref()
    x = _inputs("cuda", length=length)
    y0, g0 = _run(ref, x)
    lines = []
    for name in ("triton", "mamba_ssm"):
        if name not in available_backends("cuda"):
            lines.append(f"{name:10s} UNAVAILABLE on this machine")
            continue
        fn = lambda *a, _n=name, **k: selective_scan(*a, backend=_n, **k)  # noqa: E731
        y, g = _run(fn, x)
        err = max(
            [float((y - y0).abs().max() / y0.abs().max())]
            + [float((a - b).abs().max() / b.abs().max().clamp_min(1e-12)) for a, b in zip(g, g0)]
        )
        status = "ok" if err < 1e-3 else "MISMATCH"
        lines.append(
            f"{name:10s} {status}: max rel. error {err:.2e} (output + 8 gradients), {_time(fn, x) * 1e3:.2f} ms fwd+bwd"
        )
    xc = {k: v.detach().cpu().requires_grad_() for k, v in x.items()}
    for name in ("cpp", "cpu"):
        if name in available_backends("cpu"):
            fn = lambda *a, _n=name, **k: selective_scan(*a, backend=_n, **k)  # noqa: E731
            lines.append(f"{name:10s} (CPU, {torch.get_num_threads()} threads) {_time(fn, xc, 3) * 1e3:.2f} ms fwd+bwd")
    lines.append(f"reference  (mamba-ssm selective_scan_ref, CUDA) {_time(ref, x, 3) * 1e3:.2f} ms fwd+bwd")
    return lines


def train_tiny(steps: int) -> list[str]:
    ds = load_clips(split="train", frames=243, max_clips=512)
    x = torch.as_tensor(ds.inputs, dtype=torch.float32).cuda()
    y = torch.as_tensor(ds.targets, dtype=torch.float32).cuda()
    tokens = bone_tokens(x, token_thetas(y))  # oracle theta: stage 2 alone
    torch.manual_seed(0)
    model = build_model(get_config("tiny")).cuda().train()
    opt = make_optimizer(model.parameters(), 5e-4, 0.01)
    g = torch.Generator(device="cpu").manual_seed(0)
    first = last = None
    t0 = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(len(x), (16,), generator=g).cuda()
        loss, _ = pose_loss(model(x[idx], bone_tokens=tokens[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        first = float(loss) if first is None else first
        last = float(loss)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    ok = last < 0.5 * first
    return [
        f"MDTF-Tiny {steps} steps x 16 clips x 243 frames in {seconds:.0f} s "
        f"({steps * 16 * 243 / seconds:,.0f} frames/s): loss {first:.3f} -> {last:.3f} "
        f"({'ok' if ok else 'DID NOT FALL BY HALF'})"
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mdtf_lite.bench gpu", description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--length", type=int, default=243)
    args = ap.parse_args(argv)
    if not torch.cuda.is_available():
        print(
            "gpu check: no CUDA device is visible to this torch "
            f"({torch.__version__}, CUDA build: {torch.version.cuda}); nothing was run. "
            "Run scripts/gpu_check.sh on a machine with an NVIDIA GPU."
        )
        return 3
    print(f"gpu check on {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    lines = check_backends(args.length) + train_tiny(args.steps)
    print("\n".join("  " + line for line in lines))
    bad = [line for line in lines if "MISMATCH" in line or "DID NOT" in line]
    print("gpu check:", "FAILED" if bad else "all ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
