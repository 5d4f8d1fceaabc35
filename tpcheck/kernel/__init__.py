"""The trusted kernel: proof objects, verdicts, the rule registry and the check loop.

Nothing outside this package turns a judgement into a verdict.
"""

from tpcheck.kernel.check import (
    DEFAULT_BUDGET,
    DEFAULT_WITNESS_BUDGET,
    Options,
    StepResult,
    TheoremResult,
    check_theorem,
)
from tpcheck.kernel.proof import Context, Goal, Parameter, Step, Theorem
from tpcheck.kernel.rules import REGISTRY, Rule, lookup, rule
from tpcheck.kernel.verdict import Evidence, Judgement, Verdict, weakest

__all__ = [
    "DEFAULT_BUDGET", "DEFAULT_WITNESS_BUDGET", "REGISTRY", "Context", "Evidence", "Goal",
    "Judgement", "Options", "Parameter", "Rule", "Step", "StepResult", "Theorem", "TheoremResult",
    "Verdict", "check_theorem", "lookup", "rule", "weakest",
]
