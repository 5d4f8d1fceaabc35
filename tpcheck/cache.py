"""The verdict cache: a theorem checked before, unchanged, with the same code and options, is
not checked again (``.tpcheck_cache/`` in the current folder, like pytest's cache).

A key is the SHA-256 of everything a theorem's check reads: the theorem's own text at its
place in the file (the file with the other theorems' text cut out, their line breaks kept, so
the lines reported stay right), its file's path, the digest of every file of the tpcheck
package (developers edit code without bumping the version), the versions of Python, sympy,
mpmath, python-flint, numpy and the platform, and every field of the run's
:class:`~tpcheck.kernel.Options`. Checking a theorem reads nothing else: a theorem has no
file-level definitions or imports, citations are names only (the bibliography is read by
``tpcheck latex`` alone), and :func:`tpcheck.api.check` checks each theorem on exactly the
text the key covers. Should the language gain declarations outside theorems, they must be
kept in :func:`theorem_source`. Rules registered at run time, from outside the package, turn
the cache off; code patched in memory (a test's monkeypatch) is not seen: turn it off there.

Proof folders are untrusted input, so a folder could ship a ``.tpcheck_cache`` that claims
PROVED for a wrong theorem. An entry is believed only when its HMAC-SHA256 verifies under a
key kept outside the project (``$TPCHECK_CACHE_KEY``, else ``$XDG_CACHE_HOME/tpcheck/key``,
else ``~/.cache/tpcheck/key``; made with mode 0600 on first use; refused when it is not a
regular file of ours that only we can read, or when it lies in the cache's folder). An
entry whose signature, format, key or shape does not verify, or that cannot be read, is
ignored (the theorem is checked again and the entry rewritten). Entries are JSON, never
pickles, read with a size limit and without following links.

Only results that a fresh check would give again are stored: passing and REFUTED theorems
without internal disagreements, checked while the run's budget could not have shortened any
step's. UNDECIDED and DISPUTED theorems (a budget that ran out, a contradicting witness) and
errors are checked every time; so is ``--coq``'s re-check, which runs after the cache.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import inspect
import json
import os
import platform
import secrets
import shutil
import stat
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from tpcheck.kernel import REGISTRY, Evidence, Options, Rule, StepResult, TheoremResult, Verdict

#: The cache folder, relative to the current folder.
CACHE_DIR = ".tpcheck_cache"
#: The environment variable naming the key file (for tests and shared machines).
KEY_ENV = "TPCHECK_CACHE_KEY"
FORMAT = 1
KEY_BYTES = 32
#: Bytes of the largest entry read; a hostile folder's huge file is ignored unread.
MAX_ENTRY_BYTES = 4_000_000
_PACKAGE = Path(__file__).resolve().parent
_LIBRARIES = ("sympy", "mpmath", "python-flint", "numpy")
_STORED_VERDICTS = frozenset({Verdict.PROVED, Verdict.VERIFIED, Verdict.PARTIAL,
                              Verdict.CORROBORATED, Verdict.REFUTED})


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      default=str).encode("ascii")


def _ordered(value: Any) -> bytes:
    """JSON keeping the order of keys, which the report's JSON shows."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def code_digest(package: Path = _PACKAGE) -> str:
    """The SHA-256 of every file of the tpcheck package (names and contents), caches aside."""
    h = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file() or path.suffix == ".pyc":
            continue
        h.update(path.relative_to(package).as_posix().encode("utf-8", "surrogateescape") + b"\0")
        h.update(_sha256(path.read_bytes()).encode("ascii"))
    return h.hexdigest()


def _library_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def environment_digest() -> str:
    """The digest of the code and the platform a verdict comes from: tpcheck's files, Python,
    the mathematics libraries and the machine's architecture."""
    parts = {"code": code_digest(), "python": sys.version, "implementation": sys.implementation.name,
             "platform": [sys.platform, platform.machine()],
             "libraries": {name: _library_version(name) for name in _LIBRARIES}}
    return _sha256(_canonical(parts))


def _defined_in_package(rule: Rule) -> bool:
    try:
        source = inspect.getsourcefile(rule.verifier)
    except TypeError:
        return False
    return source is not None and Path(source).resolve().is_relative_to(_PACKAGE)


