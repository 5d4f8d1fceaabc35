"""``tpcheck simulate``: sweeps over n, the fitted rate, the plots."""

from __future__ import annotations

import pytest

from tpcheck.cli import main
from tpcheck.simulate import load_theorem, sweep


def test_goe_sweep_recovers_the_one_over_n_rate(root):
    thm = load_theorem(str(root / "proofs" / "semicircle.tp"), "goe_fourth_moment_correction")
    result = sweep(thm, [16, 64, 256, 1024], samples=300, seed=1, fixed={}, progress=False)
    assert result.predicted_slope == -1.0
    assert result.fitted_slope is not None and abs(result.fitted_slope + 1) < 0.25
    assert all(abs(r.z) < 6.5 for r in result.rows)


def test_cli_table_and_plot(root, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "sim.png"
    code = main(["simulate", str(root / "proofs" / "semicircle.tp"), "--theorem",
                 "goe_fourth_moment_correction", "--sizes", "8,32,128", "--samples", "200",
                 "--plot", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "fitted" in text and "predicted -1.000" in text
    assert out.stat().st_size > 10_000


def test_unknown_theorem_is_a_usage_error(root, capsys):
    assert main(["simulate", str(root / "proofs" / "semicircle.tp"), "--theorem", "nope"]) == 2
