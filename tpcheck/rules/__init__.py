"""Rule modules; importing this package registers every rule with the kernel."""

from tpcheck.rules import (
    algebra,
    enclosure,
    evaluation,
    expectation,
    gaussian,
    independence,
    induction,
    inequalities,
    limit,
    matrices,
    networks,
    numeric,
    power_iteration,
    sums,
    tensor_programs,
)

__all__ = ["algebra", "enclosure", "evaluation", "expectation", "gaussian", "independence", "induction",
           "inequalities", "limit", "matrices", "networks", "numeric", "power_iteration", "sums",
           "tensor_programs"]
