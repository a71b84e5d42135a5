"""Special functions for the beta schedule: the beta distribution's CDF and inverse CDF, without scipy."""

from __future__ import annotations

import math
from functools import lru_cache

from latent_upscale.errors import LatentUpscaleError

__all__ = ["beta_ppf", "beta_quantiles", "log_beta_function", "regularized_incomplete_beta"]


def log_beta_function(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _incomplete_beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of I_x(a, b) by the modified Lentz method (Numerical Recipes §6.4 ``betacf``)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 100_000):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            delta = d * c
            fraction *= delta
        if abs(delta - 1.0) < 1e-16:
            return fraction
    raise RuntimeError(f"incomplete beta continued fraction did not converge for a={a}, b={b}, x={x}")


def regularized_incomplete_beta(x: float, a: float, b: float) -> float:
    """The beta distribution's CDF I_x(a, b), to about 1e-15 (what scipy.special.betainc computes)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = a * math.log(x) + b * math.log1p(-x) - log_beta_function(a, b)
    # The fraction converges fast below the mean-ish point; above it use I_x(a, b) = 1 - I_{1-x}(b, a).
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _incomplete_beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _incomplete_beta_fraction(b, a, 1.0 - x) / b


def beta_ppf(q: float, alpha: float, beta: float) -> float:
    """Inverse CDF (quantile) of Beta(alpha, beta), for the beta schedule without scipy.

    Safeguarded Newton on :func:`regularized_incomplete_beta`: a step that leaves the bracket
    falls back to bisection. The starting points are the two tail expansions I_x ≈ x^a / (a B)
    and 1 - I_x ≈ (1 - x)^b / (b B). Accurate to about 1e-12 in x.
    """
    for name, value in (("alpha", alpha), ("beta", beta)):
        if not (math.isfinite(value) and value > 0):
            raise LatentUpscaleError(f"beta distribution {name} must be a positive number, got {value!r}")
    if not (0.0 <= q <= 1.0):
        raise LatentUpscaleError(f"a quantile must lie in [0, 1], got {q!r}")
    if q == 0.0 or q == 1.0:
        return float(q)
    log_b = log_beta_function(alpha, beta)

    def cdf_gap(x: float) -> float:
        return regularized_incomplete_beta(x, alpha, beta) - q

    lo, hi = 0.0, 1.0
    candidates = (
        math.exp((math.log(q) + math.log(alpha) + log_b) / alpha),
        -math.expm1((math.log1p(-q) + math.log(beta) + log_b) / beta),
    )
    best, best_gap = 0.5, cdf_gap(0.5)
    lo, hi = (0.5, hi) if best_gap < 0 else (lo, 0.5)
    for candidate in candidates:
        if lo < candidate < hi:
            gap = cdf_gap(candidate)
            lo, hi = (candidate, hi) if gap < 0 else (lo, candidate)
            if abs(gap) < abs(best_gap):
                best, best_gap = candidate, gap
    x, gap = best, best_gap
    for _ in range(500):
        if gap == 0.0:
            return x
        log_pdf = (alpha - 1.0) * math.log(x) + (beta - 1.0) * math.log1p(-x) - log_b
        step = gap / math.exp(log_pdf) if log_pdf < 700 else 0.0
        proposal = x - step
        if not (lo < proposal < hi):
            proposal = 0.5 * (lo + hi)
        if abs(proposal - x) <= 1e-15 * proposal or proposal in (lo, hi):
            return proposal
        x = proposal
        gap = cdf_gap(x)
        lo, hi = (x, hi) if gap < 0 else (lo, x)
    return x


@lru_cache(maxsize=64)
def beta_quantiles(n: int, alpha: float, beta: float) -> tuple[float, ...]:
    # ComfyUI/reForge beta_scheduler: quantiles 1 - linspace(0, 1, n, endpoint=False) = 1, 1 - 1/n, …, 1/n.
    return tuple(beta_ppf(1.0 - k / n, alpha, beta) for k in range(n))
