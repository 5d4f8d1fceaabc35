"""Rule modules; importing this package registers every rule with the kernel."""

from tpcheck.rules import algebra, evaluation, expectation, limit

__all__ = ["algebra", "evaluation", "expectation", "limit"]
