(* tpcheck's Coq prelude: the counting functions of tpcheck's language over R, and the
   tactics that the exported lemmas use. Everything here is defined or proved; nothing is
   assumed (see docs/coq.md). *)
Require Import Reals Lra Lia ZArith.
Open Scope R_scope.

(* sum(f(i), i = lo..hi) for lo <= hi + 1: f lo + ... + f hi (0 when hi = lo - 1). *)
Fixpoint tp_sum_from (f : nat -> R) (lo cnt : nat) : R :=
  match cnt with O => 0 | S c => f lo + tp_sum_from f (S lo) c end.
Definition tp_sum (lo hi : nat) (f : nat -> R) : R := tp_sum_from f lo (S hi - lo).

(* n!, computed in binary integers (so that 40! is evaluated fast). *)
Fixpoint tp_zfact (n : nat) : Z :=
  match n with O => 1%Z | S p => (Z.of_nat (S p) * tp_zfact p)%Z end.
Definition tp_fact (n : nat) : R := IZR (tp_zfact n).

(* tp_dfm m = (m - 1)!!: 1, 1, 1, 2, 3, 8, 15, ... for m = 0, 1, 2, ... ((-1)!! = 0!! = 1). *)
Fixpoint tp_dfm (m : nat) : R :=
  match m with O => 1 | S O => 1 | S (S p as q) => INR q * tp_dfm p end.

(* binomial(n, k) = n!/(k! (n - k)!) for k <= n (used only where k <= n is shown). *)
Definition tp_binom (n k : nat) : R := tp_fact n / (tp_fact k * tp_fact (n - k)).

(* catalan(n) = binomial(2n, n)/(n + 1). *)
Definition tp_catalan (n : nat) : R := tp_binom (2 * n) n / INR (S n).

(* narayana(n, k) = binomial(n, k) binomial(n, k - 1)/n (used only where 1 <= k <= n). *)
Definition tp_narayana (n k : nat) : R := tp_binom n k * tp_binom n (k - 1) / INR n.

Lemma tp_fact_INR : forall n, tp_fact n = INR (fact n).
Proof.
  intro n; unfold tp_fact; induction n as [|p IH]; [reflexivity|].
  cbn [fact tp_zfact]; rewrite mult_INR, mult_IZR, IH, <- INR_IZR_INZ; reflexivity.
Qed.

Lemma tp_fact_S : forall n, tp_fact (S n) = INR (S n) * tp_fact n.
Proof. intro n; rewrite !tp_fact_INR; cbn [fact]; rewrite mult_INR; reflexivity. Qed.

Lemma tp_fact_neq0 : forall n, tp_fact n <> 0.
Proof. intro n; rewrite tp_fact_INR; apply INR_fact_neq_0. Qed.

Lemma tp_binom_fact : forall n k c, (k + c = n)%nat ->
  tp_binom n k = tp_fact n / (tp_fact k * tp_fact c).
Proof. intros n k c H; unfold tp_binom; replace (n - k)%nat with c by lia; reflexivity. Qed.

(* (2k - 1)!! = (2k)!/(2^k k!) *)
Lemma tp_dfm_even : forall k, tp_dfm (2 * k) = tp_fact (2 * k) / (2 ^ k * tp_fact k).
Proof.
  assert (E : forall k, tp_dfm (2 * k) * (2 ^ k * tp_fact k) = tp_fact (2 * k)).
  { induction k as [|p IH]; [cbn; lra|].
    replace (2 * S p)%nat with (S (S (2 * p))) by lia.
    cbn [tp_dfm pow]; rewrite !tp_fact_S, <- IH, !S_INR, mult_INR; cbn [INR]; ring. }
  intro k; rewrite <- (E k); field; split; [apply tp_fact_neq0 | apply pow_nonzero; lra].
Qed.

(* Side conditions of field: a factor is nonzero. *)
Ltac tp_nonzero :=
  match goal with
  | |- _ /\ _ => split; tp_nonzero
  | |- ?a * ?b <> 0 => apply Rmult_integral_contrapositive_currified; tp_nonzero
  | |- ?a ^ _ <> 0 => apply pow_nonzero; tp_nonzero
  | |- tp_fact _ <> 0 => apply tp_fact_neq0
  | |- sqrt ?x <> 0 => apply Rgt_not_eq, sqrt_lt_R0; tp_positive
  | |- ?a <> 0 => assumption
  | |- ?a <> 0 => apply Rgt_not_eq; tp_positive
  | |- ?a <> 0 => apply Rlt_not_eq; tp_positive
  end
with tp_positive :=
  match goal with
  | |- _ > _ => unfold Rgt; tp_positive
  | |- 0 < ?a * ?b => apply Rmult_lt_0_compat; tp_positive
  | |- 0 < ?a ^ _ => apply pow_lt; tp_positive
  | |- 0 < sqrt ?x => apply sqrt_lt_R0; tp_positive
  | |- _ => nra
  end.

(* Evaluate every integer under IZR that is not yet a literal. *)
Ltac tp_zeval :=
  repeat match goal with
  | |- context [IZR ?z] =>
      lazymatch z with
      | Z0 => fail | Zpos _ => fail | Zneg _ => fail
      | _ => let v := eval vm_compute in z in change z with v
      end
  end.

(* A ground goal: unfold the counting functions, evaluate, and decide in Q by field. *)
Ltac tp_ground :=
  cbv beta iota zeta delta [tp_sum tp_sum_from tp_catalan tp_narayana tp_binom tp_dfm tp_fact
                            Nat.sub Nat.add Nat.mul Nat.pred];
  rewrite ?INR_IZR_INZ; tp_zeval;
  first [ reflexivity | field; tp_nonzero | lra ].

(* Push INR through + and * of naturals. *)
Ltac tp_push := rewrite ?mult_INR, ?plus_INR, ?S_INR; change (INR 0) with 0.
