"""tpcheck: a proof checker for large-N limits.

``tpcheck.check(path)`` checks proof files and returns a :class:`Report`.
"""

from tpcheck.api import check, check_text
from tpcheck.errors import TpcheckError
from tpcheck.kernel import Options, Verdict
from tpcheck.report import Report
from tpcheck.version import __version__

__all__ = ["Options", "Report", "TpcheckError", "Verdict", "__version__", "check", "check_text"]
