"""Reading feedback exports, deciding which column means what, and writing tables back.

Three public entry points:

- :func:`read_feedback` turns a file (CSV/TSV/TXT, XLSX, Parquet, JSON Lines or a JSON array,
  including Qualtrics and SurveyMonkey header layouts) into one tidy table: one header row, one
  DataFrame row per response.
- :func:`detect_columns` guesses (or takes from the user) the free-text, score, date, segment and
  id columns and returns a :class:`ColumnMap`; :func:`parse_scores` turns a score column into
  numbers with a per-row "invalid" flag.
- :func:`write_table` writes a table as CSV (formula injection neutralised), Parquet, JSON Lines
  or XLSX.

Every problem with a user's file raises :class:`~cxnlp.errors.InputError` with a message that
says what was found, what was expected and how to fix it; problems that were recovered from are
reported with a :class:`ReadWarning`.

The modules, in the order a file goes through them:

- ``read``: :func:`read_feedback`; ``stream``: :func:`iter_feedback`, the same piece by piece;
- ``sniff``: what a file holds; ``decode``: its bytes as text;
- ``delimited``, ``titles``, ``xlsx``, ``parquet_json``: the readers of each format;
- ``layouts``: Qualtrics and SurveyMonkey header rows, and the final table;
- ``columns`` (:func:`detect_columns`), going by ``profile`` and ``guess``;
- ``scores``: :func:`parse_scores`; ``write``: :func:`write_table` and the other writers.

Limits such as ``xlsx.XLSX_MAX_UNCOMPRESSED_BYTES``, ``stream.PIECE_BYTES`` and
``write.ROW_GROUP_ROWS`` live in their own module and are read when used. They can still be
read and set as ``cxnlp.io.<NAME>``, as before ``cxnlp.io`` became a package: the package
forwards both to the module that reads them.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType

from ..config import ScoreKind
from ..errors import ReadWarning
from .columns import ColumnMap, detect_columns
from .columns import detect_link_columns as detect_link_columns
from .read import file_not_found as file_not_found
from .read import read_feedback
from .read import require_file as require_file
from .scores import SCORE_KINDS, SCORE_RANGES, parse_scores
from .stream import iter_feedback as iter_feedback
from .write import flatten_lists as flatten_lists
from .write import write_table
from .write import write_table_pieces as write_table_pieces

# Names imported "as" themselves are re-exported outside __all__: other cxnlp modules use them
# as cxnlp.io.<name>.
__all__ = [
    "SCORE_KINDS",
    "SCORE_RANGES",
    "ColumnMap",
    "ReadWarning",
    "ScoreKind",
    "detect_columns",
    "parse_scores",
    "read_feedback",
    "write_table",
]


#: Limits that were attributes of ``cxnlp.io`` before it became a package, and their module.
_LIMITS = {"PIECE_BYTES": "stream", "WRITE_ROWS": "write", "ROW_GROUP_ROWS": "write",
           "XLSX_MAX_UNCOMPRESSED_BYTES": "xlsx", "XLSX_MAX_RATIO": "xlsx",
           "XLSX_RATIO_MIN_BYTES": "xlsx"}  # fmt: skip


def _forwarded(name: str) -> property:
    """``cxnlp.io.<name>`` read and set on the module that reads it (a property, so that
    ``monkeypatch.setattr`` restores it as it found it)."""
    module = f"{__name__}.{_LIMITS[name]}"
    return property(lambda _: getattr(import_module(module), name),
                    lambda _, value: setattr(import_module(module), name, value))


# cxnlp.io is this module with the limits as properties of its class: setting one on the
# package alone would otherwise be silently ignored
sys.modules[__name__].__class__ = type(
    "_Package", (ModuleType,), {name: _forwarded(name) for name in _LIMITS})
