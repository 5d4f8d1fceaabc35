"""Independent witnesses of exact judgements: mpmath at high precision and Monte-Carlo."""

from tpcheck.witness.montecarlo import montecarlo_witness
from tpcheck.witness.precision import mpmath_witness

DEFAULT_WITNESSES = [mpmath_witness, montecarlo_witness]

__all__ = ["DEFAULT_WITNESSES", "montecarlo_witness", "mpmath_witness"]

# The evidence kind recorded when a witness does not finish within its budget.
mpmath_witness.kind = "mpmath"  # type: ignore[attr-defined]
montecarlo_witness.kind = "montecarlo"  # type: ignore[attr-defined]
