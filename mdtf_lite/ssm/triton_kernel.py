"""Triton kernels of the selective scan (forward and backward) for CUDA tensors.

On a machine without a GPU the same kernels run under Triton's interpreter: set
``TRITON_INTERPRET=1`` *before* this module (or triton) is imported, then pass CPU tensors.  The
interpreter executes every ``tl`` operation with numpy, so it is slow: use small shapes.

Shapes (glossary in ``mdtf_lite``): u, delta, y (B, D, L) contiguous; A (D, N); Bg, Cg (B, G, N, L);
checkpoints (B, D, ceil(L / CHUNK), N).  Computation is float32 (like mamba-ssm's kernel).

Parallel layout.  One program owns one batch element ``b`` and a block of ``BLOCK_D`` channels,
all of one group ``g``; its (BLOCK_D, BLOCK_N) tile of states lives in registers while the program
walks t = 0..L-1 -- the selective scan is parallel over (b, d, n) and sequential only in time, so
on a GPU each thread holds a few states and the loop over L costs L dependent FMAs, not L kernel
launches.  (mamba-ssm's CUDA kernel additionally splits L into chunks combined with a parallel
scan across a thread block; this kernel keeps the sequential loop for readability.)

Backward.  The forward stores the state entering every CHUNK steps.  The backward walks chunks in
reverse: it recomputes the chunk's states into a scratch tile (CHUNK + 1 tiles per program, in
global memory, since registers cannot be indexed by a loop counter), then runs the reverse
recurrence g_t = C_t dy_t + a_{t+1} g_{t+1} and accumulates every gradient.  The sums over channels
(dB, dC) are written per program and reduced by the caller (deterministic, no atomics).
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from triton import knobs

from .epilogue import ScanPlan, scan_with_epilogue

#: True when this module's kernels were built for Triton's CPU interpreter.
INTERPRETED = bool(knobs.runtime.interpret)
DEFAULT_CHUNK = 16


@triton.jit
def _scan_fwd_kernel(
    u_ptr,
    dl_ptr,
    A_ptr,
    B_ptr,
    C_ptr,
    y_ptr,
    last_ptr,
    ck_ptr,
    L,
    D,
    N,
    H,
    s_bb,
    s_bg,
    s_bn,
    CHUNK: tl.constexpr,
    SAVE: tl.constexpr,
    BLOCK_D: tl.constexpr,
    BLOCK_N: tl.constexpr,
):
    b = tl.program_id(0)
    pd = tl.program_id(1)
    d = pd * BLOCK_D + tl.arange(0, BLOCK_D)  # (BLOCK_D,) channels of this program
    n = tl.arange(0, BLOCK_N)  # (BLOCK_N,) state index
    md = d < D
    mn = n < N
    m2 = md[:, None] & mn[None, :]
    g = (pd * BLOCK_D) // H  # the one group these channels read B, C from
    A = tl.load(A_ptr + d[:, None] * N + n[None, :], mask=m2, other=0.0)  # (BLOCK_D, BLOCK_N)
    row = (b * D + d) * L  # start of u[b, d, :], delta[b, d, :], y[b, d, :]
    bc = b * s_bb + g * s_bg + n * s_bn  # start of B[b, g, n, :], C[b, g, n, :]
    nch = tl.cdiv(L, CHUNK)
    state = (b * D + d[:, None]) * N + n[None, :]  # (BLOCK_D, BLOCK_N) offsets into (B, D, N)
    h = tl.zeros([BLOCK_D, BLOCK_N], dtype=tl.float32)
    for t in range(0, L):
        if SAVE:
            if t % CHUNK == 0:  # the state entering chunk t // CHUNK, for the backward
                tl.store(ck_ptr + ((b * D + d[:, None]) * nch + t // CHUNK) * N + n[None, :], h, mask=m2)
        dl = tl.load(dl_ptr + row + t, mask=md, other=0.0)
        uu = tl.load(u_ptr + row + t, mask=md, other=0.0)
        Bt = tl.load(B_ptr + bc + t, mask=mn, other=0.0)
        Ct = tl.load(C_ptr + bc + t, mask=mn, other=0.0)
        a = tl.exp(dl[:, None] * A)  # discretised A (zero-order hold)
        h = a * h + (dl * uu)[:, None] * Bt[None, :]  # h_t = a_t h_{t-1} + delta_t u_t B_t
        tl.store(y_ptr + row + t, tl.sum(h * Ct[None, :], axis=1), mask=md)  # y_t = <C_t, h_t>
    tl.store(last_ptr + state, h, mask=m2)


@triton.jit
def _scan_bwd_kernel(
    u_ptr,
    dl_ptr,
    A_ptr,
    B_ptr,
    C_ptr,
    ck_ptr,
    dy_ptr,
    dlast_ptr,
    scratch_ptr,
    du_ptr,
    ddl_ptr,
    dA_ptr,
    dBp_ptr,
    dCp_ptr,
    L,
    D,
    N,
    H,
    NBLK,
    s_bb,
    s_bg,
    s_bn,
    CHUNK: tl.constexpr,
    BLOCK_D: tl.constexpr,
    BLOCK_N: tl.constexpr,
):
    b = tl.program_id(0)
    pd = tl.program_id(1)
    d = pd * BLOCK_D + tl.arange(0, BLOCK_D)
    n = tl.arange(0, BLOCK_N)
    md = d < D
    mn = n < N
    m2 = md[:, None] & mn[None, :]
    g = (pd * BLOCK_D) // H
    A = tl.load(A_ptr + d[:, None] * N + n[None, :], mask=m2, other=0.0)
    row = (b * D + d) * L
    bc = b * s_bb + g * s_bg + n * s_bn
    part = ((b * NBLK + pd) * N + n) * L  # dB/dC partials (B, NBLK, N, L) of this program
    nch = tl.cdiv(L, CHUNK)
    state = (b * D + d[:, None]) * N + n[None, :]
    tile = tl.arange(0, BLOCK_D)[:, None] * BLOCK_N + n[None, :]
    scratch = scratch_ptr + (b * NBLK + pd) * (CHUNK + 1) * BLOCK_D * BLOCK_N + tile
    carry = tl.load(dlast_ptr + state, mask=m2, other=0.0)  # a_{t+1} g_{t+1}; starts as dL/dh_L
    dA_acc = tl.zeros([BLOCK_D, BLOCK_N], dtype=tl.float32)
    for ci in range(0, nch):
        c = nch - 1 - ci
        s = c * CHUNK
        clen = tl.minimum(CHUNK, L - s)
        # 1) recompute the chunk's states h_{s-1}, h_s, ..., h_{s+clen-1} into scratch slots 0..clen
        h = tl.load(ck_ptr + ((b * D + d[:, None]) * nch + c) * N + n[None, :], mask=m2, other=0.0)
        tl.store(scratch, h)
        for k in range(0, clen):
            dl = tl.load(dl_ptr + row + s + k, mask=md, other=0.0)
            uu = tl.load(u_ptr + row + s + k, mask=md, other=0.0)
            Bt = tl.load(B_ptr + bc + s + k, mask=mn, other=0.0)
            h = tl.exp(dl[:, None] * A) * h + (dl * uu)[:, None] * Bt[None, :]
            tl.store(scratch + (k + 1) * BLOCK_D * BLOCK_N, h)
        tl.debug_barrier()
        # 2) reverse recurrence through the chunk, accumulating the gradients
        for kk in range(0, clen):
            k = clen - 1 - kk
            t = s + k
            dl = tl.load(dl_ptr + row + t, mask=md, other=0.0)
            uu = tl.load(u_ptr + row + t, mask=md, other=0.0)
            dy = tl.load(dy_ptr + row + t, mask=md, other=0.0)
            Bt = tl.load(B_ptr + bc + t, mask=mn, other=0.0)
            Ct = tl.load(C_ptr + bc + t, mask=mn, other=0.0)
            h_t = tl.load(scratch + (k + 1) * BLOCK_D * BLOCK_N)
            h_prev = tl.load(scratch + k * BLOCK_D * BLOCK_N)
            a = tl.exp(dl[:, None] * A)
            gn = dy[:, None] * Ct[None, :] + carry  # dL/dh_t
            tl.store(dCp_ptr + part + t, tl.sum(dy[:, None] * h_t, axis=0), mask=mn)
            tl.store(dBp_ptr + part + t, tl.sum(gn * (dl * uu)[:, None], axis=0), mask=mn)
            sum_gb = tl.sum(gn * Bt[None, :], axis=1)  # sum_n g B
            p = gn * a * h_prev  # dL/d(delta_t A)
            tl.store(du_ptr + row + t, sum_gb * dl, mask=md)
            tl.store(ddl_ptr + row + t, sum_gb * uu + tl.sum(p * A, axis=1), mask=md)
            dA_acc += p * dl[:, None]
            carry = a * gn
        tl.debug_barrier()
    tl.store(dA_ptr + state, dA_acc, mask=m2)


def _blocks(d_inner: int, groups: int, n_state: int):
    """BLOCK_D (a power of two; with groups, one dividing D/G so a block never spans two groups), BLOCK_N."""
    if groups == 1:
        block_d = min(32, triton.next_power_of_2(d_inner))
    else:
        heads = d_inner // groups
        block_d = 1
        while block_d < 32 and heads % (block_d * 2) == 0:
            block_d *= 2
    return block_d, triton.next_power_of_2(n_state)


class _TritonScan(torch.autograd.Function):
    """(u, delta (B, D, L), A (D, N), Bg, Cg (B, G, N, L)) -> y (B, D, L), h_L (B, D, N), float32."""

    @staticmethod
    def forward(ctx, u, delta, A, Bg, Cg, chunk: int):
        u, delta, A, Bg, Cg = (t.detach().float().contiguous() for t in (u, delta, A, Bg, Cg))
        nb, nd, length = u.shape
        groups, nstate = Bg.shape[1], A.shape[1]
        block_d, block_n = _blocks(nd, groups, nstate)
        nblk = triton.cdiv(nd, block_d)
        save = any(ctx.needs_input_grad[:5])
        y = torch.empty_like(u)
        last = u.new_empty(nb, nd, nstate)
        ck = u.new_empty(nb, nd, triton.cdiv(length, chunk) if save else 1, nstate)
        _scan_fwd_kernel[(nb, nblk)](
            u,
            delta,
            A,
            Bg,
            Cg,
            y,
            last,
            ck,
            length,
            nd,
            nstate,
            nd // groups,
            Bg.stride(0),
            Bg.stride(1),
            Bg.stride(2),
            CHUNK=chunk,
            SAVE=save,
            BLOCK_D=block_d,
            BLOCK_N=block_n,
        )
        if save:
            ctx.save_for_backward(u, delta, A, Bg, Cg, ck)
        ctx.meta = (chunk, block_d, block_n, nblk)
        return y, last

    @staticmethod
    def backward(ctx, dy, dlast):
        u, delta, A, Bg, Cg, ck = ctx.saved_tensors
        chunk, block_d, block_n, nblk = ctx.meta
        nb, nd, length = u.shape
        groups, nstate = Bg.shape[1], A.shape[1]
        dy = torch.zeros_like(u) if dy is None else dy.float().contiguous()
        dlast = u.new_zeros(nb, nd, nstate) if dlast is None else dlast.float().contiguous()
        scratch = u.new_empty(nb * nblk * (chunk + 1) * block_d * block_n)
        du, ddelta = torch.empty_like(u), torch.empty_like(delta)
        dA_rows = u.new_empty(nb, nd, nstate)
        dBp = u.new_empty(nb, nblk, nstate, length)
        dCp = u.new_empty(nb, nblk, nstate, length)
        _scan_bwd_kernel[(nb, nblk)](
            u,
            delta,
            A,
            Bg,
            Cg,
            ck,
            dy,
            dlast,
            scratch,
            du,
            ddelta,
            dA_rows,
            dBp,
            dCp,
            length,
            nd,
            nstate,
            nd // groups,
            nblk,
            Bg.stride(0),
            Bg.stride(1),
            Bg.stride(2),
            CHUNK=chunk,
            BLOCK_D=block_d,
            BLOCK_N=block_n,
        )
        # channel blocks never straddle groups, so each group's blocks are consecutive
        dB = dBp.view(nb, groups, nblk // groups, nstate, length).sum(2)
        dC = dCp.view(nb, groups, nblk // groups, nstate, length).sum(2)
        return du, ddelta, dA_rows.sum(0), dB, dC, None


def _core_triton(u, delta, A, B, C, plan: ScanPlan):
    """Triton core on (B, D, L) tensors -> y (B, D, L), h_L (B, D, N) (float32)."""
    if u.device.type != "cuda" and not INTERPRETED:
        raise RuntimeError(
            "the triton backend needs CUDA tensors, or TRITON_INTERPRET=1 set before "
            "mdtf_lite.ssm.triton_kernel is first imported (CPU interpreter)"
        )

    def grouped(m):  # (B, [G,] N, L) -> (B, G, N, L)
        m = m.unsqueeze(1) if m.dim() == 3 else m
        return m.expand(m.shape[0], plan.groups, *m.shape[2:])

    return _TritonScan.apply(u, delta, A, grouped(B), grouped(C), plan.chunk_size)


def selective_scan_triton(
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
    chunk_size: int = DEFAULT_CHUNK,
):
    """Selective scan on the Triton kernels; arguments and returns as ``mdtf_lite.ssm.selective_scan``.

    ``chunk_size`` is the number of steps between stored states (the backward recomputes the rest).
    """
    return scan_with_epilogue(
        _core_triton, u, delta, A, B, C, D, z, delta_bias, delta_softplus, return_last_state, chunk_size
    )
