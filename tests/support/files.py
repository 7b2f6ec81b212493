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
        parts.append(
            f"<LookedAfter>{_element('InCare', pupil['looked_after'])}{authority}</LookedAfter>"
        )

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
        parts.append(
            f"<FSMhistory><FSMreviewDate>2025-09-01</FSMreviewDate>{instances}</FSMhistory>"
        )

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
_HEADER_TEXT = {
    "orgs": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    "academicSessions": (
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear"
    ),
    "courses": (
        "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,"
        "orgSourcedId,subjects,subjectCodes"
    ),
    "classes": (
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
        "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
    ),
    "users": (
        "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,"
        "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
        "userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,"
        "preferredFamilyName,primaryOrgSourcedId,pronouns"
    ),
    "roles": (
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
        "orgSourcedId,userProfileSourcedId"
    ),
    "enrollments": (
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
        "primary,beginDate,endDate"
    ),
    "demographics": (
        "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,"
        "blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,"
        "demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,"
        "stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus"
    ),
}
# The full OneRoster 1.2 column lists, in the order the specification gives them.
HEADERS: dict[str, list[str]] = {name: text.split(",") for name, text in _HEADER_TEXT.items()}

# The inverse of the importer's grade mapping, for writing sample files.
GRADE_FOR_YEAR_GROUP = {"N1": "PR", "N2": "PK", "R": "KG"} | {
    str(year): f"{year:02d}" for year in range(1, 14)
}
_MODIFIED = "2025-09-01T07:00:00.000Z"
_SUBJECTS = ["Mathematics", "English", "Science", "History", "French"]


def sample_classes(count: int, teachers: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "code": f"{7 + index % 5}{chr(65 + index // 5 % 26)}/{_SUBJECTS[index % 5][:2]}"
            f"{index // 130 + 1}",
            "name": f"{_SUBJECTS[index % 5]} group {index + 1}",
            "subject": _SUBJECTS[index % 5],
            "teacher_emails": [teachers[index % len(teachers)]] if teachers else [],
        }
        for index in range(count)
    ]


