"""The numpy MLP and the coord check against the exact exponents of abc_parametrizations."""

from __future__ import annotations

from fractions import Fraction as F

import numpy as np
import pytest

from tpcheck.engines.abc_parametrizations import (
    PUBLISHED_MUP_TABLES,
    compare_with_published,
    mup,
    ntk,
    standard,
    symmetry_shift,
)
from tpcheck.engines.coord_check import (
    backward,
    coord_check,
    fit_slopes,
    forward,
    init_mlp,
    loglog_slope_per_seed,
    predicted_exponent,
    slope_table,
    student_t_threshold,
    train_step,
    transfer_experiment,
)

H = F(1, 2)


def _batch(seed=0, batch=4, dim=5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((batch, dim)), rng.standard_normal((batch, 1))


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_backward_matches_finite_differences(activation):
    inputs, targets = _batch()
    net = init_mlp(mup(2), 12, 5, 0.1, np.random.default_rng(1), base_width=4, activation=activation)

    def loss():
        f = forward(net, inputs)[2]
        return 0.5 * np.mean(np.sum((f - targets) ** 2, axis=1))

    hs, xs, f = forward(net, inputs)
    grads = backward(net, hs, xs, (f - targets) / len(inputs))
    for w, g in zip(net.weights, grads, strict=True):
        for index in [(0, 0), (w.shape[0] - 1, w.shape[1] - 1), (0, w.shape[1] // 2)]:
            saved = w[index]
            w[index] = saved + 1e-6
            up = loss()
            w[index] = saved - 1e-6
            down = loss()
            w[index] = saved
            assert (up - down) / 2e-6 == pytest.approx(g[index], rel=1e-5, abs=1e-9)


def _trajectory(p, steps=3, width=96):
    inputs, targets = _batch(seed=3, batch=6, dim=7)
    net = init_mlp(p, width, 7, 0.3, np.random.default_rng(5), base_width=32)
    outputs = []
    for _ in range(steps):
        train_step(net, inputs, targets)
        outputs.append(forward(net, inputs)[2])
    return np.array(outputs)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_symmetry_leaves_the_trajectory_unchanged(optimizer):
    p = mup(2, optimizer)
    shifted = symmetry_shift(p, [H, F(-1), F(3, 2)])
    np.testing.assert_allclose(_trajectory(shifted), _trajectory(p), rtol=1e-9, atol=1e-12)
    broken = symmetry_shift(p, H)
    broken = type(p)(broken.a, broken.b, tuple(c + 1 for c in broken.c), optimizer)
    assert not np.allclose(_trajectory(broken), _trajectory(p), rtol=1e-3)


def test_tables_3_and_9_give_the_same_network_function():
    """TP5 Table 3 and Table 9 are one parametrization: same trajectories (SGD and Adam)."""
    for optimizer in ("sgd", "adam"):
        table3 = compare_with_published(PUBLISHED_MUP_TABLES[0], optimizer).derived
        table9 = compare_with_published(PUBLISHED_MUP_TABLES[2], optimizer).derived
        np.testing.assert_allclose(_trajectory(table3), _trajectory(table9), rtol=1e-9, atol=1e-12)


def test_first_adam_step_is_a_sign_step():
    inputs, targets = _batch()
    net = init_mlp(standard(2, 0, "adam"), 10, 5, 0.01, np.random.default_rng(2), base_width=10)
    before = [w.copy() for w in net.weights]
    hs, xs, f = forward(net, inputs)
    grads = backward(net, hs, xs, (f - targets) / len(inputs))
    train_step(net, inputs, targets)
    for w0, w1, g in zip(before, net.weights, grads, strict=True):
        np.testing.assert_allclose(w1 - w0, -0.01 * np.sign(g), atol=1e-15)


def test_slope_fit_recovers_a_known_power():
    widths = [64, 128, 256, 512]
    sizes = np.array([[3.0 * w**-0.5, 5.0 * w**-0.5] for w in widths])
    np.testing.assert_allclose(loglog_slope_per_seed(widths, sizes), [-0.5, -0.5])


def test_student_t_threshold():
    assert student_t_threshold(7, 0.05) == pytest.approx(2.364624251, rel=1e-8)
    assert student_t_threshold(10**6, 0.05) == pytest.approx(1.959964, rel=1e-5)
    assert student_t_threshold(15, 0.01, checks=10) > student_t_threshold(15, 0.01)


def test_predictions_used_by_the_coord_check():
    assert predicted_exponent(standard(2), "Delta h^2", 1) == H
    assert predicted_exponent(standard(2), "h^2", 1) is None  # crossover: init n^0, change n^1/2
    assert predicted_exponent(mup(2), "f", 0) == -H
    assert predicted_exponent(ntk(2), "Delta f", 0) is None


# Fixed seeds, small widths: a deterministic run whose slopes sit far inside these bounds.
SMALL = {"widths": (32, 64, 128, 256), "seeds": (0, 1, 2, 3), "eta": 0.05}


@pytest.mark.parametrize(("p", "expected"), [
    (standard(2), {"Delta h^1": -H, "Delta h^2": H, "Delta f": F(1)}),
    (ntk(2), {"Delta h^1": -H, "Delta h^2": -H, "Delta f": F(0)}),
    (mup(2), {"Delta h^1": F(0), "Delta h^2": F(0), "Delta f": F(0)}),
], ids=["SP", "NTP", "muP"])
def test_coord_check_small_widths(p, expected):
    data = coord_check(p, **SMALL)
    fits = {(fit.quantity, fit.step): fit for fit in fit_slopes(data)}
    for quantity, exponent in expected.items():
        fit = fits[(quantity, 1)]
        assert fit.predicted == exponent
        assert abs(fit.slope - float(exponent)) < 0.2, slope_table({p.name: [fit]})
    for layer in (1, 2):
        assert abs(fits[(f"h^{layer}", 0)].slope) < 0.1
    assert abs(fits[("f", 0)].slope - float(data.parametrization.ab(3) * -1 + H)) < 0.25


def test_coord_check_separates_sp_from_mup():
    """The blow-up the coord check is for: SP's last hidden layer grows like n^1/2, muP's is flat."""
    sp = {f.quantity: f for f in fit_slopes(coord_check(standard(2), **SMALL), steps=[1])}
    mu = {f.quantity: f for f in fit_slopes(coord_check(mup(2), **SMALL), steps=[1])}
    assert sp["Delta h^2"].slope - mu["Delta h^2"].slope > 0.3


DONE_WHEN = [standard(2, 0), standard(2, 1), ntk(2), mup(2)]


@pytest.mark.slow
def test_coord_check_slopes_match_predictions_up_to_2048():
    """Done-when of issue 14: init sizes and one-step changes within their SEs (|t| below the
    Bonferroni t threshold at family-wise level 0.01), widths 64..2048, 16 seeds."""
    seeds = tuple(range(16))
    fits = []
    for p in DONE_WHEN:
        data = coord_check(p, widths=(64, 128, 256, 512, 1024, 2048), seeds=seeds, eta=0.05)
        fits += [f for f in fit_slopes(data, steps=[0, 1]) if f.predicted is not None]
    threshold = student_t_threshold(len(seeds) - 1, 0.01, checks=len(fits))
    bad = [f for f in fits if abs(f.z) > threshold]
    assert not bad, slope_table({"failing": bad})


def test_transfer_experiment_shapes_and_determinism():
    kwargs = {"widths": (16, 32), "log2_learning_rates": (-8, -6), "seeds": (0,), "steps": 12, "batch": 8,
              "base_width": 16}
    first = transfer_experiment(mup(2, "adam"), "muP", **kwargs)
    again = transfer_experiment(mup(2, "adam"), "muP", **kwargs)
    assert first.losses.shape == (2, 2, 1)
    np.testing.assert_array_equal(first.losses, again.losses)
    assert set(first.best_log2_learning_rate()) == {16, 32}
    assert np.all(np.isfinite(first.losses))


@pytest.mark.slow
def test_learning_rate_transfers_under_mup_and_drifts_under_sp():
    """muTransfer [TP5]: SGD, widths 128..2048, 3 seeds; muP (Table 3, base width 128) keeps the
    best learning rate within one grid step (a factor 2), SP's moves down by at least two."""
    mu = compare_with_published(PUBLISHED_MUP_TABLES[0], "sgd").derived
    best_mu = transfer_experiment(mu, "muP").best_log2_learning_rate()
    best_sp = transfer_experiment(standard(2, 0), "SP").best_log2_learning_rate()
    assert max(best_mu.values()) - min(best_mu.values()) <= 1, best_mu
    assert best_sp[128] - best_sp[2048] >= 2, best_sp


def test_figures_are_vector_pdfs_with_captions(tmp_path):
    from tpcheck.engines.abc_figures import plot_abc_slice, plot_coord_check, plot_transfer
    from tpcheck.engines.abc_parametrizations import named_points

    data = coord_check(mup(2), widths=(16, 32), seeds=(0, 1), steps=2)
    path, caption = plot_coord_check(data, tmp_path / "coord.pdf")
    assert path.read_bytes().startswith(b"%PDF") and "seeds 0, 1" in caption and "widths 16, 32" in caption
    path, caption = plot_abc_slice(mup(2), tmp_path / "slice.pdf", named_points(2), step=F(1, 4))
    assert path.read_bytes().startswith(b"%PDF")
    assert "NTP at (a_out, c) = (0, 1)" in caption and "muP at (a_out, c) = (1/2, 0)" in caption
    result = transfer_experiment(mup(2), "muP", widths=(16,), log2_learning_rates=(-4, -3), seeds=(0,),
                                 steps=11, batch=4, base_width=16)
    path, caption = plot_transfer([result], tmp_path / "transfer.pdf")
    assert path.read_bytes().startswith(b"%PDF") and "best log2 lr per width" in caption
