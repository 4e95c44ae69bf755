"""Stopping a run on a signal: SIGINT arrives as Python's KeyboardInterrupt; the command line turns
SIGTERM into :class:`Stop`, a KeyboardInterrupt that remembers its signal, so one ``except
KeyboardInterrupt`` path cleans up (cancels queued work, ends worker processes, keeps what is
finished) for both, and the exit status can be 128 + the signal (130 SIGINT, 143 SIGTERM)."""

from __future__ import annotations

import signal


class Stop(KeyboardInterrupt):
    """A request to stop from a signal other than SIGINT (raised by the handler :func:`install` sets)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signum_of(stop: KeyboardInterrupt) -> int:
    """The signal behind a KeyboardInterrupt: its ``signum`` for a Stop, else SIGINT."""
    return getattr(stop, "signum", signal.SIGINT)


def install() -> None:
    """SIGTERM raises Stop and SIGINT raises KeyboardInterrupt in the main thread, even where the
    process started with SIGINT ignored (a background job of a script): the command line calls
    this once at start."""
    def handler(signum, frame):
        raise Stop(signum)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
