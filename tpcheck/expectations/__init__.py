"""The exact-expectation layer, between the engines and the rules: normal forms of expressions
with expectations (:mod:`.forms`) and exact evaluators of expectations (:mod:`.evaluators`),
pure functions that know nothing of proofs or rules."""
