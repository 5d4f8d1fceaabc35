"""The trusted kernel: proof objects, verdicts, the rule registry and the check loop.

Nothing outside this package turns a judgement into a verdict.
"""

from tpcheck.kernel.check import (
    DEFAULT_BUDGET,
    DEFAULT_WITNESS_BUDGET,
    Options,
    StepResult,
    TheoremResult,
    apply_external_evidence,
    check_theorem,
    rejudge_theorem,
)
from tpcheck.kernel.proof import Context, Goal, Parameter, Step, Theorem
from tpcheck.kernel.rules import REGISTRY, Rule, lookup, rule
from tpcheck.kernel.verdict import (
    Evidence,
    Judgement,
    Verdict,
    reproved_all,
    reproved_by,
    verdict_label,
    weakest,
)

__all__ = [
    "DEFAULT_BUDGET", "DEFAULT_WITNESS_BUDGET", "REGISTRY", "Context", "Evidence", "Goal",
    "Judgement", "Options", "Parameter", "Rule", "Step", "StepResult", "Theorem", "TheoremResult",
    "Verdict", "apply_external_evidence", "check_theorem", "lookup", "rejudge_theorem",
    "reproved_all", "reproved_by", "rule", "verdict_label", "weakest",
]
