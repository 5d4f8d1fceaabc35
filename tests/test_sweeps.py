"""Sweeps on Dask (``tpcheck.sweeps``): the coord check, the transfer grid and ``tpcheck simulate``
give the serial run's numbers exactly, whatever map runs their cells and in whatever order."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tpcheck.engines.abc_parametrizations import mup, standard
from tpcheck.engines.coord_check import (
    CoordCheckCell,
    CoordCheckError,
    coord_check,
    coord_check_cell,
    transfer_experiment,
)
from tpcheck.errors import TpcheckError
from tpcheck.simulate import load_theorem, sweep
from tpcheck.sweeps import add_sweep_arguments, dask_map, mapper_from_args

COORD = {"widths": (16, 32, 64), "seeds": (0, 1, 2), "steps": 2}
TRANSFER = {"widths": (16, 32), "log2_learning_rates": (-6, -2, 1), "seeds": (0, 1), "steps": 11, "batch": 4,
            "base_width": 16}
SIMULATE = {"sizes": [8, 32, 128], "samples": 200, "seed": 3, "fixed": {}, "progress": False}


def backwards_map(fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
    """Runs the cells last to first, in one process; yields results in input order."""
    cells = list(items)
    return reversed([fn(cell) for cell in reversed(cells)])


def assert_same_coord_check(first, second):
    assert first.sizes.keys() == second.sizes.keys()
    for name in first.sizes:
        np.testing.assert_array_equal(first.sizes[name], second.sizes[name], err_msg=name)


@pytest.fixture(scope="module")
def semicircle_theorem():
    path = Path(__file__).resolve().parent.parent / "proofs" / "semicircle.tp"
    return load_theorem(str(path), "goe_fourth_moment_correction")


@pytest.mark.parametrize("mapper", [map, backwards_map], ids=["builtin", "backwards"])
def test_engine_map_hooks_give_the_default_run(mapper):
    for p in (standard(2), mup(2, "adam")):
        assert_same_coord_check(coord_check(p, **COORD, map=mapper), coord_check(p, **COORD))
        np.testing.assert_array_equal(transfer_experiment(p, **TRANSFER, map=mapper).losses,
                                      transfer_experiment(p, **TRANSFER).losses)


def test_simulate_map_hook_gives_the_default_sweep(semicircle_theorem):
    default = sweep(semicircle_theorem, **SIMULATE)
    assert asdict(sweep(semicircle_theorem, **SIMULATE, map=backwards_map)) == asdict(default)


def test_bad_requests_are_refused_before_any_cell_runs():
    def refuse(fn, items):
        raise AssertionError("no cell should run")

    with pytest.raises(CoordCheckError, match="activation"):
        coord_check(mup(2), activation="sigmoid", map=refuse)
    with pytest.raises(CoordCheckError, match="positive"):
        transfer_experiment(mup(2), widths=(0, 16), map=refuse)


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_sweep_arguments(parser)
    return parser.parse_args(list(argv))


def test_sweep_arguments_choose_the_map():
    assert mapper_from_args(_parse()) is map
    assert mapper_from_args(argparse.Namespace()) is map  # a parser without the options
    local = mapper_from_args(_parse("--dask"))
    assert local.func is dask_map and local.keywords == {"scheduler": None, "workers": None}
    assert mapper_from_args(_parse("--workers", "3")).keywords == {"scheduler": None, "workers": 3}
    remote = mapper_from_args(_parse("--scheduler", "tcp://10.0.0.5:8786"))
    assert remote.keywords == {"scheduler": "tcp://10.0.0.5:8786", "workers": None}
    with pytest.raises(TpcheckError, match="own workers"):
        mapper_from_args(_parse("--scheduler", "tcp://10.0.0.5:8786", "--workers", "2"))


@pytest.mark.parametrize("value", ["0", "-1", "two", "100000"])
def test_a_bad_worker_count_is_a_usage_error(value, capsys):
    with pytest.raises(SystemExit):
        _parse("--workers", value)
    assert "number of workers" in capsys.readouterr().err


def test_no_cells_start_no_cluster():
    assert dask_map(coord_check_cell, []) == []


def test_a_local_cluster_of_two_workers_gives_the_serial_cells():
    """One start of the default local cluster (a few seconds): tiny coord-check cells."""
    cells = [CoordCheckCell(mup(2), width, seed, 2, 0.05, 8, 4, 16, "tanh")
             for width in (16, 32) for seed in (0, 1)]
    on_cluster = dask_map(coord_check_cell, cells, workers=2)
    for serial, remote in zip(map(coord_check_cell, cells), on_cluster, strict=True):
        assert serial.keys() == remote.keys()
        for name in serial:
            np.testing.assert_array_equal(serial[name], remote[name], err_msg=name)


@pytest.fixture(scope="module")
def scheduler():
    """A local cluster of two worker processes, reached by its address as a real one would be."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.CRITICAL) as cluster:
        yield cluster.scheduler_address


