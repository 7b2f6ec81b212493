"""Sample roster files for tests and benchmarks: DfE CTF XML, OneRoster 1.2 CSV zips, and
hostile files (XML bombs, external entities, zip bombs and tricks).

Pupils are described in Markbook's own terms, as dicts with ``PupilSyncRow`` keys
(``upn``, ``legal_forename``, ``date_of_birth``, ``year_group``, ``fsm``, ...), so a test can
compare what an importer returns with what went in. A key left out of a pupil dict leaves the
matching element or column out of the file. The builders write strings directly rather than
through ElementTree/csv objects per row, so 10,000 pupils take well under a second.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any
from xml.sax.saxutils import escape

from app.domain.pupils import YearGroup, make_upn

DEST_URN = "100001"
SOURCE_URN = "100002"
SOURCE_LEA = "801"
SOURCE_ESTAB = "2000"
ACADEMIC_YEAR = 2025  # start year: 2025/26

FORENAMES = ["Amelia", "Oliver", "Zainab", "Mohammed", "Chloé", "Jack", "Aoife", "Kwame"]
SURNAMES = ["Smith", "O'Brien", "Nowak", "Patel", "Jones", "Okafor", "Lee", "Ahmed-Khan"]
ETHNICITIES = ["WBRI", "WIRI", "WPOL", "AIND", "BAFR", "MWBC", "CHNE", "AOTH"]
YEAR_GROUPS = [group.value for group in YearGroup]


def upn_for(index: int) -> str:
    """A valid, unique permanent UPN for the index-th sample pupil. The LA number moves on
    every 1,000 pupils, because the serial has only three digits."""
    la = 801 + index // 1000
    return make_upn(f"{la:03d}{SOURCE_ESTAB}{ACADEMIC_YEAR % 100:02d}{index % 1000:03d}")


def birth_date_for(year_group: str, index: int) -> str:
    """A birth date that fits the year group in 2025/26 (Year 1 born Sep 2019 - Aug 2020)."""
    start = ACADEMIC_YEAR - 5 - YearGroup(year_group).rank
    return (date(start, 9, 1) + timedelta(days=index * 37 % 365)).isoformat()


def sample_pupils(count: int, *, start: int = 0) -> list[dict[str, Any]]:
    """Pupils with every characteristic a CTF carries, varied from one to the next."""
    pupils = []
    for index in range(start, start + count):
        year_group = YEAR_GROUPS[3 + index % 13]  # Years 1 to 13
        pupil: dict[str, Any] = {
            "external_id": f"stu-{index:05d}",
            "upn": upn_for(index),
            "legal_forename": FORENAMES[index % len(FORENAMES)],
            "legal_surname": SURNAMES[index * 3 % len(SURNAMES)],
            "date_of_birth": birth_date_for(year_group, index),
            "sex": "F" if index % 2 else "M",
            "year_group": year_group,
            "ethnicity": ETHNICITIES[index % len(ETHNICITIES)],
            "fsm": index % 4 == 0,
            "sen_status": "N" if index % 5 else ("K" if index % 10 else "E"),
            "eal": index % 6 == 0,
            "looked_after": index % 50 == 0,
        }
        if index % 7 == 0:
            pupil["preferred_forename"] = "Sam"
        if int(year_group) >= 7:
            pupil["stage_assessments"] = [
                {
                    "stage": "KS2",
                    "subject": subject,
                    "method": "TT",
                    "component": "SS",
                    "result": str(95 + index % 25),
                    "result_qualifier": "SS",
                    "year": 2019 + 13 - int(year_group),
                    "result_on": f"{2019 + 13 - int(year_group)}-07-09",
                }
                for subject in ("MAT", "REA")
            ]
        pupils.append(pupil)
    return pupils


def _pupils(pupils: list[dict[str, Any]] | int) -> list[dict[str, Any]]:
    return sample_pupils(pupils) if isinstance(pupils, int) else pupils


# --- CTF ---------------------------------------------------------------------------------


def _element(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{name}>{escape(str(value))}</{name}>"


def ctf_xml(
    pupils: list[dict[str, Any]] | int,
    *,
    dest_urn: str | None = DEST_URN,
    source_urn: str | None = SOURCE_URN,
    version: str | None = "25.0",
    made_at: str = "2025-09-10T09:30:00",
    academic_year: str | None = "2025/26",
    extra_unknown: bool = True,
    namespace: str | None = None,
) -> bytes:
    """A CTF 25 document holding the given pupils (or that many sample pupils).

    Beyond the PupilSyncRow keys a pupil dict may say, for edge cases: ``fsm_periods`` (a list
    of (start, end or None)), ``sen_history`` (a list of (start date, provision)),
    ``first_language`` (a DfE language code) and ``raw_xml`` (inserted into the Pupil).
    ``extra_unknown`` adds elements that are not in the CTF layout, as some MIS exports do.
    """
    unknown = extra_unknown
    xmlns = f' xmlns="{escape(namespace)}"' if namespace else ""
    header = [
        "<Header>",
        "<DocumentName>Common Transfer File</DocumentName>",
        _element("CTFversion", version),
        _element("DateTime", made_at),
        "<DocumentQualifier>full</DocumentQualifier>",
        "<SupplierID>Markbook test suite</SupplierID>",
        "<SourceSchool>",
        _element("LEA", SOURCE_LEA),
        _element("Estab", SOURCE_ESTAB),
        _element("URN", source_urn),
        "<SchoolName>Sample Primary School</SchoolName>",
        _element("AcademicYear", academic_year),
        "</SourceSchool>",
        "<DestSchool>",
        "<LEA>802</LEA>",
        "<Estab>4000</Estab>",
        _element("URN", dest_urn),
        "</DestSchool>",
        "<ExportTool>SampleMIS 9.1</ExportTool>" if unknown else "",
        "</Header>",
    ]
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', f"<CTfile{xmlns}>", *header]
    parts.append("<CTFpupilData>")
    for pupil in _pupils(pupils):
        parts.append(_ctf_pupil(pupil, unknown))
    parts.append("</CTFpupilData></CTfile>")
    return "\n".join(parts).encode()


def _ctf_pupil(pupil: dict[str, Any], unknown: bool) -> str:
    get = pupil.get
    parts = [
        "<Pupil>",
        "<ApplicationReference/>",
        _element("UPN", get("upn")),
        _element("Surname", get("legal_surname")),
        _element("Forename", get("legal_forename")),
        _element("DOB", get("date_of_birth")),
        _element("Sex", get("sex")),
        "<BasicDetails>",
        _element("PreferredSurname", get("preferred_surname")),
        _element("PreferredForename", get("preferred_forename")),
        _element("NCyearActual", get("year_group")),
        _element("Ethnicity", get("ethnicity")),
        "<EthnicitySource>P</EthnicitySource>" if "ethnicity" in pupil else "",
    ]
    language = get("first_language")
    if language is None and "eal" in pupil:
        language = "POL" if pupil["eal"] else "ENG"
    if language is not None:
        parts.append(
            "<Languages><Type><LanguageType>F</LanguageType>"
            f"{_element('Language', language)}</Type>"
            "<Type><LanguageType>H</LanguageType><Language>ENG</Language></Type></Languages>"
        )
    parts.append("<MedicalFlag>false</MedicalFlag><EnrolStatus>C</EnrolStatus>")
    if "pupil_premium" in pupil:
        parts.append(_element("PupilPremium", pupil["pupil_premium"]))
    if unknown:
        parts.append("<HouseColour>Blue</HouseColour>")
    parts.append("</BasicDetails>")

    if "looked_after" in pupil:
        authority = "<CareAuthority>801</CareAuthority>" if pupil["looked_after"] else ""
        parts.append(f"<LookedAfter>{_element('InCare', pupil['looked_after'])}{authority}</LookedAfter>")

    sen_history = get("sen_history")
    if sen_history is None and "sen_status" in pupil:
        # The current record first and an older one after it: the latest is found by date.
        sen_history = [("2024-01-10", pupil["sen_status"]), ("2021-09-01", "N")]
    if sen_history is not None:
        records = "".join(
            f"<SEN>{_element('StartDate', start)}{_element('SENprovision', provision)}</SEN>"
            for start, provision in sen_history
        )
        parts.append(f"<SENhistory>{records}</SENhistory>")

    periods = get("fsm_periods")
    if periods is None and "fsm" in pupil:
        periods = [("2023-09-01", None)] if pupil["fsm"] else [("2022-09-01", "2024-03-31")]
    if periods is not None:
        instances = "".join(
            f"<FSMinstance>{_element('FSMstartDate', start)}{_element('FSMendDate', end)}"
            "<UKcountry>ENG</UKcountry></FSMinstance>"
            for start, end in periods
        )
        parts.append(f"<FSMhistory><FSMreviewDate>2025-09-01</FSMreviewDate>{instances}</FSMhistory>")

    if "stage_assessments" in pupil:
        stages: dict[str, list[str]] = {}
        for item in pupil["stage_assessments"]:
            stages.setdefault(item["stage"], []).append(
                "<StageAssessment><Locale>ENG</Locale>"
                f"{_element('Year', item.get('year'))}{_element('Subject', item.get('subject'))}"
                f"{_element('Method', item.get('method'))}"
                f"{_element('Component', item.get('component'))}"
                "<ResultStatus>R</ResultStatus>"
                f"{_element('ResultQualifier', item.get('result_qualifier'))}"
                f"{_element('Result', item.get('result'))}"
                f"{_element('ResultDate', item.get('result_on'))}</StageAssessment>"
            )
        key_stages = "".join(
            f"<KeyStage>{_element('Stage', stage)}{''.join(items)}</KeyStage>"
            for stage, items in stages.items()
        )
        parts.append(f"<StageAssessments>{key_stages}</StageAssessments>")
    if unknown:
        parts.append("<VendorExtras><Colour>blue</Colour></VendorExtras>")
    parts.append(get("raw_xml", ""))
    parts.append("</Pupil>")
    return "".join(parts)


# --- OneRoster ---------------------------------------------------------------------------

ONEROSTER_FILES = (
    "orgs",
    "academicSessions",
    "courses",
    "classes",
    "users",
    "roles",
    "enrollments",
    "demographics",
)
_UNUSED_FILES = (
    "categories",
    "classResources",
    "courseResources",
    "lineItems",
    "resources",
    "results",
    "scoreScales",
    "userProfiles",
)
