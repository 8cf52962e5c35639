"""How wrong a tool may be: the one-sided upper confidence bound on its error rate.

Clopper-Pearson (exact binomial): with ``wrong`` wrong answers among ``n`` labelled questions the
tool had not seen, the error rate is below ``error_bound(wrong, n)`` with 95% confidence. With no
wrong answer it is ``1 - 0.05 ** (1 / n)``, about ``3 / n``: 300 questions all right bound the error
rate at 1.0%, 10 at 25.9%. Only labelled evidence counts (held-out questions and canaries, each
once); agreement on synthetic questions is shown beside it, never folded in.
"""

import math

CONFIDENCE = 0.95


def _binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed in log space (n may be large)."""
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0 if k < n else 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    total = 0.0
    for i in range(k + 1):
        log_term = math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        total += math.exp(log_term)
    return min(1.0, total)


def error_bound(wrong: int, n: int, confidence: float = CONFIDENCE) -> float:
    """The upper ``confidence`` bound on the error rate after ``wrong`` of ``n`` answers were wrong
    (1.0 with no evidence at all)."""
    if n <= 0:
        return 1.0
    if not 0 <= wrong <= n:
        raise ValueError(f"wrong must be between 0 and n ({n}), not {wrong}")
    alpha = 1.0 - confidence
    if wrong == n:
        return 1.0
    if wrong == 0:
        return 1.0 - alpha ** (1.0 / n)
    low, high = wrong / n, 1.0  # the p at which P(X <= wrong) falls to alpha
    for _ in range(80):
        mid = (low + high) / 2
        if _binomial_cdf(wrong, n, mid) > alpha:
            low = mid
        else:
            high = mid
    return high


def percent(bound: float | None) -> str:
    """A bound as people read it: ``<= 1.0%`` (``unbounded`` without evidence)."""
    if bound is None or bound >= 1.0:
        return "unbounded"
    return f"<= {bound * 100:.1f}%"
