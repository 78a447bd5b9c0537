#!/usr/bin/env python3
"""The softmax kernels' exp polynomial (generators/exp_poly.h): the minimax polynomial of e^r on
[-ln2/2, ln2/2] for the relative error, by the Remez exchange, then the float32 error of the whole
exp_nonpositive (range reduction, Horner in float32, 2^k) on [-20, 0].
Usage: .venv/bin/python scripts/exp_minimax.py [DEGREE...]   (default 4 5 6; numpy, in the venv)
"""
import sys

import numpy as np

H = np.log(2) / 2


def remez(n, iters=30):
    """Coefficients c[0..n] (r^0 first) and the max relative error of the degree-n minimax fit."""
    m = n + 2
    x = H * np.cos(np.pi * np.arange(m)[::-1] / (m - 1))  # Chebyshev start
    xs = np.linspace(-H, H, 200001)
    for _ in range(iters):
        a = np.zeros((m, m))
        for i in range(m):
            a[i, :n + 1] = x[i] ** np.arange(n + 1) / np.exp(x[i])
            a[i, n + 1] = (-1) ** i
        c = np.linalg.solve(a, np.ones(m))[:n + 1]
        err = np.polyval(c[::-1], xs) / np.exp(xs) - 1
        segs = np.split(np.arange(len(xs)), np.where(np.diff(np.sign(err)) != 0)[0] + 1)
        ext = [seg[np.argmax(np.abs(err[seg]))] for seg in segs]
        if len(ext) != m:
            break
        x = xs[ext]
    return c, np.max(np.abs(err))


def float32_error(c):
    """Max relative error on [-20, 0] of exp_nonpositive with coefficients c, all in float32."""
    f = np.float32
    xs = np.linspace(-20, 0, 2000001).astype(f)
    k = (xs * f(1.44269504) - f(0.5)).astype(np.int32)  # truncation, as the kernels' cast
    r = (xs - k.astype(f) * f(0.693147182)).astype(f)
    p = f(c[-1])
    for cc in c[-2::-1]:
        p = (p * r + f(cc)).astype(f)
    res = p * np.ldexp(f(1), k).astype(f)
    return np.max(np.abs(res.astype(np.float64) / np.exp(xs.astype(np.float64)) - 1))


if __name__ == "__main__":
    for n in [int(a) for a in sys.argv[1:]] or [4, 5, 6]:
        c, e = remez(n)
        print(f"degree {n}: exact max rel {e:.3g}, float32 exp on [-20, 0] max rel {float32_error(c):.3g}")
        print("  kExpPoly (highest degree first):", ", ".join(repr(float(np.float32(v))) for v in c[::-1]))
    taylor6 = [1, 1, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720]
    print(f"degree-6 Taylor (before 2026-12-04): float32 max rel {float32_error(taylor6):.3g}")
