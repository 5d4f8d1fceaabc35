"""The trusted kernel: proof objects (:mod:`.proof`), verdicts and judgements (:mod:`.verdict`),
the rule registry (:mod:`.rules`), the check loop (:mod:`.check`) and the bounded children that
run each rule and witness within a CPU-time and memory budget (:mod:`.bounded`).

It imports only the foundation and the engines; the rules register themselves into it. A rule
returns a judgement; only the check loop turns judgements into the verdicts of steps and
theorems (PARTIAL and DISPUTED are the kernel's alone).
"""

from tpcheck.kernel.check import (
    DEFAULT_BUDGET,
    DEFAULT_WITNESS_BUDGET,
    Options,
    StepResult,
    TheoremResult,
    Witness,
    apply_external_evidence,
    check_theorem,
    rejudge_theorem,
)
from tpcheck.kernel.proof import (
    Context,
    Crosschecks,
    Goal,
    MontecarloSettings,
    MpmathSettings,
    Parameter,
    RuleSettings,
    Step,
    Theorem,
    WitnessSettings,
)
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
    "DEFAULT_BUDGET", "DEFAULT_WITNESS_BUDGET", "REGISTRY", "Context", "Crosschecks", "Evidence",
    "Goal", "Judgement", "MontecarloSettings", "MpmathSettings", "Options", "Parameter", "Rule",
    "RuleSettings", "Step", "StepResult", "Theorem", "TheoremResult", "Verdict", "Witness",
    "WitnessSettings", "apply_external_evidence", "check_theorem", "lookup", "rejudge_theorem",
    "reproved_all", "reproved_by", "rule", "verdict_label", "weakest",
]
