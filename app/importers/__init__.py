"""Roster file importers: DfE Common Transfer Files and OneRoster 1.2 CSV zips.

Pure parsers, no database: each turns an uploaded file into an ``ImportedRoster``
(app/importers/roster.py) that the roster sync stores whatever its source. A file that cannot
be read at all raises ``FileRejected``. The package re-exports them; the parsers themselves
import from the modules, never from here, so importing the package is not a cycle.
"""

from __future__ import annotations

from app.importers.ctf import parse_ctf
from app.importers.errors import FileRejected
from app.importers.oneroster import parse_oneroster
from app.importers.roster import ImportedRoster
from app.importers.safety import ZipLimits

__all__ = ["FileRejected", "ImportedRoster", "ZipLimits", "parse_ctf", "parse_oneroster"]
