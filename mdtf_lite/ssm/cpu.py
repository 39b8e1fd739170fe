"""The fast CPU selective scan: a fused recurrence with a hand-written, checkpointed backward.

Shapes (glossary in ``mdtf_lite``): u, delta, z (B, D, L); A (D, N); B, C (B, N, L) or grouped
(B, G, N, L); D, delta_bias (D,).

Two cores, one plan (the shared preparation and epilogue live in ``mdtf_lite.ssm.epilogue``).  The recurrence

    h_t = a_t * h_{t-1} + b_t,   a_t = exp(delta_t A),  b_t = delta_t u_t B_t,   y_t = <C_t, h_t>

is already parallel over the B*D*N independent states; only time is sequential.  On 2 cores a
parallel-prefix scan (Hillis-Steele, Blelloch) would *add* work or memory passes over a
(B, D, N, L) tensor without adding usable parallelism, so both cores here walk time sequentially:

* ``selective_scan_cpu`` (backend ``cpu``, the default on CPU): numba kernels
  (``mdtf_lite.ssm.cpu_kernels``), one (b, d) row per thread, its N states in registers -- the same
  plan as the Triton kernel.  Nothing of size B*D*N*L is ever materialised; the forward costs about
  one ``torch.exp`` pass over B*D*N*L numbers (it is exp-bound).
* ``selective_scan_torch`` (backend ``torch``, also the fallback without numba or off CPU): pure
  PyTorch, time-major (L, B, G, H, N) chunks of ``chunk_size`` steps, one in-place ``addcmul_`` per
  step over a contiguous (B, D, N) block.

The backward of a linear recurrence is the reverse linear recurrence

    g_t = dL/dh_t = C_t dy_t + a_{t+1} g_{t+1}

after which every gradient is local (``dB_t = sum_d g_t delta_t u_t``, ``d(delta_t A) = g_t a_t h_{t-1}``,
...), so autograd never unrolls L steps.

Memory -- what the backward stores: the scan's inputs u and the final delta (B, D, L), A (D, N), B and C
in the kernels' layout (B, G, L, N) (or (L, B, G, N) for ``torch``), plus the state entering every chunk,
(B, D, ceil(L / chunk_size), N): B*D*N*L/chunk_size numbers (with N = 16 and chunk_size = 32, half the
size of u).  Around the core, autograd keeps softplus's input (B, D, L) and, when used, z and the
pre-gate output (B, D, L).  The backward recomputes each chunk's a_t, b_t, h_t from its checkpoint (one
extra forward of work), so its working set is O(B*D*N*chunk_size) for ``torch`` and O(chunk_size*N)
per thread for ``cpu`` -- never O(B*D*N*L).
"""

from __future__ import annotations

import torch

from .epilogue import ScanPlan, group_count, scan_with_epilogue

DEFAULT_CHUNK_SIZE = 32


def _discretise(u, delta, A, Bm):
    """a = exp(delta A), b = delta u B for one chunk.

    Args: u, delta (K, B, G, H); A (G, H, N); Bm (K, B, G, N).  Returns a, b: (K, B, G, H, N).
    """
    a = torch.exp(delta.unsqueeze(-1) * A)
    b = (delta * u).unsqueeze(-1) * Bm.unsqueeze(-2)
    return a, b


def _scan_in_place(a, b, h0):
    """Turn b (K, B, G, H, N) into the states h_1..h_K of h_k = a_k h_{k-1} + b_k, from h0 (or zero)."""
    h = h0
    for k in range(b.shape[0]):
        if h is not None:
            b[k].addcmul_(a[k], h)
        h = b[k]
    return b


def _reverse_scan_in_place(a, g, carry):
    """Turn g_k = C_k dy_k (K, B, G, H, N) into dL/dh_k: g_k += a_{k+1} g_{k+1}; ``carry`` enters at k = K-1."""
    if carry is not None:
        g[-1].add_(carry)
    for k in range(g.shape[0] - 2, -1, -1):
        g[k].addcmul_(a[k + 1], g[k + 1])
    return g


