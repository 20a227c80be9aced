"""The one place for StreamRec's paths, column names and tunable parameters.

Split by what they are: :mod:`src.config.paths` (workspace folders/files, raw input names),
:mod:`src.config.columns` (column names), :mod:`src.config.params` (every tunable number).
This package re-exports all three so stages can write ``from src.config import PATHS, ID_COL``.
Paths hang off a :class:`Paths` value so a test or a server can point a whole stage at another
workspace (``Paths.from_root(tmp)``, or ``STREAMREC_HOME=/some/dir``) without touching the repo.
"""

from src.config.columns import *  # noqa: F401,F403
from src.config.params import *  # noqa: F401,F403
from src.config.paths import *  # noqa: F401,F403
from src.config.paths import Paths  # noqa: F401  (explicit for readers and linters)
