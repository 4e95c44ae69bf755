"""Seeded, deterministic torch for training and fine-tuning: same seed, same weights, any machine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def deterministic(seed: int) -> Iterator:
    """Yield torch with its random state seeded, one CPU thread and deterministic kernels; the
    caller's random state, thread count and determinism setting are restored afterwards.

    One thread: the order of floating-point reductions then does not depend on the core count.
    """
    import torch

    threads, strict = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)
        try:
            yield torch
        finally:
            torch.set_num_threads(threads)
            torch.use_deterministic_algorithms(strict)
