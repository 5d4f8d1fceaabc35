"""The exact-expectation layer, between the engines and the rules: normal forms of expressions
with expectations (:mod:`.forms`), exact evaluators of expectations (:mod:`.evaluators`: Gaussian
moments and mgf, Wick, Stein, independence, iid moments and moments of iid sums), trace moments
of the random-matrix ensembles (:mod:`.traces`) and tensor-program averages (:mod:`.programs`):
pure functions that know nothing of proofs or rules."""
