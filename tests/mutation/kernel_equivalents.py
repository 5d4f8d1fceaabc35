"""Mutants of the kernel (tpcheck/kernel/) that no test can tell from the original, with the
reason: (function, the line mutmut removes, the lines it may put instead, why)."""

REAPED = "the child has answered, died or been killed, so it is exiting: the wait ends as soon as it has"
GROUPS = [
    ("check_step", 'Verdict.UNDECIDED, "")', ['Verdict.UNDECIDED, None)', 'Verdict.UNDECIDED, "XXXX")'],
     "the initial detail is overwritten on every path that returns the result"),
    ("check_step", 'reason = safe(out.reason.strip()).splitlines() or [""]',
     ['reason = safe(out.reason.strip()).splitlines() or ["XXXX"]'],
     "a failed outcome always has a reason (an exception's type name at least)"),
    ("_validated",
     '(e.kind == "mpmath" and e.ok and int(e.data.get("digits", 0)) >= FLOAT_DIGITS_FLOOR)',
     ['(e.kind == "mpmath" and e.ok and int(e.data.get("digits", 1)) >= FLOAT_DIGITS_FLOOR)'],
     "a missing digit count read as 0 or as 1 is below the floor of 15 either way"),
    ("cpu_limits",
     "new_soft = min(cpu, new_hard) if soft == resource.RLIM_INFINITY else min(cpu, soft, new_hard)",
     ["new_soft = min(cpu, new_hard) if soft == resource.RLIM_INFINITY else min(cpu, soft, )"],
     "a soft limit never exceeds its hard one and cpu <= cpu + 2, so min(cpu, soft) is already "
     "at most min(cpu + 2, hard)"),
    ("run_bounded", 'ctx = mp.get_context("fork")', ["ctx = mp.get_context(None)"],
     "fork is the default start method on Linux, where the CPU budgets apply"),
    ("run_bounded", "parent, child = ctx.Pipe(duplex=False)",
     ["parent, child = ctx.Pipe(duplex=None)", "parent, child = ctx.Pipe(duplex=True)"],
     "a two-way pipe used one way"),
    ("run_bounded",
     "proc = ctx.Process(target=_child, args=(child, fn, args, memory, seconds), daemon=True)",
     ["proc = ctx.Process(target=_child, args=(child, fn, args, memory, seconds), daemon=None)",
      "proc = ctx.Process(target=_child, args=(child, fn, args, memory, seconds), daemon=False)",
      "proc = ctx.Process(target=_child, args=(child, fn, args, memory, seconds), )"],
     "the finally block kills and reaps the child on every path; daemon matters only at exit"),
    ("run_bounded", "proc.join(1)", ["proc.join(None)", "proc.join(2)"], REAPED),
    ("run_bounded", "proc.join(10)", ["proc.join(None)", "proc.join(11)"], REAPED),
    ("run_bounded", "proc.join(10)  # reaped, its CPU time counts in the run's (RUSAGE_CHILDREN)",
     ["proc.join(None)  # reaped, its CPU time counts in the run's (RUSAGE_CHILDREN)",
      "proc.join(11)  # reaped, its CPU time counts in the run's (RUSAGE_CHILDREN)"], REAPED),
    ("run_bounded", "if proc.pid and proc.exitcode is None:",
     ["if proc.pid or proc.exitcode is None:", "if proc.pid and proc.exitcode is not None:"],
     "the child was joined just before, so this reaps nothing; reaping a reaped child raises "
     "ChildProcessError, which is caught"),
    ("run_bounded", "os.waitpid(proc.pid, os.WNOHANG)",
     ["os.waitpid(None, os.WNOHANG)", "os.waitpid(proc.pid, None)", "os.waitpid(os.WNOHANG)",
      "os.waitpid(proc.pid, )"],
     "not reached: the child was joined just before, so its exit code is known"),
]
