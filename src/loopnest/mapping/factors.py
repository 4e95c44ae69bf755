"""Perfect factorizations of loop dimensions: divisors from prime factorizations, counts by
stars and bars, the listing ``Mapspace`` splits each dimension by, and its size bound.

A dimension of size n split over S loop slots (the temporal loops of the levels and the fanout
axes) takes every tuple of S factors whose product is n. Their number, without bounds, is the
product over n's prime powers p^e of C(e + S - 1, S - 1) (stars and bars); it is counted before
anything is listed, and a dimension with more than ``MAX_SPLITS`` tuples is refused.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

MAX_SPLITS = 2_000_000  # factor tuples of one dimension beyond which the mapspace is refused (memory, minutes)
MAX_SIZE = 2**63 - 1  # dimension sizes are int64 in the cost model


class MapspaceError(ValueError):
    """A mapspace too large to enumerate; the message names the dimension and the count."""


@lru_cache(maxsize=4096)
def divisors(n: int) -> tuple[int, ...]:
    """The divisors of n >= 1, ascending, built from its prime factorization (never a scan up to n)."""
    divs = [1]
    for p, e in prime_factors(n):
        divs = [d * p**k for d in divs for k in range(e + 1)]
    return tuple(sorted(divs))


_SMALL_PRIMES = tuple(p for p in range(2, 1000) if all(p % q for q in range(2, math.isqrt(p) + 1)))
_MR_BASES = _SMALL_PRIMES[:12]  # 2..37: a deterministic Miller-Rabin test below 3.18e23 (Sorenson and Webster 2015)
_MR_LIMIT = 318_665_857_834_031_151_167_461


@lru_cache(maxsize=4096)
def prime_factors(n: int) -> tuple[tuple[int, int], ...]:
    """(prime, exponent) pairs of n, ascending: trial division by the primes below 1000, then
    Pollard's rho with a deterministic Miller-Rabin test, so a 64-bit prime takes milliseconds
    (trial division up to its square root would take an hour). Exact for n < 3.18e23."""
    if not isinstance(n, int) or n < 1 or n >= _MR_LIMIT:
        raise ValueError(f"prime_factors: need an integer in [1, {_MR_LIMIT}), got {n!r}")
    found: dict[int, int] = {}
    for p in _SMALL_PRIMES:
        while n % p == 0:
            found[p] = found.get(p, 0) + 1
            n //= p
    stack = [n] if n > 1 else []
    while stack:
        m = stack.pop()
        if _is_prime(m):
            found[m] = found.get(m, 0) + 1
        else:
            d = _rho(m)
            stack += [d, m // d]
    return tuple(sorted(found.items()))


def _is_prime(n: int) -> bool:
    """Miller-Rabin with the bases 2..37 (n odd, n > 37, no factor below 1000)."""
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for a in _MR_BASES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _rho(n: int) -> int:
    """A proper factor of the odd composite n (Pollard's rho, Floyd's cycle finding)."""
    for c in range(1, n):
        x = y = 2
        d = 1
        while d == 1:
            x = (x * x + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            d = math.gcd(x - y, n)
        if d != n:
            return d
    raise ArithmeticError(f"no factor of {n} found")  # unreachable for a composite n


def split_count(n: int, slots: int) -> int:
    """Ordered factorizations of n into ``slots`` factors: the product over n's prime powers p^e
    of C(e + slots - 1, slots - 1) (stars and bars)."""
    if slots == 0:
        return int(n == 1)
    return math.prod(math.comb(e + slots - 1, slots - 1) for _, e in prime_factors(n))


def split_bound(n: int, bounds: list[tuple[int, int]], work: int = 100_000) -> int:
    """How many tuples ``factorizations(n, bounds)`` lists, counted without listing them: the
    slots bounded below n have their admissible divisors enumerated, the unbounded ones are
    counted by stars and bars. Exact while the bounded slots' choices number at most ``work``;
    beyond, the slots with the most choices are counted as unbounded (an upper bound)."""
    divs = divisors(n)
    free, cands = 0, []
    for lo, hi in bounds:
        if lo <= 1 and hi >= n:
            free += 1
        else:
            cands.append([d for d in divs if lo <= d <= hi])
    cands.sort(key=len)
    while cands and math.prod(len(c) for c in cands) > work:
        cands.pop()
        free += 1
    total = 0

    def rec(i: int, rest: int) -> None:
        nonlocal total
        if i == len(cands):
            total += split_count(rest, free)
            return
        for d in cands[i]:
            if rest % d == 0:
                rec(i + 1, rest // d)

    rec(0, n)
    return total


def factorizations(n: int, bounds: list[tuple[int, int]], what: str = "") -> np.ndarray:
    """All tuples (f_0..f_{S-1}) with prod = n and lo_s <= f_s <= hi_s, as an (K, S) array.

    Raises MapspaceError (``what`` names the dimension) where they would number more than
    ``MAX_SPLITS`` (counted first by ``split_bound``, so a huge space is refused at once)."""
    label = what or f"size {n}"
    if n > MAX_SIZE:
        raise MapspaceError(f"dimension {label} exceeds the 64-bit range of the cost model ({MAX_SIZE})")
    count = split_bound(n, bounds)
    if count > MAX_SPLITS:
        raise MapspaceError(f"dimension {label} has {count:.3g} ways to split over its {len(bounds)} loop slots "
                            f"(limit {MAX_SPLITS:.0e}): the mapspace is too large to enumerate; constrain its "
                            "factors (--constraints) or use a smaller size")
    rows: list[tuple[int, ...]] = []

    def rec(s: int, rest: int, acc: tuple[int, ...]) -> None:
        if s == len(bounds) - 1:
            lo, hi = bounds[s]
            if lo <= rest <= hi:
                rows.append(acc + (rest,))
            return
        lo, hi = bounds[s]
        for f in divisors(rest):
            if lo <= f <= hi:
                rec(s + 1, rest // f, acc + (f,))

    rec(0, n, ())
    return np.array(rows, np.int64).reshape(-1, len(bounds))


def ceil_factorizations(n: int, bounds: list[tuple[int, int]], spatial: list[bool], what: str = "") -> np.ndarray:
    """``factorizations`` plus the remainder-tile splits that pad n at a fanout: outer -> inner, a
    temporal slot takes a divisor of what is left, a fanout slot any factor up to what is left (the
    rest becomes ceil(rest / f)), and the tuple is kept where the padding is under one iteration of
    its outermost loop (mapping.py's rule: every outer factor needed). (K, S) array, perfect ones
    included."""
    label = what or f"size {n}"
    perfect = factorizations(n, bounds, what)
    rows: list[tuple[int, ...]] = []

    def rec(s: int, rest: int, acc: tuple[int, ...]) -> None:
        if len(rows) > MAX_SPLITS:
            raise MapspaceError(f"dimension {label} has over {MAX_SPLITS:.0e} splits with remainder tiles over its "
                                f"{len(bounds)} loop slots: constrain its factors or search without remainders")
        lo, hi = bounds[s]
        if s == len(bounds) - 1:
            if lo <= rest <= hi:
                rows.append(acc + (rest,))
            return
        for f in (range(max(lo, 1), min(hi, rest) + 1) if spatial[s] else divisors(rest)):
            if lo <= f <= hi:
                rec(s + 1, -(-rest // f), acc + (f,))

    rec(0, n, ())
    padded = np.array(rows, np.int64).reshape(-1, len(bounds))
    total = padded.prod(axis=1)
    first = (padded > 1).argmax(axis=1)  # the outermost loop
    outer = np.take_along_axis(padded, first[:, None], axis=1)[:, 0]
    padded = padded[(total > n) & (total - n < total // np.maximum(outer, 1))]
    return np.concatenate([perfect, padded]) if len(padded) else perfect