def rules_digest(rules: dict[str, Rule] | None = None) -> str | None:
    """The digest of the registered rules (names, verifiers, relations), whose code the
    package's digest covers; None when a verifier is defined outside the package (a rule
    registered at run time, whose code no key could cover: no result is cached then)."""
    rules = REGISTRY if rules is None else rules
    if not all(_defined_in_package(r) for r in rules.values()):
        return None
    return _sha256(_canonical(sorted(
        [name, r.verifier.__module__, r.verifier.__qualname__, sorted(r.relations), r.tolerances]
        for name, r in rules.items())))


def theorem_source(text: str, starts: list[tuple[int, int]], index: int) -> str:
    """The text a theorem's check may read: ``text`` with the other theorems' text cut out,
    their line breaks kept (so a theorem keeps its line numbers in the key). ``starts`` are
    the theorems' (line, col) in file order; a theorem runs to the next one's start. When a
    start cannot be placed, the whole text (a key that changes with any edit of the file)."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    cuts = []
    for line, col in starts:
        if not (1 <= line <= len(lines) and 1 <= col <= len(lines[line - 1]) + 1):
            return text
        cuts.append(offsets[line - 1] + col - 1)
    if cuts != sorted(cuts):
        return text
    cuts.append(len(text))
    pieces = [text[: cuts[0]]]
    for i in range(len(starts)):
        span = text[cuts[i]: cuts[i + 1]]
        pieces.append(span if i == index else "\n" * span.count("\n"))
    return "".join(pieces)


def options_fields(options: Options) -> dict[str, Any]:
    """Every field of the run's options, as the key records them."""
    return {name: repr(value) for name, value in dataclasses.asdict(options).items()}


def theorem_to_json(result: TheoremResult) -> dict[str, Any]:
    """A theorem's result as plain JSON data (what an entry stores)."""
    data = json.loads(json.dumps(dataclasses.asdict(result), default=str))
    if not isinstance(data, dict):
        raise TypeError("a theorem result must be a dataclass")
    return data


def theorem_from_json(data: dict[str, Any]) -> TheoremResult:
    """The theorem's result an entry stores; raises ValueError, TypeError or KeyError on an
    entry of the wrong shape."""
    fields = {f.name for f in dataclasses.fields(TheoremResult)}
    step_fields = {f.name for f in dataclasses.fields(StepResult)}
    if not isinstance(data, dict) or set(data) != fields:
        raise ValueError("not a theorem result")
    steps = []
    for s in data["steps"]:
        if not isinstance(s, dict) or set(s) != step_fields:
            raise ValueError("not a step result")
        evidence = [Evidence(**e) for e in s["evidence"]]
        judged = None if s["judged"] is None else Verdict(s["judged"])
        steps.append(StepResult(**{**s, "verdict": Verdict(s["verdict"]), "judged": judged,
                                   "evidence": evidence}))
    return TheoremResult(**{**data, "verdict": Verdict(data["verdict"]), "steps": steps})


def storable(result: TheoremResult) -> bool:
    """Whether a fresh check would give ``result`` again, so that the cache may keep it: a
    passing or REFUTED verdict without internal disagreements (UNDECIDED may be a budget that
    ran out, DISPUTED a witness that contradicted a rule: both are checked every time)."""
    return result.verdict in _STORED_VERDICTS and not result.disagreements