def oneroster_files(
    pupils: list[dict[str, Any]] | int,
    classes: list[dict[str, Any]] | int | None = None,
    teachers: list[str] | int | None = None,
    *,
    manifest: bool = True,
    school_urn: str = DEST_URN,
    school_year: int = ACADEMIC_YEAR + 1,
    modes: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The CSV files of a OneRoster 1.2 export, by member name.

    ``classes`` and ``teachers`` may be counts: generated pupils then join classes round
    robin. Pupils and classes may carry ``school_urn`` (another school org is added) and
    ``status`` ("tobedeleted"); a pupil may carry ``users_csv`` / ``demographics_csv`` dicts
    that override columns as written. ``modes`` overrides the manifest's bulk/delta/absent per
    file; an absent file is left out of the zip. ``school_year`` is OneRoster's (the end year).
    """
    pupil_list = _pupils(pupils)
    if isinstance(teachers, int):
        teacher_emails = [f"teacher{index + 1}@school.example.org" for index in range(teachers)]
    else:
        teacher_emails = list(teachers or [])
    generated_classes = isinstance(classes, int)
    if isinstance(classes, int):
        if not teacher_emails:
            teacher_emails = [
                f"teacher{index + 1}@school.example.org" for index in range(max(1, classes // 2))
            ]
        class_list = sample_classes(classes, teacher_emails)
    else:
        class_list = list(classes or [])
    for item in class_list:
        teacher_emails.extend(e for e in item.get("teacher_emails", []) if e not in teacher_emails)

    urns = list(
        dict.fromkeys(
            [school_urn]
            + [p["school_urn"] for p in pupil_list if p.get("school_urn")]
            + [c["school_urn"] for c in class_list if c.get("school_urn")]
        )
    )
    rows: dict[str, list[list[str]]] = {name: [] for name in ONEROSTER_FILES}

    def add(file: str, **values: str) -> None:
        rows[file].append(_row(file, **values))

    add("orgs", sourcedId="org-trust", name="Sample Trust", type="district", identifier="TR0042")
    for urn in urns:
        add(
            "orgs",
            sourcedId=f"org-{urn}",
            name=f"School {urn}",
            type="school",
            identifier=urn,
            parentSourcedId="org-trust",
        )
    start = school_year - 1
    begin = f"{start}-09-01"
    year_id = f"sy-{school_year}"
    add(
        "academicSessions",
        sourcedId=year_id,
        title=f"{start}/{school_year % 100:02d}",
        type="schoolYear",
        startDate=begin,
        endDate=f"{school_year}-08-31",
        schoolYear=str(school_year),
    )
    add(
        "academicSessions",
        sourcedId="term-1",
        title="Autumn",
        type="term",
        startDate=begin,
        endDate=f"{start}-12-19",
        parentSourcedId=year_id,
        schoolYear=str(school_year),
    )

    teacher_ids = {email: f"tch-{index + 1:04d}" for index, email in enumerate(teacher_emails)}
    class_ids: dict[str, str] = {}
    for index, item in enumerate(class_list):
        class_id, course_id = f"cls-{index + 1:04d}", f"crs-{index + 1:04d}"
        class_ids[item["code"]] = class_id
        org = f"org-{item.get('school_urn') or school_urn}"
        add(
            "courses",
            sourcedId=course_id,
            schoolYearSourcedId=year_id,
            title=item.get("course_title", f"{item.get('subject') or 'General'} course"),
            courseCode=f"C{index + 1}",
            orgSourcedId=org,
        )
        add(
            "classes",
            sourcedId=class_id,
            status=item.get("status", "active"),
            title=item.get("name", ""),
            grades=item.get("grades", ""),
            courseSourcedId=course_id,
            classCode=item["code"],
            classType="scheduled",
            schoolSourcedId=org,
            termSourcedIds="term-1",
            subjects=item.get("subject") or "",
            periods="1",
        )
        for email in item.get("teacher_emails", []):
            add(
                "enrollments",
                sourcedId=f"enr-{class_id}-{teacher_ids[email]}",
                classSourcedId=class_id,
                schoolSourcedId=org,
                userSourcedId=teacher_ids[email],
                role="teacher",
                primary="true",
                beginDate=begin,
            )

    for email, teacher_id in teacher_ids.items():
        add(
            "users",
            sourcedId=teacher_id,
            enabledUser="true",
            username=email,
            givenName="Teacher",
            familyName=teacher_id.removeprefix("tch-"),
            email=email,
            primaryOrgSourcedId=f"org-{school_urn}",
        )
        add(
            "roles",
            sourcedId=f"role-{teacher_id}",
            userSourcedId=teacher_id,
            roleType="primary",
            role="teacher",
            beginDate=begin,
            orgSourcedId=f"org-{school_urn}",
        )

    codes = [item["code"] for item in class_list]
    for index, pupil in enumerate(pupil_list):
        user_id = pupil.get("external_id") or f"stu-{index:05d}"
        org = f"org-{pupil.get('school_urn') or school_urn}"
        year_group = pupil.get("year_group")
        user_ids = f"{{MIS:{index + 1}}}"
        if pupil.get("upn"):
            user_ids += f",{{UPN:{pupil['upn']}}}"
        add(
            "users",
            **{
                "sourcedId": user_id,
                "status": pupil.get("status", "active"),
                "enabledUser": "true",
                "username": user_id,
                "userIds": user_ids,
                "givenName": pupil.get("legal_forename", ""),
                "familyName": pupil.get("legal_surname", ""),
                "identifier": f"ADM{index + 1:05d}",
                "grades": GRADE_FOR_YEAR_GROUP.get(year_group, year_group or ""),
                "preferredGivenName": pupil.get("preferred_forename", ""),
                "preferredFamilyName": pupil.get("preferred_surname", ""),
                "primaryOrgSourcedId": org,
                **pupil.get("users_csv", {}),
            },
        )
        add(
            "roles",
            sourcedId=f"role-{user_id}",
            userSourcedId=user_id,
            roleType="primary",
            role="student",
            beginDate=begin,
            orgSourcedId=org,
        )
        sex = pupil.get("sex")
        add(
            "demographics",
            **{
                "sourcedId": user_id,
                "birthDate": pupil.get("date_of_birth", ""),
                "sex": {"M": "male", "F": "female"}.get(sex, "unspecified") if sex else "",
                "white": "true" if index % 10 == 0 else "false",
                **pupil.get("demographics_csv", {}),
            },
        )
        if "classes" in pupil:
            memberships = pupil["classes"]
        elif generated_classes and codes:
            memberships = [codes[index % len(codes)]]
        else:
            memberships = []
        for code in memberships:
            add(
                "enrollments",
                sourcedId=f"enr-{class_ids[code]}-{user_id}",
                classSourcedId=class_ids[code],
                schoolSourcedId=org,
                userSourcedId=user_id,
                role="student",
                primary="false",
                beginDate=begin,
            )

    modes = {name: "bulk" for name in ONEROSTER_FILES} | dict(modes or {})
    files = {
        f"{name}.csv": csv_text(HEADERS[name], rows[name])
        for name in ONEROSTER_FILES
        if modes[name] != "absent"
    }
    if manifest:
        properties = [
            ["manifest.version", "1.0"],
            ["oneroster.version", "1.2"],
            *[[f"file.{name}", modes[name]] for name in ONEROSTER_FILES],
            *[[f"file.{name}", "absent"] for name in _UNUSED_FILES],
            ["source.systemName", "SampleMIS"],
            ["source.systemCode", "sample-mis"],
        ]
        files = {"manifest.csv": csv_text(["propertyName", "value"], properties), **files}
    return files


def oneroster_zip(
    pupils: list[dict[str, Any]] | int,
    classes: list[dict[str, Any]] | int | None = None,
    teachers: list[str] | int | None = None,
    *,
    manifest: bool = True,
    **options: Any,
) -> bytes:
    """A OneRoster 1.2 CSV zip: see ``oneroster_files`` for the options."""
    return zip_members(oneroster_files(pupils, classes, teachers, manifest=manifest, **options))


def _row(file: str, **values: str) -> list[str]:
    """A row of one of the OneRoster files, in its header's order; status and
    dateLastModified default to an active, recently modified row."""
    values = {"status": "active", "dateLastModified": _MODIFIED} | values
    unknown = values.keys() - set(HEADERS[file])
    assert not unknown, f"{file}.csv has no columns {unknown}"
    return [values.get(column, "") for column in HEADERS[file]]


def csv_text(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def zip_members(
    members: Mapping[str, str | bytes], *, compression: int = zipfile.ZIP_DEFLATED
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content.encode() if isinstance(content, str) else content)
    return out.getvalue()


# --- Hostile files -----------------------------------------------------------------------


def xml_bomb(levels: int = 9) -> bytes:
    """Billion laughs: ten entities each ten times the one before, a few GB if expanded."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, levels + 1)
    ]
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE CTfile [\n'
        + "\n".join(entities)
        + f"\n]>\n<CTfile><Header><CTFversion>25.0</CTFversion></Header>"
        f"<CTFpupilData><Pupil><Surname>&lol{levels};</Surname></Pupil></CTFpupilData></CTfile>"
    ).encode()