class _ChunkedScan(torch.autograd.Function):
    """Core scan on time-major tensors: (u, delta (L, B, G, H), A (G, H, N), Bm, Cm (L, B, G, N)) -> y, h_L."""

    @staticmethod
    def forward(ctx, u, delta, A, Bm, Cm, chunk_size: int):
        length = u.shape[0]
        starts = list(range(0, length, chunk_size))
        y = torch.empty_like(u)
        need_grad = any(ctx.needs_input_grad[:5])
        checkpoints = u.new_zeros((len(starts), *u.shape[1:], A.shape[-1])) if need_grad else None
        h = None
        for i, s in enumerate(starts):
            e = min(s + chunk_size, length)
            a, b = _discretise(u[s:e], delta[s:e], A, Bm[s:e])
            if need_grad and h is not None:
                checkpoints[i].copy_(h)
            states = _scan_in_place(a, b, h)
            torch.matmul(states, Cm[s:e].unsqueeze(-1), out=y[s:e].unsqueeze(-1))
            h = states[-1]
        last_state = h.clone()
        if need_grad:
            ctx.save_for_backward(u, delta, A, Bm, Cm, checkpoints)
        ctx.chunk_size = chunk_size
        return y, last_state

    @staticmethod
    def backward(ctx, dy, dlast):
        u, delta, A, Bm, Cm, checkpoints = ctx.saved_tensors
        chunk_size, length = ctx.chunk_size, u.shape[0]
        dy = dy.contiguous() if dy is not None else torch.zeros_like(u)
        du, ddelta = torch.empty_like(u), torch.empty_like(delta)
        dB, dC = torch.empty_like(Bm), torch.empty_like(Cm)
        dA = torch.zeros_like(A)
        carry = dlast  # dL/dh at the end of the current chunk coming from later steps (None = 0)
        starts = list(range(0, length, chunk_size))
        for i in range(len(starts) - 1, -1, -1):
            s = starts[i]
            e = min(s + chunk_size, length)
            u_c, dl_c, B_c, dy_c = u[s:e], delta[s:e], Bm[s:e], dy[s:e]
            h0 = checkpoints[i] if i > 0 else None
            a, b = _discretise(u_c, dl_c, A, B_c)
            states = _scan_in_place(a, b, h0)  # (K, B, G, H, N), b's storage
            # dC_t[n] = sum_h dy_t[h] h_t[h, n]
            torch.matmul(dy_c.unsqueeze(-2), states, out=dC[s:e].unsqueeze(-2))
            g = _reverse_scan_in_place(a, dy_c.unsqueeze(-1) * Cm[s:e].unsqueeze(-2), carry)
            carry = a[0] * g[0]
            # gradients through b_t = delta_t u_t B_t
            gB = torch.matmul(g, B_c.unsqueeze(-1)).squeeze(-1)  # (K, B, G, H): sum_n g B
            torch.matmul((dl_c * u_c).unsqueeze(-2), g, out=dB[s:e].unsqueeze(-2))
            torch.mul(gB, dl_c, out=du[s:e])
            # gradients through a_t = exp(delta_t A):  P = g_t * a_t * h_{t-1}  (a's storage is reused)
            p = a
            if e - s > 1:
                p[1:].mul_(states[:-1])
            if h0 is None:
                p[0].zero_()
            else:
                p[0].mul_(h0)
            p.mul_(g)
            dA.add_((p * dl_c.unsqueeze(-1)).sum((0, 1)))
            torch.add(gB * u_c, (p.mul_(A)).sum(-1), out=ddelta[s:e])
        return du, ddelta, dA, dB, dC, None


def to_time_major(u, delta, A, B, C, groups: int | None = None):
    """(B, D, L) / (D, N) / (B, [G,] N, L) -> u, delta (L, B, G, H); A (G, H, N); B, C (L, B, G, N)."""
    batch, d_inner, length = u.shape
    groups = group_count(B, C) if groups is None else groups
    heads = d_inner // groups

    def bc(m):
        m = m.unsqueeze(1) if m.dim() == 3 else m
        return m.expand(batch, groups, *m.shape[2:]).permute(3, 0, 1, 2).contiguous()

    def seq(x):
        return x.reshape(batch, groups, heads, length).permute(3, 0, 1, 2).contiguous()

    return seq(u), seq(delta), A.reshape(groups, heads, A.shape[1]), bc(B), bc(C)


