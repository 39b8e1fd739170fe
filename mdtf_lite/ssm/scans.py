"""Scans of the linear recurrence h_t = a_t h_{t-1} + b_t, for teaching (notebook 03) and the checkers.

Every function takes a, b of shape (L, *S) -- time first, any state shape S (e.g. (B, D, N)) --
and returns h (L, *S) with h_{-1} = 0.  An element (a_t, b_t) is the affine map h -> a_t h + b_t;
composing two of them is associative, which is what lets a scan run in parallel:

    combine((a1, b1), (a2, b2)) = (a2 a1, a2 b1 + b2)     # first apply (a1, b1), then (a2, b2)

The ``*_schedule`` functions return which element combines into which, level by level, for drawing.
"""

from __future__ import annotations

import torch


def combine(left, right):
    """Compose two affine maps: ``left`` = (a1, b1) happens first, ``right`` = (a2, b2) after.

    Args: left, right: pairs of broadcastable tensors.  Returns (a2 * a1, a2 * b1 + b2).
    """
    a1, b1 = left
    a2, b2 = right
    return a2 * a1, a2 * b1 + b2


def sequential_scan(a, b):
    """h_t = a_t h_{t-1} + b_t one step at a time: L dependent steps.  a, b, h: (L, *S)."""
    h = torch.zeros_like(b[0])
    out = []
    for a_t, b_t in zip(a.unbind(0), b.unbind(0)):
        h = a_t * h + b_t
        out.append(h)
    return torch.stack(out)


def hillis_steele_scan(a, b):
    """Inclusive scan in ceil(log2 L) levels; level k combines element t - 2^k into t (O(L log L) work)."""
    a, b = a.clone(), b.clone()
    offset = 1
    while offset < a.shape[0]:
        a_new, b_new = combine((a[:-offset], b[:-offset]), (a[offset:], b[offset:]))
        a = torch.cat([a[:offset], a_new])
        b = torch.cat([b[:offset], b_new])
        offset *= 2
    return b


def blelloch_scan(a, b):
    """Work-efficient scan (up-sweep then down-sweep, O(L) work, 2 log2 L levels); L padded to 2^k."""
    length = a.shape[0]
    size = 1 << max(0, (length - 1).bit_length())
    pad = size - length
    a = torch.cat([a, torch.ones_like(a[:1]).expand(pad, *a.shape[1:])]) if pad else a.clone()
    b = torch.cat([b, torch.zeros_like(b[:1]).expand(pad, *b.shape[1:])]) if pad else b.clone()
    stride = 1
    while stride < size:  # up-sweep: node i*2s+2s-1 accumulates its left sibling
        right = torch.arange(2 * stride - 1, size, 2 * stride)
        a[right], b[right] = combine((a[right - stride], b[right - stride]), (a[right], b[right]))
        stride *= 2
    stride = size // 4
    while stride >= 1:  # down-sweep: fill the positions between the partial sums
        mid = torch.arange(3 * stride - 1, size, 2 * stride)
        a[mid], b[mid] = combine((a[mid - stride], b[mid - stride]), (a[mid], b[mid]))
        stride //= 2
    return b[:length]


def chunked_scan(a, b, chunk_size: int):
    """Scan each chunk of ``chunk_size`` steps locally from zero, then pass the carry between chunks.

    Inside a chunk: local states s_t and cumulative decays P_t = a_t ... a_first (both by a
    sequential scan).  Across chunks: h_t = s_t + P_t h_{end of previous chunk}.  a, b, h: (L, *S).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    out = []
    carry = torch.zeros_like(b[0])
    for start in range(0, a.shape[0], chunk_size):
        a_c, b_c = a[start : start + chunk_size], b[start : start + chunk_size]
        local = sequential_scan(a_c, b_c)  # the chunks are independent: parallel
        decay = torch.cumprod(a_c, dim=0)
        h = local + decay * carry  # the only sequential part: one carry per chunk
        out.append(h)
        carry = h[-1]
    return torch.cat(out)


def hillis_steele_schedule(length: int) -> list[list[tuple[int, int]]]:
    """Per level, the (source, destination) pairs of :func:`hillis_steele_scan`."""
    levels, offset = [], 1
    while offset < length:
        levels.append([(t - offset, t) for t in range(offset, length)])
        offset *= 2
    return levels


def blelloch_schedule(length: int) -> list[list[tuple[int, int]]]:
    """Per level, the (source, destination) pairs of :func:`blelloch_scan` (positions < length only)."""
    size = 1 << max(0, (length - 1).bit_length())
    levels, stride = [], 1
    while stride < size:
        levels.append([(r - stride, r) for r in range(2 * stride - 1, size, 2 * stride) if r < length])
        stride *= 2
    stride = size // 4
    while stride >= 1:
        levels.append([(m - stride, m) for m in range(3 * stride - 1, size, 2 * stride) if m < length])
        stride //= 2
    return [lv for lv in levels if lv]


def chunked_schedule(length: int, chunk_size: int) -> list[list[tuple[int, int]]]:
    """Local sequential steps inside every chunk (all chunks at once), then the carries between chunks."""
    levels = []
    for k in range(1, chunk_size):
        pairs = [(s + k - 1, s + k) for s in range(0, length, chunk_size) if s + k < length]
        if pairs:
            levels.append(pairs)
    for s in range(chunk_size, length, chunk_size):
        levels.append([(s - 1, t) for t in range(s, min(s + chunk_size, length))])
    return levels