def xxe_ctf(target: str = "file:///etc/passwd") -> bytes:
    """A CTF whose surname is an external entity: read, it would leak the server's file."""
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE CTfile [<!ENTITY xxe SYSTEM "{target}">]>\n'
        "<CTfile><Header><CTFversion>25.0</CTFversion></Header><CTFpupilData><Pupil>"
        "<Surname>&xxe;</Surname></Pupil></CTFpupilData></CTfile>"
    ).encode()


def zip_bomb(megabytes: int = 20) -> bytes:
    """A OneRoster-looking zip whose users.csv is that many MB of zeros (ratio ~1000:1)."""
    files = oneroster_files(1)
    files["users.csv"] = b"\0" * (megabytes * 1024 * 1024)  # type: ignore[assignment]
    return zip_members(files)


def _patch_zip(data: bytes, member: str, *, flags: int = 0, file_size: int | None = None) -> bytes:
    """Rewrite a member's local and central directory headers: OR in general purpose flags,
    or change the uncompressed size it declares (as a crafted zip can)."""
    out = bytearray(data)
    name = member.encode()
    for signature, flag_at, size_at, name_length_at, header_length in (
        (b"PK\x03\x04", 6, 22, 26, 30),
        (b"PK\x01\x02", 8, 24, 28, 46),
    ):
        position = out.find(signature)
        while position != -1:
            (length,) = struct.unpack_from("<H", out, position + name_length_at)
            start = position + header_length
            if bytes(out[start : start + length]) == name:
                (old_flags,) = struct.unpack_from("<H", out, position + flag_at)
                struct.pack_into("<H", out, position + flag_at, old_flags | flags)
                if file_size is not None:
                    struct.pack_into("<I", out, position + size_at, file_size)
            position = out.find(signature, position + 4)
    return bytes(out)


def lying_zip() -> bytes:
    """users.csv declares 1,000 bytes but inflates to far more."""
    files = oneroster_files(200)
    return _patch_zip(zip_members(files), "users.csv", file_size=1000)


def encrypted_zip() -> bytes:
    """A zip whose users.csv is flagged as encrypted."""
    return _patch_zip(zip_members(oneroster_files(2)), "users.csv", flags=0x1)
