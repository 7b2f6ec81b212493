"""DfE Common Transfer File (CTF 25) to roster sync rows.

A CTF carries pupils leaving one school for another: ``CTfile/Header`` says who sent it and
when, ``CTfile/CTFpupilData/Pupil`` holds each pupil. Pupils are keyed by UPN (a CTF has no
MIS id). Values are passed through as written, so the sync's row validation reports a bad UPN
or year group against the row's index; only an unreadable file raises ``FileRejected``.
See docs/oneroster-mapping.md for the element-by-element mapping.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any
from xml.etree.ElementTree import Element

from app.domain.calendar import AcademicYear
from app.domain.errors import DomainError
from app.domain.schools import check_urn
from app.importers.errors import FileRejected
from app.importers.roster import ImportedRoster
from app.importers.safety import parse_xml

CTF_VERSION = 25

# First-language codes (DfE language list) that say the pupil's first language is English,
# or that nobody knows: "NOT" obtained, "REF" refused.
_ENGLISH = frozenset({"ENG", "ENB"})
_LANGUAGE_UNKNOWN = frozenset({"NOT", "REF"})

# Elements of the CTF 25 layout, by parent, that this importer reads or knowingly leaves out
# (see the mapping doc). Anything else is counted as unknown in a warning, never fatal.
_KNOWN: dict[str, frozenset[str]] = {
    "CTfile": frozenset({"Header", "CTFpupilData"}),
    "CTFpupilData": frozenset({"Pupil"}),
    "Header": frozenset(
        {
            "DocumentName",
            "CTFversion",
            "DateTime",
            "DocumentQualifier",
            "DataQualifier",
            "DataDescriptor",
            "SupplierID",
            "SourceSchool",
            "DestSchool",
            "Suppinfo",
        }
    ),
    "Pupil": frozenset(
        {
            "ApplicationReference",
            "UPN",
            "UniqueLearnerNumber",
            "UCI",
            "Surname",
            "Forename",
            "DOB",
            "Sex",
            "Gender",
            "BasicDetails",
            "LookedAfter",
            "SENhistory",
            "Admissions",
            "Address",
            "Phones",
            "Email",
            "Contacts",
            "Attendance",
            "StageAssessments",
            "SchoolHistory",
            "FSMhistory",
            "NAWdetails",
            "PupilPremium",
        }
    ),
    "BasicDetails": frozenset(
        {
            "FormerUPN",
            "PreferredSurname",
            "FormerSurname",
            "PreferredForename",
            "MiddleNames",
            "NCyearActual",
            "Ethnicity",
            "EthnicitySource",
            "Languages",
            "MedicalFlag",
            "Disabilities",
            "EnrolStatus",
            "PupilPremium",
        }
    ),
}


def parse_ctf(data: bytes, *, filename: str = "upload.xml") -> ImportedRoster:
    """Read a CTF into roster sync rows; raise ``FileRejected`` if it is not a readable CTF."""
    root = parse_xml(data, filename=filename)
    if root.tag != "CTfile":
        raise FileRejected(
            filename, root.tag, "not a Common Transfer File: the root element must be CTfile"
        )
    header = root.find("Header")
    if header is None:
        raise FileRejected(filename, "CTfile/Header", "missing element")
    version = _text(header, "CTFversion")
    if version is None:
        raise FileRejected(filename, "CTfile/Header/CTFversion", "missing element")

    notes = _Notes()
    if version.partition(".")[0] != str(CTF_VERSION):
        notes.warnings.append(f"CTF version {version}: read with the CTF {CTF_VERSION} layout")
    notes.check_known(root)
    notes.check_known(header)

    made_on = _date(_text(header, "DateTime"))
    source = header.find("SourceSchool")
    dest = header.find("DestSchool")
    source_urn = _text(source, "URN")
    dest_urn = _text(dest, "URN")

    pupils: list[dict[str, Any]] = []
    pupil_data = root.find("CTFpupilData")
    if pupil_data is None:
        notes.warnings.append("no CTFpupilData: the file has no pupils")
    else:
        notes.check_known(pupil_data)
        for element in pupil_data.iterfind("Pupil"):
            pupils.append(_pupil(element, made_on=made_on, dest_urn=dest_urn, notes=notes))

    return ImportedRoster(
        kind="ctf",
        source=_source_name(source, source_urn),
        school_urns=_urns([dest_urn, source_urn], notes),
        academic_year=_academic_year(_text(source, "AcademicYear"), made_on, notes),
        classes=[],
        pupils=pupils,
        warnings=notes.summary(),
    )


class _Notes:
    """Things worth telling the uploader, gathered as counts so warnings stay short."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.unknown: Counter[str] = Counter()
        self.unreadable_fsm_dates = 0

    def check_known(self, parent: Element) -> None:
        known = _KNOWN[parent.tag]
        for child in parent:
            if child.tag not in known:
                self.unknown[f"{parent.tag}/{child.tag}"] += 1

    def summary(self) -> list[str]:
        warnings = list(self.warnings)
        if self.unknown:
            total = sum(self.unknown.values())
            named = ", ".join(f"{path} ({count})" for path, count in self.unknown.most_common(5))
            more = len(self.unknown) - 5
            tail = f" and {more} more kinds" if more > 0 else ""
            warnings.append(f"ignored {total} unknown elements: {named}{tail}")
        if self.unreadable_fsm_dates:
            warnings.append(
                f"ignored {self.unreadable_fsm_dates} FSM periods with unreadable dates"
            )
        return warnings


