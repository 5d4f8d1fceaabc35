"""The ``deep_kernel_induction`` rule: a deep network's NNGP and NTK limits for every depth."""

from __future__ import annotations

import sympy

from tpcheck.engines.equality import decide_equal
from tpcheck.engines.heads import Avg, MatVec
from tpcheck.engines.laws import GaussianMatrix, InitialVectors
from tpcheck.engines.netsor import ProgramCompiler, ProgramError
from tpcheck.engines.networks import MAX_DEPTH, KernelRecursion, NetworkHead, NetworkSpec
from tpcheck.expectations.programs import average_limit
from tpcheck.kernel import Context, Evidence, Goal, Judgement, Verdict, rule
from tpcheck.trusted import rests_on

DIGITS = 30
BASE_DEPTHS = 3  # depths checked on the whole program: the base case and the next two


class _Laws:
    """The laws of a program built here, as the Master Theorem reads them."""

    def __init__(self, laws: dict) -> None:
        self.laws = laws

    @property
    def random_symbols(self) -> set[sympy.Symbol]:
        return set(self.laws)


def _limit(expr: sympy.Expr, laws: dict, n: sympy.Symbol) -> sympy.Expr:
    """The Master Theorem limit of an expression in averages; exact, or ProgramError."""
    table = {}
    for avg in ProgramCompiler.averages(expr):
        value, exact = average_limit(avg, _Laws(laws), n, DIGITS)
        if not exact:
            raise ProgramError(f"the limit of {avg} rests on quadrature")
        table[avg] = value
    return expr.xreplace(table)


def _generic_layer(spec: NetworkSpec, n: sympy.Symbol) -> dict[str, sympy.Expr]:
    """Three Master Theorem limits of one layer h' = W phi(h) + b, for inputs whose Z-law is an
    arbitrary N(0, [[q1, c], [c, q2]]) (the induction hypothesis on the layer below):

    - forward:  lim avg(h'_x h'_y), with the diagonal entries;
    - top:      lim avg(g_x g_y) for g = phi'(h) (W^T (v phi'(h'))), v the readout (computed with
                the Zdot of the transpose: no independence assumed);
    - backward: lim avg(g_x g_y) for g = phi'(h) (W^T a), a an incoming backward pair of covariance
                [[r1, e], [e, r2]] taken independent of W (gradient independence).
    """
    # the covariance as [[a^2, a b rho], [a b rho, b^2]]: square roots of its minors then
    # simplify to a b sqrt(1 - rho^2), so that equal closed forms have one canonical form
    a, b, r1, r2 = sympy.symbols("a b r1 r2", positive=True)
    rho, e = sympy.symbols("rho e", real=True)
    q1, q2, c = a**2, b**2, a * b * rho
    hx, hy = sympy.Symbol("layer.hx", real=True), sympy.Symbol("layer.hy", real=True)
    ax, ay = sympy.Symbol("layer.ax", real=True), sympy.Symbol("layer.ay", real=True)
    v = sympy.Symbol("layer.v", real=True)
    w = sympy.Symbol("layer.W")
    zero = sympy.Integer(0)
    laws: dict = {
        w: GaussianMatrix(n, spec.sigma_w2, spec.sigma_w2),
        v: InitialVectors(n, (v,), ((sympy.Integer(1),),), (zero,)),
    }
    law_h = InitialVectors(n, (hx, hy), ((q1, c), (c, q2)), (zero, zero))
    law_a = InitialVectors(n, (ax, ay), ((r1, e), (e, r2)), (zero, zero))
    laws.update({hx: law_h, hy: law_h, ax: law_a, ay: law_a})
    bias = None
    if spec.sigma_b2 != 0:
        bias = sympy.Symbol("layer.b", real=True)
        laws[bias] = InitialVectors(n, (bias,), ((spec.sigma_b2,),), (zero,))

    def up(h: sympy.Expr) -> sympy.Expr:
        out = MatVec(w, sympy.Integer(0), spec.phi(h))
        return out if bias is None else out + bias

    dphi = spec.phi_prime
    return {
        "forward": _limit(Avg(up(hx) * up(hy)), laws, n),
        "forward_x": _limit(Avg(up(hx) ** 2), laws, n),
        "top": _limit(Avg(dphi(hx) * MatVec(w, sympy.Integer(1), v * dphi(up(hx)))
                          * dphi(hy) * MatVec(w, sympy.Integer(1), v * dphi(up(hy)))), laws, n),
        "backward": _limit(Avg(dphi(hx) * MatVec(w, sympy.Integer(1), ax)
                               * dphi(hy) * MatVec(w, sympy.Integer(1), ay)), laws, n),
        "q1": q1, "q2": q2, "c": c, "e": e,
    }


