"""Mathematics engines: pure functions that know nothing of proofs."""