def _owned_private_file(st: os.stat_result) -> bool:
    return (stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid()
            and not st.st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def default_key_path() -> Path:
    """Where the signing key lives: ``$TPCHECK_CACHE_KEY``, else under ``$XDG_CACHE_HOME``
    or ``~/.cache``: outside any project folder."""
    explicit = os.environ.get(KEY_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tpcheck" / "key"


def load_key(path: Path) -> bytes | None:
    """The signing key at ``path``, made (mode 0600, in a folder of mode 0700) when there is
    none; None when it cannot be made or is not a private regular file of this user."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(KEY_BYTES))
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            if not _owned_private_file(os.fstat(fd)):
                return None
            key = os.read(fd, KEY_BYTES + 1)
        finally:
            os.close(fd)
    except OSError:
        return None
    return key if len(key) == KEY_BYTES else None


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (OSError, ValueError, RuntimeError):
        return False
    return True


class VerdictCache:
    """Signed verdicts of theorems, one JSON file an entry under ``folder``.

    Unusable (every lookup a miss, nothing written) when the key cannot be had or lies in
    ``folder``, or when ``folder`` is a link or not a folder of this user."""

    def __init__(self, folder: str | Path = CACHE_DIR, key_path: str | Path | None = None) -> None:
        self.folder = Path(folder)
        key_file = Path(key_path) if key_path is not None else default_key_path()
        self.key = None if _inside(key_file, self.folder) else load_key(key_file)
        self._environment: str | None = None
        self.hits = self.misses = 0

    @property
    def usable(self) -> bool:
        """Whether entries can be read and written."""
        return self.key is not None

    def entry_key(self, path: str, name: str, source: str, options: Options) -> str | None:
        """The key of theorem ``name`` of file ``path``, whose check reads ``source`` (see
        :func:`theorem_source`), under ``options`` with this code, these rules and this
        platform; None when the cache is unusable or a rule's code is not the package's."""
        if not self.usable:
            return None
        rules = rules_digest()
        if rules is None:
            return None
        if self._environment is None:
            self._environment = environment_digest()
        return _sha256(_canonical({"format": FORMAT, "environment": self._environment,
                                   "rules": rules, "options": options_fields(options),
                                   "path": path, "name": name,
                                   "source": _sha256(source.encode("utf-8", "surrogatepass"))}))

    def _sign(self, key: str, payload: Any) -> str:
        assert self.key is not None
        message = _canonical({"format": FORMAT, "key": key, "payload": payload})
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def _entries(self) -> Path | None:
        """The folder of entries, made when missing; None when it is not ours to write."""
        entries = self.folder / f"v{FORMAT}"
        try:
            for folder in (self.folder, entries):
                if not folder.exists():
                    folder.mkdir(mode=0o700)
                    if folder == self.folder:
                        (folder / ".gitignore").write_text("# made by tpcheck\n*\n")
                        (folder / "CACHEDIR.TAG").write_text(
                            "Signature: 8a477f597d28d172789f06886806bc55\n"
                            "# tpcheck's verdict cache (https://bford.info/cachedir/)\n")
                st = os.lstat(folder)
                if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
                    return None
        except OSError:
            return None
        return entries

    def get(self, key: str) -> TheoremResult | None:
        """The result stored under ``key`` if its entry verifies, else None."""
        result = self._read(key) if self.usable else None
        if result is None:
            self.misses += 1
        else:
            self.hits += 1
        return result

    def _read(self, key: str) -> TheoremResult | None:
        entries = self.folder / f"v{FORMAT}"
        try:
            if os.path.islink(self.folder) or os.path.islink(entries):
                return None
            fd = os.open(entries / f"{key}.json", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY_BYTES:
                return None
            raw = os.read(fd, MAX_ENTRY_BYTES + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        try:
            entry = json.loads(raw.decode("utf-8"))
            if (not isinstance(entry, dict) or set(entry) != {"format", "key", "payload", "hmac"}
                    or entry["format"] != FORMAT or entry["key"] != key
                    or not isinstance(entry["hmac"], str)
                    or not hmac.compare_digest(entry["hmac"], self._sign(key, entry["payload"]))):
                return None
            return theorem_from_json(entry["payload"])
        except (ValueError, TypeError, KeyError, RecursionError):
            return None

    def put(self, key: str, result: TheoremResult) -> None:
        """Store ``result`` under ``key`` (atomically) when it is :func:`storable` and reads
        back to the same JSON; failures to write are ignored (a cache never stops a check)."""
        if not self.usable or not storable(result):
            return
        try:
            payload = theorem_to_json(result)
            if _ordered(theorem_to_json(theorem_from_json(payload))) != _ordered(payload):
                return
        except (ValueError, TypeError, KeyError):
            return
        entries = self._entries()
        if entries is None:
            return
        entry = {"format": FORMAT, "key": key, "payload": payload, "hmac": self._sign(key, payload)}
        tmp = None
        try:
            fd, tmp = tempfile.mkstemp(dir=entries, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "wb") as f:
                f.write(_ordered(entry))
            os.replace(tmp, entries / f"{key}.json")
            tmp = None
        except OSError:
            pass
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def clear_cache(folder: str | Path = CACHE_DIR) -> None:
    """Remove the cache folder (a link there is removed, not followed)."""
    folder = Path(folder)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        folder.unlink()
    elif folder.is_dir():
        shutil.rmtree(folder)