@pytest.mark.slow
def test_coord_check_on_two_workers_equals_the_serial_run(scheduler):
    on_cluster = partial(dask_map, scheduler=scheduler)
    for p in (standard(2), mup(2, "adam")):
        assert_same_coord_check(coord_check(p, **COORD, map=on_cluster), coord_check(p, **COORD))


@pytest.mark.slow
def test_transfer_grid_on_two_workers_equals_the_serial_run(scheduler):
    on_cluster = partial(dask_map, scheduler=scheduler)
    serial = transfer_experiment(mup(2), **TRANSFER)
    parallel = transfer_experiment(mup(2), **TRANSFER, map=on_cluster)
    np.testing.assert_array_equal(parallel.losses, serial.losses)
    assert parallel.best_log2_learning_rate() == serial.best_log2_learning_rate()


@pytest.mark.slow
def test_simulate_sweep_on_two_workers_equals_the_serial_run(semicircle_theorem, scheduler):
    parallel = sweep(semicircle_theorem, **SIMULATE, map=partial(dask_map, scheduler=scheduler))
    assert asdict(parallel) == asdict(sweep(semicircle_theorem, **SIMULATE))


@pytest.mark.slow
def test_a_failing_cell_raises_its_own_error(scheduler):
    bad = CoordCheckCell(mup(2), 16, 0, 1, 0.05, 8, 4, 16, "sigmoid")
    with pytest.raises(CoordCheckError, match="activation 'sigmoid'"):
        dask_map(coord_check_cell, [bad], scheduler=scheduler)


def test_an_unreachable_scheduler_is_a_tpcheck_error():
    with pytest.raises(TpcheckError, match="cannot reach the Dask scheduler"):
        dask_map(coord_check_cell, [None], scheduler="nonsense://nowhere")


@pytest.mark.slow
def test_one_session_serves_several_sweeps(scheduler):
    from tpcheck.sweeps import dask_session

    with dask_session(scheduler) as on_cluster:
        for p in (standard(2), mup(2)):
            assert_same_coord_check(coord_check(p, **COORD, map=on_cluster), coord_check(p, **COORD))


@pytest.mark.slow
def test_main_simulate_runs_on_the_scheduler_it_is_given(scheduler, capsys):
    from tpcheck.simulate import main_simulate

    path = str(Path(__file__).resolve().parent.parent / "proofs" / "semicircle.tp")
    args = argparse.Namespace(path=path, theorem="goe_fourth_moment_correction", sizes=[8, 32], samples=200,
                              seed=0, at=None, plot=None, dask=False, workers=None, scheduler=None)
    assert main_simulate(args) == 0
    serial = capsys.readouterr().out
    assert main_simulate(argparse.Namespace(**{**vars(args), "scheduler": scheduler})) == 0
    assert capsys.readouterr().out == serial