@rule("deep_kernel_induction", relations=("->",), human="induction on the depth",
      latex="by induction on the depth, from the Master Theorem")
def deep_kernel_induction(goal: Goal, args: tuple, ctx: Context) -> Judgement:
    """nngp(f, x, y) -> Sigma^{L+1}(x, y) and ntk(f, x, y) -> Theta^L(x, y) for every depth L.

    Written ``nngp(f, x, y) -> nngp_limit(f, x, y)`` (or ntk) for an MLP f whose depth is a
    natural parameter (``for all L >= 1``, ``depth = L``). The recursions are
    Sigma^{l+1} = sigma_w^2 E_{Sigma^l}[phi(u) phi(v)] + sigma_b^2 and
    Theta^l = Sigma^{l+1} + sigma_w^2 E_{Sigma^l}[phi'(u) phi'(v)] Theta^{l-1}, Theta^0 = Sigma^1.
    Checked, each by the Master Theorem with exact Z-expectations:
    (base) at the lowest depth, the whole forward and backward program of the network (its
    transposes' Zdot computed, nothing assumed) against the recursion;
    (step) one layer h' = W phi(h) + b on inputs of an arbitrary covariance
    [[q1, c], [c, q2]] (the induction hypothesis: the layer below has a Gaussian Z-law with the
    recursion's covariance, independent of the layers above): lim avg(h'_x h'_y) is
    sigma_w^2 E[phi(u) phi(v)] + sigma_b^2, so the next layer's Z-law is the recursion's; for the
    NTK, the top backward vector phi'(h) W^T (v phi'(h')) has lim avg(g_x g_y) =
    sigma_w^2 E_{Sigma'}[phi'phi'] E_Sigma[phi'phi'] with the Zdot of W^T computed (it
    vanishes: the readout v is centred and independent), and a backward pair a met by W^T gives
    lim avg = sigma_w^2 e E_Sigma[phi'phi'], linear in e = lim avg(a_x a_y). So the layers
    below the top of a depth-(L+1) network see the top of a depth-L network scaled by
    sigma_w^2 E_{Sigma^{L+1}}[phi'phi'], and summing the layers' gradient terms gives
    Theta^{L+1} = Sigma^{L+2} + sigma_w^2 E_{Sigma^{L+1}}[phi'phi'] Theta^L.
    Assumed: the Master Theorem and Z-calculus (Yang, Tensor Programs I-III), and, for the NTK
    step below the top, gradient independence, whose condition (a readout sampled independently
    with mean 0 and used only at the output) holds for every declared MLP. Closed-form duals:
    relu, erf, identity. Reference: Jacot, Gabriel, Hongler (2018); Yang, Tensor Programs II (2020).
    """
    lhs, rhs = goal.lhs, goal.rhs
    if not isinstance(lhs, NetworkHead) or not isinstance(rhs, KernelRecursion):
        return Judgement.undecided("deep_kernel_induction: the step is nngp(f, x, y) -> "
                                   "nngp_limit(f, x, y) (or ntk) for a network of symbolic depth")
    kind, name, x, y, depth, width = lhs.args
    mismatch = (kind, name, x, y, depth) != rhs.args
    if goal.limit_var != width:
        return Judgement.undecided(f"deep_kernel_induction: the limit is in the width {width}")
    spec = ctx.networks.get(str(name))
    if spec is None:
        return Judgement.undecided(f"deep_kernel_induction: {name} is not a declared network")
    params = [p for p in ctx.parameters if p.symbol in depth.free_symbols]
    if len(params) != 1 or depth.free_symbols != {params[0].symbol}:
        return Judgement.undecided("deep_kernel_induction: the depth must be an expression in "
                                   "one natural parameter")
    p = params[0]
    if spec.duals() is None:
        return Judgement.undecided(f"deep_kernel_induction: no closed-form dual kernel for "
                                   f"{spec.phi_name} (relu, erf, identity)")
    n = goal.limit_var
    rests_on("z-calculus")
    # the base case, and the next depths as a check of the recursion's closing algebra: the
    # whole program by the Master Theorem against the right side's recursion at that depth
    for value in range(p.lo, p.lo + BASE_DEPTHS):
        at_depth = int(depth.xreplace({p.symbol: sympy.Integer(value)}))
        if at_depth > MAX_DEPTH:
            break
        base = spec.at_depth(at_depth)
        laws = base.build_program()
        try:
            head = base.nngp(tuple(x), tuple(y)) if str(kind) == "nngp" else base.ntk(tuple(x), tuple(y))
            got = _limit(head, laws, n)
        except ProgramError as exc:
            return Judgement.undecided(f"deep_kernel_induction: {exc}")
        r_kind, r_name, r_x, r_y, r_depth = rhs.args
        r_spec = ctx.networks.get(str(r_name))
        if r_spec is None:
            return Judgement.undecided(f"deep_kernel_induction: {r_name} is not a declared network")
        r_at = int(r_depth.xreplace({p.symbol: sympy.Integer(value)}))
        want = r_spec.at_depth(r_at).recursion(str(r_kind), tuple(r_x), tuple(r_y))
        d = decide_equal(got, want, ctx.space)
        if d.status == "unequal":
            return Judgement(Verdict.REFUTED, f"deep_kernel_induction: at {p.symbol} = {value} the "
                             f"limit is {got}, the right side is {want}",
                             counterexample={"instance": {str(p.symbol): str(value)},
                                             "limit": str(got), "claimed": str(want)})
        if d.status != "equal":
            return Judgement.undecided(f"deep_kernel_induction: at {p.symbol} = {value}: {d.reason}")
    if mismatch:
        return Judgement.undecided("deep_kernel_induction: both sides must name the same kind, "
                                   "network and inputs (they agree on the depths checked)")
    try:
        layer = _generic_layer(spec, n)
    except ProgramError as exc:
        return Judgement.undecided(f"deep_kernel_induction: {exc}")
    base_depth = int(depth.xreplace({p.symbol: sympy.Integer(p.lo)}))
    dual, dual_prime = spec.duals()
    q1, q2, c, e = layer["q1"], layer["q2"], layer["c"], layer["e"]
    sw2, sb2 = spec.sigma_w2, spec.sigma_b2
    nxt = (sw2 * dual(q1, q1, q1) + sb2, sw2 * dual(q2, q2, q2) + sb2, sw2 * dual(q1, q2, c) + sb2)
    checks = {"forward": (layer["forward"], nxt[2]), "forward_x": (layer["forward_x"], nxt[0])}
    if str(kind) == "ntk":
        checks["top"] = (layer["top"], sw2 * dual_prime(*nxt) * dual_prime(q1, q2, c))
        checks["backward"] = (layer["backward"], sw2 * e * dual_prime(q1, q2, c))
    for what, (a, b) in checks.items():
        step = decide_equal(a, b, ctx.space)
        if step.status != "equal":
            return Judgement.undecided(f"deep_kernel_induction: the {what} layer identity "
                                       f"{a} = {b} is not shown: {step.reason}")
    if str(kind) == "ntk":
        rests_on("gradient-independence")
    why = (f"base case depth {base_depth} (and the next two depths) by the Master Theorem on the whole "
           f"program; step by one "
           f"layer of arbitrary input covariance ({', '.join(checks)})"
           + ("; gradient independence below the top (the readout is centred, independent and "
              "used only at the output)" if str(kind) == "ntk" else ""))
    return Judgement(Verdict.PROVED, f"deep_kernel_induction: for every {p.symbol} >= {p.lo}: {why}",
                     evidence=[Evidence("symbolic", True, why)])
