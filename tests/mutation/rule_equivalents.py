"""Mutants of the rules (tpcheck/rules/) that no test can tell from the original, with the
reason: (function, the line mutmut removes, the lines it may put instead, why)."""

GROUPS: list[tuple[str, str, list[str], str]] = []
