"""The Dask distributed executor: sweep points computed on a cluster's workers.

``dask[distributed]`` is an optional extra (``pip install 'loopnest[dse]'``), imported only here
and only when this executor is chosen. With a scheduler address (``tcp://HOST:PORT``) the sweep
runs on that cluster; without one a LocalCluster of ``jobs`` worker processes (one thread each) is
started for the sweep and closed after it.

Each point is one task keyed by its content hash and computed by ``evaluate_point``, a pure
function, so a row is the same bytes on any worker. Workers only return rows; the driver writes the
store. A worker that dies loses only its in-flight points: the scheduler runs them again on another
worker (up to Dask's ``distributed.scheduler.allowed-failures`` times per point, 3 by default);
a point that kills more workers than that stops the sweep with one line, its finished rows kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from loopnest.dse.point import Point
from loopnest.dse.run import ExecutorError, windowed


def dask_rows(todo: list[Point], jobs: int, scheduler: str | None, evaluate) -> Iterator[dict]:
    """Rows of ``todo`` in finishing order, computed on a Dask cluster."""
    try:
        from distributed import Client, LocalCluster, wait
        from distributed.scheduler import KilledWorker
    except ImportError:
        raise ExecutorError("--executor dask needs Dask distributed: pip install 'loopnest[dse]'") from None
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # worker restarts are expected and handled: not the user's business
    cluster = None
    try:
        if scheduler is None:
            cluster = LocalCluster(n_workers=max(1, jobs), threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError, ValueError) as e:
                raise ExecutorError(f"--scheduler {scheduler}: cannot connect to a Dask scheduler ({e})") from None
        with client:
            window = 2 * max(1, sum(client.nthreads().values()))

            def submit(p: Point):
                return client.submit(evaluate, p, key=f"loopnest-point-{p.key}", pure=False)

            def wait_some(pending: set) -> tuple[set, set]:
                done = wait(pending, return_when="FIRST_COMPLETED")
                return set(done.done), set(done.not_done)

            try:
                yield from windowed(todo, window, submit, wait_some)
            except KilledWorker as e:
                raise ExecutorError(f"Dask task {e.task} (one sweep point) killed every worker that ran it, "
                                    "more times than distributed.scheduler.allowed-failures; the rows finished "
                                    "so far are stored") from None
    finally:
        if cluster is not None:
            cluster.close()
        quiet.setLevel(level)
