"""Starter content shipped with Markbook.

``national_curriculum/`` holds the statutory objectives of the national curriculum for England
at key stages 1 and 2 (English, mathematics and science), one CSV per subject in the columns
``parse_objectives_csv`` reads. Its README carries the source and the Open Government Licence
v3.0 attribution, which must travel with the text wherever it is shipped or shown.
"""

from __future__ import annotations

from pathlib import Path

NATIONAL_CURRICULUM_DIR = Path(__file__).resolve().parent / "national_curriculum"

_NATIONAL_CURRICULUM_SUBJECTS = ("english", "mathematics", "science")

# The attribution the Open Government Licence v3.0 asks for, for showing next to the text.
NATIONAL_CURRICULUM_ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0."
)


def national_curriculum_files() -> dict[str, Path]:
    """The shipped national curriculum CSVs by subject file stem (english, mathematics,
    science). The licence and source are in ``NATIONAL_CURRICULUM_DIR / "README.md"``."""
    return {
        subject: NATIONAL_CURRICULUM_DIR / f"{subject}.csv"
        for subject in _NATIONAL_CURRICULUM_SUBJECTS
    }
