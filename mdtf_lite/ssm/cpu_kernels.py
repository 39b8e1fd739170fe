"""Fused CPU kernels of the selective scan (numba): one pass over time per (batch, channel) row.

Shapes (glossary in ``mdtf_lite``), all C-contiguous numpy arrays of one float dtype:
u, delta, y, du, ddelta, dy (B, D, L);  A (D, N);  Bt, Ct, dB, dC (B, G, L, N) -- note time before
state, so the inner loop over N reads contiguous memory;  last, dlast (B, D, N);
checkpoints (B, D, ceil(L / K), N).  ``delta`` is the final step size (bias and softplus applied).

This is the same algorithm as the Triton kernel (``mdtf_lite.ssm.triton_kernel``), written for a
CPU: each (b, d) row keeps its N states in registers/L1 and walks t = 0..L-1, so nothing of size
B*D*N*L is ever materialised.  The forward stores the state entering every chunk of K steps; the
backward walks the chunks in reverse, recomputes that chunk's K states (K*N numbers per row), and
runs the reverse recurrence g_t = C_t dy_t + a_{t+1} g_{t+1} through them, accumulating all
gradients on the fly.  Rows are spread over cores with ``prange`` (forward: B*D rows; backward:
B*G row groups, so dB/dC -- sums over the channels of a group -- need no atomics).

Float semantics: ``fastmath`` is limited to reassociation/contraction (vectorised sums and FMAs);
NaN/Inf propagate as in IEEE arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


@njit(parallel=True, fastmath=_FASTMATH, cache=True)
def scan_forward(u, delta, A, Bt, Ct, chunk, save_checkpoints, y, last, checkpoints):  # pragma: no cover - jit
    """y[b, d, t] = <C_t, h_t>;  h_t = exp(delta A) h_{t-1} + delta u B_t.  Fills y, last, checkpoints."""
    nb, nd, length = u.shape
    groups = Bt.shape[1]
    nstate = A.shape[1]
    heads = nd // groups
    for row in prange(nb * nd):
        b = row // nd
        d = row % nd
        g = d // heads
        h = np.zeros(nstate, dtype=u.dtype)
        for t in range(length):
            if save_checkpoints and t % chunk == 0:
                checkpoints[b, d, t // chunk, :] = h
            dl = delta[b, d, t]
            dlu = dl * u[b, d, t]
            acc = 0.0
            for n in range(nstate):
                h[n] = math.exp(dl * A[d, n]) * h[n] + dlu * Bt[b, g, t, n]
                acc += h[n] * Ct[b, g, t, n]
            y[b, d, t] = acc
        last[b, d, :] = h


@njit(parallel=True, fastmath=_FASTMATH, cache=True)
def scan_backward(
    u, delta, A, Bt, Ct, chunk, checkpoints, dy, dlast, du, ddelta, dA_rows, dB, dC
):  # pragma: no cover - jit
    """Reverse recurrence through recomputed chunks.  Fills du, ddelta, dA_rows (B, D, N: sum over b
    left to the caller), dB, dC (which must be zero on entry)."""
    nb, nd, length = u.shape
    groups = Bt.shape[1]
    nstate = A.shape[1]
    heads = nd // groups
    nchunks = checkpoints.shape[2]
    for bg in prange(nb * groups):
        b = bg // groups
        g = bg % groups
        hs = np.empty((chunk + 1, nstate), dtype=u.dtype)  # states h_{s-1} .. h_{e-1} of one chunk
        aa = np.empty((chunk, nstate), dtype=u.dtype)  # a_t of the chunk
        carry = np.empty(nstate, dtype=u.dtype)  # a_{t+1} g_{t+1} (+ dlast at the end)
        dA_acc = np.empty(nstate, dtype=u.dtype)
        for d in range(g * heads, (g + 1) * heads):
            carry[:] = dlast[b, d, :]
            dA_acc[:] = 0.0
            for c in range(nchunks - 1, -1, -1):
                s = c * chunk
                e = min(s + chunk, length)
                hs[0, :] = checkpoints[b, d, c, :]
                for t in range(s, e):
                    dl = delta[b, d, t]
                    dlu = dl * u[b, d, t]
                    k = t - s
                    for n in range(nstate):
                        a = math.exp(dl * A[d, n])
                        aa[k, n] = a
                        hs[k + 1, n] = a * hs[k, n] + dlu * Bt[b, g, t, n]
                for t in range(e - 1, s - 1, -1):
                    k = t - s
                    dl = delta[b, d, t]
                    ut = u[b, d, t]
                    dlu = dl * ut
                    dyt = dy[b, d, t]
                    sum_gb = 0.0
                    sum_pa = 0.0
                    for n in range(nstate):
                        gn = dyt * Ct[b, g, t, n] + carry[n]
                        dC[b, g, t, n] += dyt * hs[k + 1, n]
                        dB[b, g, t, n] += gn * dlu
                        sum_gb += gn * Bt[b, g, t, n]
                        p = gn * aa[k, n] * hs[k, n]
                        sum_pa += p * A[d, n]
                        dA_acc[n] += p * dl
                        carry[n] = aa[k, n] * gn
                    du[b, d, t] = sum_gb * dl
                    ddelta[b, d, t] = sum_gb * ut + sum_pa
            dA_rows[b, d, :] = dA_acc