def _pupil(
    element: Element, *, made_on: date | None, dest_urn: str | None, notes: _Notes
) -> dict[str, Any]:
    notes.check_known(element)
    row: dict[str, Any] = {}
    _put(row, "upn", _text(element, "UPN"))
    _put(row, "legal_surname", _text(element, "Surname"))
    _put(row, "legal_forename", _text(element, "Forename"))
    _put(row, "date_of_birth", _text(element, "DOB"))
    _put(row, "sex", _text(element, "Sex") or _text(element, "Gender"))

    basic = element.find("BasicDetails")
    if basic is not None:
        notes.check_known(basic)
        _put(row, "preferred_surname", _text(basic, "PreferredSurname"))
        _put(row, "preferred_forename", _text(basic, "PreferredForename"))
        _put(row, "year_group", _text(basic, "NCyearActual"))
        _put(row, "ethnicity", _text(basic, "Ethnicity"))
        _put(row, "eal", _eal(basic))
    premium = _text(element, "PupilPremium") or _text(basic, "PupilPremium")
    _put(row, "pupil_premium", _flag(premium))

    fsm_history = element.find("FSMhistory")
    if fsm_history is not None:
        row["fsm"] = any(
            _fsm_current(instance, made_on, notes)
            for instance in fsm_history.iterfind("FSMinstance")
        )
    _put(row, "sen_status", _sen_status(element))
    looked_after = element.find("LookedAfter")
    if looked_after is not None:
        _put(row, "looked_after", _flag(_text(looked_after, "InCare")))

    assessments = element.find("StageAssessments")
    if assessments is not None:
        row["stage_assessments"] = [
            _assessment(key_stage, item)
            for key_stage in assessments.iterfind("KeyStage")
            for item in key_stage.iterfind("StageAssessment")
        ]
    _put(row, "school_urn", dest_urn)
    return row


def _eal(basic: Element) -> bool | None:
    """English as an additional language, from the first language ("F" type) if stated."""
    for language in basic.iterfind("Languages/Type"):
        if (_text(language, "LanguageType") or "").upper() != "F":
            continue
        code = (_text(language, "Language") or "").upper()
        if not code or code in _LANGUAGE_UNKNOWN:
            return None
        return code not in _ENGLISH
    return None


def _fsm_current(instance: Element, made_on: date | None, notes: _Notes) -> bool:
    """Whether an FSM period covers the day the CTF was made (or is open, if it has no date).

    An unreadable date is not a reason to drop the pupil: the period is left out and counted.
    """
    start_text, end_text = _text(instance, "FSMstartDate"), _text(instance, "FSMendDate")
    start, end = _date(start_text), _date(end_text)
    if (start_text and start is None) or (end_text and end is None):
        notes.unreadable_fsm_dates += 1
        return False
    if made_on is None:
        return end is None
    return (start is None or start <= made_on) and (end is None or end >= made_on)


def _sen_status(element: Element) -> str | None:
    """The provision (N, K or E) of the latest SEN record by start date; undated records
    count as the oldest, and ties go to the later one in the file."""
    records = list(element.iterfind("SENhistory/SEN"))
    if not records:
        return None
    _, _, latest = max(
        (_date(_text(record, "StartDate")) or date.min, index, record)
        for index, record in enumerate(records)
    )
    return _text(latest, "SENprovision")


def _assessment(key_stage: Element, item: Element) -> dict[str, Any]:
    result: dict[str, Any] = {}
    _put(result, "stage", _text(key_stage, "Stage"))
    _put(result, "subject", _text(item, "Subject"))
    _put(result, "method", _text(item, "Method"))
    _put(result, "component", _text(item, "Component"))
    _put(result, "result", _text(item, "Result"))
    _put(result, "result_qualifier", _text(item, "ResultQualifier"))
    _put(result, "year", _number(_text(item, "Year")))
    _put(result, "result_on", _text(item, "ResultDate"))
    return result


def _source_name(source: Element | None, urn: str | None) -> str | None:
    lea, estab = _text(source, "LEA"), _text(source, "Estab")
    if lea and estab:
        return f"{lea}/{estab}"
    return urn


def _urns(candidates: list[str | None], notes: _Notes) -> list[str]:
    urns: list[str] = []
    for candidate in candidates:
        if candidate is None or candidate in urns:
            continue
        try:
            urns.append(check_urn(candidate))
        except DomainError:
            notes.warnings.append(f"{candidate!r} in the header is not a URN")
    return urns


def _academic_year(label: str | None, made_on: date | None, notes: _Notes) -> int | None:
    """The year the data describes: SourceSchool/AcademicYear ("2025/26" or "2025") if given,
    else the year the CTF was made in, which is the year its NCyearActual values belong to."""
    if label is not None:
        try:
            return AcademicYear.parse(label).start_year
        except DomainError:
            notes.warnings.append(f"SourceSchool/AcademicYear {label!r} is not a school year")
    if made_on is not None:
        try:
            return AcademicYear.containing(made_on).start_year
        except DomainError:
            return None
    return None


def _text(parent: Element | None, path: str) -> str | None:
    """The stripped text of a child element, None when absent or blank."""
    if parent is None:
        return None
    element = parent.find(path)
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _put(row: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        row[key] = value


def _flag(text: str | None) -> bool | str | None:
    """A CTF boolean ("true"/"false", "1"/"0"); anything else goes through as written so the
    row's validation names it."""
    if text is None:
        return None
    lowered = text.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    return text


def _number(text: str | None) -> int | str | None:
    """A whole number, or the text as written for the row's validation to name."""
    if text is not None and text.isascii() and text.isdigit():
        return int(text)
    return text


def _date(text: str | None) -> date | None:
    """A date from "YYYY-MM-DD", or the date part of "YYYY-MM-DDThh:mm:ss"."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None
