"""Mutation testing of the proof library: mutants of every theorem, an independent oracle."""
