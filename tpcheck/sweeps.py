"""Sweeps beyond one machine: the independent cells of a sweep, run on a Dask cluster.

A coord check (one width x one seed a cell), a transfer grid (one width x learning rate x seed) and
a ``tpcheck simulate`` sweep (one size n) are embarrassingly parallel. Their engines take a
``map`` callable (:data:`tpcheck.engines.coord_check.Mapper`): the built-in ``map`` runs the cells
here, one after another; :func:`dask_map` runs them on ``dask.distributed``, a local cluster of
processes by default or the cluster of a scheduler at an address. Every cell is a picklable value
and its function is seeded by the cell alone, so the results are the serial run's, bit for bit.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from tpcheck.errors import TpcheckError
from tpcheck.progress import progress

if TYPE_CHECKING:
    from distributed import Client

    from tpcheck.engines.coord_check import Mapper

DEFAULT_WORKERS = 2
MAX_WORKERS = 256
CONNECT_TIMEOUT_S = 30

Cell = TypeVar("Cell")
Result = TypeVar("Result")


def _check_cluster_options(scheduler: str | None, workers: int | None) -> None:
    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise TpcheckError(f"the number of workers must be in 1..{MAX_WORKERS} (got {workers})")
    if scheduler is not None and workers is not None:
        raise TpcheckError("--workers sizes a local cluster; a scheduler at an address has its own workers")


@contextmanager
def dask_session(scheduler: str | None = None, workers: int | None = None) -> Iterator[Mapper]:
    """A map that runs cells on one Dask cluster for the life of the ``with`` block, so several
    sweeps share one cluster start (see :func:`dask_map` for the cluster and the arguments)."""
    _check_cluster_options(scheduler, workers)
    # Imported here: distributed takes about a second to import, which no serial run (and no
    # `tpcheck check`, whose CLI imports this module) should pay.
    from distributed import Client, LocalCluster

    with ExitStack() as stack:
        if scheduler is None:
            cluster = stack.enter_context(LocalCluster(n_workers=workers or DEFAULT_WORKERS,
                                                       threads_per_worker=1, processes=True,
                                                       dashboard_address=None,
                                                       silence_logs=logging.CRITICAL))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout=CONNECT_TIMEOUT_S))
            except (OSError, TimeoutError, ValueError) as exc:
                raise TpcheckError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from exc
        yield partial(_map_on, client)


def _map_on(client: Client, fn: Callable[[Cell], Result], items: Iterable[Cell]) -> list[Result]:
    """Submit one task a cell to ``client``, draw the progress bar, gather in input order."""
    from distributed import as_completed

    cells = list(items)
    futures = client.map(fn, cells, pure=False)
    for _ in progress(as_completed(futures), total=len(cells), desc="cells"):
        pass
    return client.gather(futures)


def dask_map(fn: Callable[[Cell], Result], items: Iterable[Cell], scheduler: str | None = None,
             workers: int | None = None) -> list[Result]:
    """``[fn(item) for item in items]``, each call a task on a Dask cluster; results in input order.

    With no ``scheduler``, a ``LocalCluster`` of ``workers`` (default 2) processes with one thread
    each and no dashboard is started and closed again; with a scheduler address (``tcp://host:8786``)
    a ``Client`` connects to that cluster, whose workers must be able to import tpcheck. ``fn`` must
    be a top-level function and the items picklable. A progress bar goes to stderr when it is a
    terminal (``tpcheck.progress``). An exception raised by a task is raised here (the local
    workers log nothing, so no worker traceback reaches the user). No cells: no cluster.
    """
    cells = list(items)
    if not cells:
        return []
    with dask_session(scheduler, workers) as mapper:
        return mapper(fn, cells)


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the number of workers must be an integer, got {text!r}") from None
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"the number of workers must be in 1..{MAX_WORKERS}, got {value}")
    return value


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """``--dask``, ``--workers N`` and ``--scheduler ADDRESS``: where a sweep's cells run (default:
    here, one after another)."""
    group = parser.add_argument_group("running the sweep on Dask")
    group.add_argument("--dask", action="store_true",
                       help=f"run the sweep's independent cells on a local Dask cluster "
                            f"({DEFAULT_WORKERS} worker processes unless --workers); same results")
    group.add_argument("--workers", type=_workers, metavar="N",
                       help=f"worker processes of the local Dask cluster, 1..{MAX_WORKERS} (implies --dask)")
    group.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on the Dask cluster whose scheduler is at ADDRESS, e.g. tcp://host:8786")


def mapper_from_args(args: argparse.Namespace) -> Mapper:
    """The map a sweep should use for parsed ``add_sweep_arguments`` options: the built-in ``map``
    when none is given (or the parser has none), else :func:`dask_map` bound to them."""
    scheduler = getattr(args, "scheduler", None)
    workers = getattr(args, "workers", None)
    if scheduler is None and workers is None and not getattr(args, "dask", False):
        return map
    _check_cluster_options(scheduler, workers)
    return partial(dask_map, scheduler=scheduler, workers=workers)

