"""Rule modules; importing this package registers every rule with the kernel."""

from tpcheck.rules import (
    abc,
    algebra,
    distribution,
    enclosure,
    evaluation,
    expectation,
    experiments,
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

__all__ = ["abc", "algebra", "distribution", "enclosure", "evaluation", "expectation", "experiments",
           "gaussian", "independence", "induction", "inequalities", "limit", "matrices", "networks",
           "numeric", "power_iteration", "sums", "tensor_programs"]
