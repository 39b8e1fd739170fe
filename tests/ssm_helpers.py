"""Shared test helpers for the selective-scan tests: seeded inputs, forward+backward runs, errors."""

from __future__ import annotations

import torch

from mdtf_lite.ssm.reference import selective_scan_reference

GRAD_NAMES = ("u", "delta", "A", "B", "C", "D", "z", "delta_bias")


def make_inputs(
    seed=0,
    batch=2,
    d_inner=8,
    n_state=4,
    length=33,
    groups=None,
    dtype=torch.float32,
    delta_scale=1.0,
    with_D=True,
    with_z=True,
    with_bias=True,
):
    """Fresh random inputs; returns a dict of leaf tensors requiring grad (None for absent extras).

    Shapes: u, delta, z (B, D, L); A (D, N) negative like Mamba's -exp(A_log); B, C (B, N, L) or
    (B, G, N, L); D, delta_bias (D,).
    """
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    bc_shape = (batch, n_state, length) if groups is None else (batch, groups, n_state, length)
    x = {
        "u": rnd(batch, d_inner, length),
        "delta": rnd(batch, d_inner, length).abs() * delta_scale * 0.5,  # step sizes are positive
        "A": -torch.exp(rnd(d_inner, n_state) * 0.5),
        "B": rnd(*bc_shape),
        "C": rnd(*bc_shape),
        "D": rnd(d_inner) if with_D else None,
        "z": rnd(batch, d_inner, length) if with_z else None,
        "delta_bias": rnd(d_inner).abs() * 0.5 if with_bias else None,
    }
    return {k: (v.to(dtype).requires_grad_() if v is not None else None) for k, v in x.items()}


def run(fn, x, seed=1, **kw):
    """Forward + backward of fn on inputs x with seeded upstream gradients.

    Returns (outputs, grads): outputs = [y (B, D, L)] (+ [h_L (B, D, N)] if return_last_state);
    grads = {name: dL/dname} for every input present.
    """
    ins = {k: v for k, v in x.items() if v is not None}
    out = fn(x["u"], x["delta"], x["A"], x["B"], x["C"], D=x["D"], z=x["z"], delta_bias=x["delta_bias"], **kw)
    outs = list(out) if isinstance(out, tuple) else [out]
    g = torch.Generator().manual_seed(seed)
    loss = sum((o.double() * torch.randn(o.shape, generator=g, dtype=torch.float64)).sum() for o in outs)
    grads = torch.autograd.grad(loss, list(ins.values()), allow_unused=True)
    return [o.detach() for o in outs], dict(zip(ins, grads))


def rel_err(a, b) -> float:
    """Normwise relative error max|a - b| / max|b| (b is the reference)."""
    a, b = a.double(), b.double()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def assert_close_all(got, want, tol, label=""):
    """Compare (outputs, grads) pairs from :func:`run`; every tensor within normwise rel. error tol."""
    (go, gg), (wo, wg) = got, want
    assert len(go) == len(wo)
    errs = {f"out{i}": rel_err(a, b) for i, (a, b) in enumerate(zip(go, wo))}
    for k in wg:
        assert gg[k] is not None, f"{label}: no gradient for {k}"
        errs[f"d{k}"] = rel_err(gg[k], wg[k])
    bad = {k: v for k, v in errs.items() if not v <= tol}
    assert not bad, f"{label}: relative errors above {tol:g}: {bad} (all: {errs})"
    return errs


def oracle(x, **kw):
    """The float64 sequential recurrence on float64 copies of x (outputs and gradients)."""
    x64 = {k: (v.detach().double().requires_grad_() if v is not None else None) for k, v in x.items()}
    return run(selective_scan_reference, x64, **kw)
