"""Independent witnesses of exact judgements: mpmath at high precision and Monte-Carlo."""

from tpcheck.kernel import Witness
from tpcheck.witness.montecarlo import montecarlo_witness
from tpcheck.witness.precision import mpmath_witness

DEFAULT_WITNESSES = [Witness("mpmath", mpmath_witness), Witness("montecarlo", montecarlo_witness)]

__all__ = ["DEFAULT_WITNESSES", "montecarlo_witness", "mpmath_witness"]