class _FusedScan(torch.autograd.Function):
    """Core scan on numba kernels: (u, delta (B, D, L), A (D, N), Bt, Ct (B, G, L, N)) -> y (B, D, L), h_L (B, D, N)."""

    @staticmethod
    def forward(ctx, u, delta, A, Bt, Ct, chunk_size: int):
        from . import cpu_kernels

        nb, nd, length = u.shape
        nstate = A.shape[1]
        need_grad = any(ctx.needs_input_grad[:5])
        arrays = [t.detach().contiguous() for t in (u, delta, A, Bt, Ct)]
        y = u.new_empty(u.shape)
        last = u.new_empty((nb, nd, nstate))
        nchunks = -(-length // chunk_size) if need_grad else 1
        checkpoints = u.new_empty((nb, nd, nchunks, nstate))
        cpu_kernels.scan_forward(
            *(t.numpy() for t in arrays), chunk_size, need_grad, y.numpy(), last.numpy(), checkpoints.numpy()
        )
        if need_grad:
            ctx.save_for_backward(*arrays, checkpoints)
        ctx.chunk_size = chunk_size
        return y, last

    @staticmethod
    def backward(ctx, dy, dlast):
        from . import cpu_kernels

        u, delta, A, Bt, Ct, checkpoints = ctx.saved_tensors
        dy = torch.zeros_like(u) if dy is None else dy.contiguous()
        dlast = u.new_zeros(u.shape[0], u.shape[1], A.shape[1]) if dlast is None else dlast.contiguous()
        du, ddelta = torch.empty_like(u), torch.empty_like(delta)
        dA_rows = u.new_empty(u.shape[0], *A.shape)
        dB, dC = torch.zeros_like(Bt), torch.zeros_like(Ct)
        cpu_kernels.scan_backward(
            u.numpy(),
            delta.numpy(),
            A.numpy(),
            Bt.numpy(),
            Ct.numpy(),
            ctx.chunk_size,
            checkpoints.numpy(),
            dy.numpy(),
            dlast.numpy(),
            du.numpy(),
            ddelta.numpy(),
            dA_rows.numpy(),
            dB.numpy(),
            dC.numpy(),
        )
        return du, ddelta, dA_rows.sum(0), dB, dC, None


def _core_torch(u, delta, A, B, C, plan: ScanPlan):
    """Pure-PyTorch chunked core on (B, D, L) tensors -> y (B, D, L), h_L (B, D, N)."""
    batch, d_inner, length = u.shape
    u_t, delta_t, A_t, B_t, C_t = to_time_major(u, delta, A, B, C, plan.groups)
    y_t, last = _ChunkedScan.apply(u_t, delta_t, A_t, B_t, C_t, plan.chunk_size)
    return y_t.permute(1, 2, 3, 0).reshape(batch, d_inner, length), last.reshape(batch, d_inner, A.shape[1])


def _core_fused(u, delta, A, B, C, plan: ScanPlan):
    """numba-kernel core on (B, D, L) tensors -> y (B, D, L), h_L (B, D, N)."""

    def state_last(m):  # (B, [G,] N, L) -> (B, G, L, N)
        return (m.unsqueeze(1) if m.dim() == 3 else m).transpose(-1, -2)

    Bt, Ct = (state_last(m).expand(u.shape[0], plan.groups, -1, -1) for m in (B, C))
    return _FusedScan.apply(u.contiguous(), delta.contiguous(), A.contiguous(), Bt, Ct, plan.chunk_size)


def numba_available() -> bool:
    """True when the fused numba kernels can be used (numba importable)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def selective_scan_torch(
    u,
    delta,
    A,
    B,
    C,
    D=None,
    z=None,
    delta_bias=None,
    delta_softplus=False,
    return_last_state=False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
):
    """Pure-PyTorch chunked scan (any device): same arguments and returns as :func:`selective_scan_cpu`."""
    return scan_with_epilogue(
        _core_torch, u, delta, A, B, C, D, z, delta_bias, delta_softplus, return_last_state, chunk_size
    )


def selective_scan_cpu(
    u,
    delta,
    A,
    B,
    C,
    D=None,
    z=None,
    delta_bias=None,
    delta_softplus=False,
    return_last_state=False,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
):
    """Selective scan with mamba-ssm's ``selective_scan_fn`` semantics, fast on CPU.

    Uses the fused numba kernels (``mdtf_lite.ssm.cpu_kernels``) for CPU tensors when numba is
    installed, else the pure-PyTorch chunked scan of this module.

    Args:
        u, delta: (B, D, L).  A: (D, N).  B, C: (B, N, L) or (B, G, N, L).  D, delta_bias: (D,).
        z: (B, D, L) gate, ``y * silu(z)``.  delta_softplus: apply softplus to delta + delta_bias.
        chunk_size: time steps between stored states (see the module docstring for the memory model).

    Returns:
        y (B, D, L) in u's dtype [, last state h_L (B, D, N) in the compute dtype].
        Computes in float32 (float64 if any input is float64), like mamba-ssm.
    """
    core = _core_fused if (u.device.type == "cpu" and numba_available()) else _core_torch
    return scan_with_epilogue(core, u, delta, A, B, C, D, z, delta_bias, delta_softplus, return_last_state, chunk_size)
