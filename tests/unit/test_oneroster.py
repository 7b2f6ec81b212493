"""The OneRoster importer: 1EdTech OneRoster 1.2 CSV zips to roster sync rows."""

from __future__ import annotations

import csv
import io
import tracemalloc
import warnings
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.api.schemas.roster import ClassSyncRow, PupilSyncRow
from app.domain.errors import DomainError
from app.domain.grades import GradeMapping
from app.domain.pupils import YearGroup
from app.importers import FileRejected, ImportedRoster, ZipLimits, parse_oneroster
from app.importers.safety import SafeZip
from tests.support.files import (
    DEST_URN,
    HEADERS,
    _patch_zip,
    csv_text,
    encrypted_zip,
    lying_zip,
    oneroster_files,
    oneroster_zip,
    upn_for,
    zip_bomb,
    zip_members,
)
from tests.support.real_world import (
    UPNS,
    oneroster_11_without_demographics,
    oneroster_12_delta_without_grades,
    oneroster_with_slips,
)

ONEROSTER_KEYS = {
    "external_id",
    "upn",
    "legal_forename",
    "legal_surname",
    "preferred_forename",
    "preferred_surname",
    "date_of_birth",
    "sex",
    "year_group",
    "classes",
    "school_urn",
}


def minimal(index: int = 1, **extra) -> dict:
    return {
        "external_id": f"stu-{index}",
        "upn": upn_for(index),
        "legal_forename": "Ada",
        "legal_surname": "Lovelace",
        "date_of_birth": "2014-12-10",
        "year_group": "6",
        **extra,
    }


def one(pupil: dict, **options) -> dict:
    roster = parse_oneroster(oneroster_zip([pupil], **options))
    assert len(roster.pupils) == 1
    return roster.pupils[0]


def with_file(files: dict[str, str], name: str, header: list[str], rows: list[list[str]]):
    return zip_members({**files, name: csv_text(header, rows)})


# --- Mapping -----------------------------------------------------------------------------


def test_every_field_is_mapped():
    pupil = minimal(
        preferred_forename="Addie", preferred_surname="King", sex="F", classes=["6A", "6/Ma1"]
    )
    classes = [
        {"code": "6A", "name": "Class 6A", "subject": "Form", "teacher_emails": ["a@x.org"]},
        {
            "code": "6/Ma1",
            "name": "Maths set 1",
            "subject": "Mathematics",
            "teacher_emails": ["b@x.org", "a@x.org"],
        },
    ]
    roster = parse_oneroster(oneroster_zip([pupil], classes), filename="export.zip")
    assert isinstance(roster, ImportedRoster)
    assert roster.kind == "oneroster"
    assert roster.source is None
    assert roster.school_urns == [DEST_URN]
    assert roster.academic_year == 2025
    assert roster.complete is True
    assert roster.pupils == [
        {
            "external_id": "stu-1",
            "upn": pupil["upn"],
            "legal_forename": "Ada",
            "legal_surname": "Lovelace",
            "preferred_forename": "Addie",
            "preferred_surname": "King",
            "year_group": "6",
            "date_of_birth": "2014-12-10",
            "sex": "F",
            "classes": ["6A", "6/Ma1"],
            "school_urn": DEST_URN,
        }
    ]
    assert roster.classes == [
        {
            "code": "6A",
            "name": "Class 6A",
            "subject": "Form",
            "teacher_emails": ["a@x.org"],
            "school_urn": DEST_URN,
        },
        {
            "code": "6/Ma1",
            "name": "Maths set 1",
            "subject": "Mathematics",
            "teacher_emails": ["b@x.org", "a@x.org"],
            "school_urn": DEST_URN,
        },
    ]
    for row in roster.pupils:
        PupilSyncRow.model_validate(row)
    for row in roster.classes:
        ClassSyncRow.model_validate(row)


def test_characteristics_oneroster_does_not_carry_are_absent():
    row = one(minimal())
    for key in ("fsm", "eal", "sen_status", "looked_after", "pupil_premium", "ethnicity"):
        assert key not in row


def test_the_academic_year_is_the_start_of_oneroster_school_year():
    roster = parse_oneroster(oneroster_zip(1, school_year=2027))
    assert roster.academic_year == 2026


def test_the_latest_school_year_session_is_used():
    files = oneroster_files(1)
    header = HEADERS["academicSessions"]
    sessions = [
        ["sy-25", "", "", "2024/25", "schoolYear", "2024-09-01", "2025-08-31", "", "2025"],
        ["sy-26", "", "", "2025/26", "schoolYear", "2025-09-01", "2026-08-31", "", "2026"],
        ["t-27", "", "", "Autumn", "term", "2026-09-01", "2026-12-18", "", "2027"],
    ]
    roster = parse_oneroster(with_file(files, "academicSessions.csv", header, sessions))
    assert roster.academic_year == 2025


def test_no_sessions_no_academic_year():
    roster = parse_oneroster(oneroster_zip(1, modes={"academicSessions": "absent"}))
    assert roster.academic_year is None


ENGLAND_GRADES = {"IT": "N1", "PR": "N1", "PK": "N2", "TK": "R", "KG": "R"} | {
    f"{year:02d}": str(year) for year in range(1, 14)
}


@pytest.mark.parametrize(("grade", "year_group"), sorted(ENGLAND_GRADES.items()))
def test_grades_map_to_nc_year_groups(grade, year_group):
    row = one(minimal(users_csv={"grades": grade}))
    assert row["year_group"] == year_group
    PupilSyncRow.model_validate(row)


def test_the_first_of_several_grades_is_used():
    assert one(minimal(users_csv={"grades": "07,08"}))["year_group"] == "7"


@pytest.mark.parametrize("grade", ["PS", "UG", "Other"])
def test_grades_without_a_year_group_pass_through_raw(grade):
    row = one(minimal(users_csv={"grades": grade}))
    assert row["year_group"] == grade
    with pytest.raises(ValidationError) as raised:
        PupilSyncRow.model_validate(row)
    assert f"unknown year group '{grade}'" in str(raised.value)


@pytest.mark.parametrize(
    ("user_ids", "identifier", "upn"),
    [
        ("{MIS:12},{UPN:B801200005001}", "", "B801200005001"),
        ("{upn:B801200005001}", "", "B801200005001"),
        ("", "B801200005001", "B801200005001"),
        ("{MIS:12}", "ADM00012", None),
        ("", "", None),
        ("{UPN:A801200005001}", "", "A801200005001"),  # wrong check letter: validation says
    ],
)
def test_upn_from_user_ids_else_an_identifier_shaped_like_one(user_ids, identifier, upn):
    row = one(minimal(users_csv={"userIds": user_ids, "identifier": identifier}))
    assert row.get("upn") == upn


@pytest.mark.parametrize(
    ("sex", "expected"),
    [("male", "M"), ("female", "F"), ("Female", "F"), ("other", None), ("unspecified", None)],
)
def test_sex_from_demographics(sex, expected):
    assert one(minimal(demographics_csv={"sex": sex})).get("sex") == expected


def test_race_flags_are_ignored_with_a_warning():
    roster = parse_oneroster(oneroster_zip([minimal(demographics_csv={"asian": "true"})]))
    assert "ethnicity" not in roster.pupils[0]
    assert any("race flags of 1 pupils ignored" in warning for warning in roster.warnings)


def test_without_demographics_there_is_no_birth_date_and_the_pupil_is_still_valid():
    roster = parse_oneroster(oneroster_zip([minimal()], modes={"demographics": "absent"}))
    row = roster.pupils[0]
    assert "date_of_birth" not in row and "sex" not in row
    assert PupilSyncRow.model_validate(row).date_of_birth is None
    assert any("no demographics.csv" in warning for warning in roster.warnings)


def test_empty_names_are_absent_so_validation_names_them():
    row = one(minimal(legal_forename=""))
    assert "legal_forename" not in row


def test_teachers_and_other_users_are_not_pupils():
    roster = parse_oneroster(oneroster_zip(3, classes=2, teachers=2))
    assert [row["external_id"] for row in roster.pupils] == ["stu-00000", "stu-00001", "stu-00002"]


def test_the_subject_falls_back_to_the_course_title():
    classes = [{"code": "9X", "name": "Tutor 9X", "subject": None, "course_title": "PSHE"}]
    roster = parse_oneroster(oneroster_zip([minimal(classes=["9X"])], classes))
    assert roster.classes[0]["subject"] == "PSHE"


def test_without_a_class_code_the_sourced_id_is_the_code():
    files = oneroster_files([minimal(classes=["9X"])], [{"code": "9X", "name": "9X"}])
    files["classes.csv"] = files["classes.csv"].replace(",9X,", ",,")
    roster = parse_oneroster(zip_members(files))
    assert roster.classes[0]["code"] == "cls-0001"
    assert roster.pupils[0]["classes"] == ["cls-0001"]


def test_a_class_whose_teacher_has_no_email_leaves_its_teachers_as_stored():
    classes = [
        {"code": "A", "name": "A", "teacher_emails": ["a@x.org"]},
        {"code": "B", "name": "B", "teacher_emails": ["b@x.org"]},
    ]
    files = oneroster_files([minimal(classes=["A", "B"])], classes)
    files["users.csv"] = files["users.csv"].replace(",b@x.org,", ",,")
    roster = parse_oneroster(zip_members(files))
    assert roster.classes[0]["teacher_emails"] == ["a@x.org"]
    assert "teacher_emails" not in roster.classes[1]
    assert any("1 classes have a teacher with no email" in w for w in roster.warnings)


def test_a_class_with_no_teachers_in_a_bulk_file_has_none():
    roster = parse_oneroster(oneroster_zip([minimal()], [{"code": "A", "name": "A"}]))
    assert roster.classes[0]["teacher_emails"] == []
    assert roster.pupils[0]["classes"] == []


def test_trust_wide_export_puts_each_pupil_and_class_in_its_school():
    pupils = [minimal(1), minimal(2, school_urn="100999", classes=["B"])]
    classes = [{"code": "A", "name": "A"}, {"code": "B", "name": "B", "school_urn": "100999"}]
    roster = parse_oneroster(oneroster_zip(pupils, classes))
    assert roster.school_urns == [DEST_URN, "100999"]
    assert [row["school_urn"] for row in roster.pupils] == [DEST_URN, "100999"]
    assert [row["school_urn"] for row in roster.classes] == [DEST_URN, "100999"]


def test_a_school_org_without_a_urn_gives_no_school():
    files = oneroster_files([minimal()])
    files["orgs.csv"] = files["orgs.csv"].replace(f",{DEST_URN},", ",8012000,")
    roster = parse_oneroster(zip_members(files))
    assert roster.school_urns == []
    assert "school_urn" not in roster.pupils[0]


def test_a_pupil_without_a_primary_org_is_in_the_school_of_their_student_role():
    row = one(minimal(users_csv={"primaryOrgSourcedId": ""}))
    assert row["school_urn"] == DEST_URN


def test_oneroster_1_1_users_with_a_role_column_and_no_roles_file():
    files = oneroster_files([minimal(), minimal(2)], modes={"roles": "absent"})
    header = [*HEADERS["users"], "role"]
    users = list(csv.reader(io.StringIO(files["users.csv"])))[1:]
    rows = [[*user, "student"] for user in users]
    roster = parse_oneroster(with_file(files, "users.csv", header, rows))
    assert [row["external_id"] for row in roster.pupils] == ["stu-1", "stu-2"]


def test_without_roles_a_student_enrollment_makes_a_pupil():
    classes = [{"code": "A", "name": "A"}]
    pupils = [minimal(1, classes=["A"]), minimal(2)]
    roster = parse_oneroster(oneroster_zip(pupils, classes, modes={"roles": "absent"}))
    assert [row["external_id"] for row in roster.pupils] == ["stu-1"]


def test_a_bom_and_blank_lines_are_fine():
    files = oneroster_files([minimal()])
    files["users.csv"] = "\ufeff" + files["users.csv"] + "\r\n\r\n"
    assert len(parse_oneroster(zip_members(files)).pupils) == 1


# --- Status and deltas ---------------------------------------------------------------------


def test_rows_to_be_deleted_are_skipped_with_their_enrollments():
    classes = [{"code": "A", "name": "A"}, {"code": "B", "name": "B", "status": "tobedeleted"}]
    pupils = [minimal(1, classes=["A", "B"]), minimal(2, classes=["A"], status="tobedeleted")]
    roster = parse_oneroster(oneroster_zip(pupils, classes))
    assert [row["external_id"] for row in roster.pupils] == ["stu-1"]
    assert roster.pupils[0]["classes"] == ["A"]
    assert [row["code"] for row in roster.classes] == ["A"]
    assert any(
        "skipped 2 rows marked tobedeleted (classes.csv 1, users.csv 1)" in warning
        for warning in roster.warnings
    )


def test_delta_enrollments_leave_memberships_as_stored():
    classes = [{"code": "A", "name": "A", "teacher_emails": ["a@x.org"]}]
    roster = parse_oneroster(
        oneroster_zip([minimal(classes=["A"])], classes, modes={"enrollments": "delta"})
    )
    assert "classes" not in roster.pupils[0]
    assert "teacher_emails" not in roster.classes[0]
    assert any("enrollments.csv is a delta" in warning for warning in roster.warnings)


def test_references_into_a_delta_are_skipped_not_rejected():
    classes = [{"code": "A", "name": "A"}]
    files = oneroster_files([minimal(classes=["A"])], classes, modes={"classes": "delta"})
    files["classes.csv"] = csv_text(HEADERS["classes"], [])
    roster = parse_oneroster(zip_members(files))
    assert roster.pupils[0]["classes"] == []
    assert any("skipped 1 references" in warning for warning in roster.warnings)


def test_a_delta_users_file_is_not_the_whole_roster():
    roster = parse_oneroster(oneroster_zip([minimal()], modes={"users": "delta"}))
    assert roster.complete is False


# --- Rejected files ------------------------------------------------------------------------


def rejected(data: bytes, filename: str = "export.zip", **options) -> FileRejected:
    with pytest.raises(FileRejected) as raised:
        parse_oneroster(data, filename=filename, **options)
    error = raised.value
    assert isinstance(error, DomainError)
    assert error.field == "body"
    assert error.message.startswith(filename)
    return error


def test_not_a_zip():
    error = rejected(b"sourcedId,givenName\n1,Ada\n")
    assert error.message == "export.zip: not a zip archive"


def test_a_zip_without_a_manifest():
    error = rejected(oneroster_zip(2, manifest=False))
    assert "no manifest.csv" in error.reason


def test_a_manifest_in_a_folder_gets_a_hint():
    files = {f"export/{name}": text for name, text in oneroster_files(1).items()}
    assert "export/" in rejected(zip_members(files)).reason


def test_a_file_the_manifest_lists_must_be_in_the_zip():
    files = oneroster_files(1)
    del files["enrollments.csv"]
    error = rejected(zip_members(files))
    assert error.where == "enrollments.csv"
    assert "bulk" in error.reason


def test_a_manifest_without_users_is_rejected():
    error = rejected(oneroster_zip(1, modes={"users": "absent"}))
    assert "file.users is absent" in error.reason


def test_a_bad_manifest_mode_is_rejected():
    files = oneroster_files(1)
    files["manifest.csv"] = files["manifest.csv"].replace("file.roles,bulk", "file.roles,full")
    assert "file.roles is 'full'" in rejected(zip_members(files)).reason


def test_a_bulk_export_with_no_students_is_rejected():
    assert "student role" in rejected(oneroster_zip([], classes=1, teachers=1)).reason


@pytest.mark.parametrize(
    ("member", "column"),
    [
        ("users.csv", "givenName"),
        ("users.csv", "familyName"),
        ("users.csv", "sourcedId"),
        ("enrollments.csv", "classSourcedId"),
        ("enrollments.csv", "userSourcedId"),
        ("enrollments.csv", "role"),
        ("classes.csv", "sourcedId"),
        ("roles.csv", "role"),
    ],
)
def test_a_missing_required_column_is_rejected(member, column):
    files = oneroster_files([minimal()], [{"code": "A", "name": "A"}])
    header, _, rest = files[member].partition("\r\n")
    columns = header.split(",")
    columns[columns.index(column)] = "somethingElse"
    files[member] = ",".join(columns) + "\r\n" + rest
    error = rejected(zip_members(files))
    assert error.message == f"export.zip, {member}: missing column {column}"


def test_an_enrollment_in_an_unknown_class_names_the_row():
    files = oneroster_files([minimal(classes=["A"])], [{"code": "A", "name": "A"}])
    files["enrollments.csv"] = files["enrollments.csv"].replace(",cls-0001,", ",cls-0404,")
    error = rejected(zip_members(files))
    assert error.where == "enrollments.csv row 2"
    assert error.reason == "classSourcedId 'cls-0404' is not in classes.csv"


def test_an_enrollment_of_an_unknown_user_names_the_row():
    files = oneroster_files([minimal(classes=["A"])], [{"code": "A", "name": "A"}])
    files["enrollments.csv"] = files["enrollments.csv"].replace(",stu-1,", ",stu-404,")
    error = rejected(zip_members(files))
    assert error.where == "enrollments.csv row 2"
    assert "userSourcedId 'stu-404' is not in users.csv" in error.reason


def test_a_repeated_sourced_id_is_rejected():
    error = rejected(oneroster_zip([minimal(1), minimal(1)]))
    assert error.where == "users.csv row 3"
    assert "appears twice" in error.reason


def test_a_row_with_the_wrong_number_of_fields_is_rejected():
    files = oneroster_files([minimal()])
    files["users.csv"] += "stu-9,active\r\n"
    assert rejected(zip_members(files)).where == "users.csv row 3"


def test_an_empty_csv_has_no_header():
    files = oneroster_files([minimal()])
    files["demographics.csv"] = ""
    assert "no header row" in rejected(zip_members(files)).reason


def test_a_repeated_column_is_an_unreadable_header():
    files = oneroster_files([minimal()])
    files["orgs.csv"] = files["orgs.csv"].replace(",name,", ",type,", 1)
    assert "unreadable header" in rejected(zip_members(files)).reason


def test_text_that_is_not_utf8_names_the_line():
    files: dict[str, str | bytes] = dict(
        oneroster_files([minimal(), minimal(2, legal_forename="Chloé")])
    )
    files["users.csv"] = files["users.csv"].encode("latin-1")  # as old spreadsheets save it
    error = rejected(zip_members(files))
    assert error.where == "users.csv line 3"
    assert "not UTF-8" in error.reason


# --- Unsafe zips ---------------------------------------------------------------------------


def test_a_zip_bomb_is_rejected_before_inflating():
    error = rejected(zip_bomb(megabytes=20))
    assert error.where == "users.csv"
    assert "compression ratio" in error.reason


def test_a_small_bomb_against_small_limits():
    limits = ZipLimits(max_ratio=10, ratio_checked_above=64 * 1024)
    error = rejected(zip_bomb(megabytes=1), limits=limits)
    assert error.where == "users.csv"
    assert "compression ratio" in error.reason


def test_reading_enforces_the_limits_itself_not_only_the_directory():
    # The directory passed the checks; a tighter limit met while inflating still stops it.
    archive = SafeZip(oneroster_zip(200), filename="export.zip")
    archive.limits = ZipLimits(max_total_bytes=1000)
    with pytest.raises(FileRejected, match="over the limit of 1000 bytes"):
        archive.read("users.csv")


BAD_CRC = "damaged member (Bad CRC-32 for file 'users.csv')"


def _twenty_megabytes_of_users(declared: int) -> bytes:
    """A small zip (about 20 KB) whose users.csv unpacks to 20 MB, declaring ``declared``."""
    files: dict[str, str | bytes] = dict(oneroster_files(1))
    files["users.csv"] = b"\0" * (20 * 1024 * 1024)
    return _patch_zip(zip_members(files), "users.csv", file_size=declared)


def _read_all(archive: SafeZip, member: str) -> tuple[FileRejected, int]:
    """Read a member through the importer's row reader until refused: the refusal, and the
    most memory held meanwhile."""
    tracemalloc.start()
    try:
        with pytest.raises(FileRejected) as raised:
            for _fields in archive.csv_rows(member):
                pass
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return raised.value, peak


def test_a_bomb_under_the_ratio_limit_is_refused_by_the_file_cap_before_unpacking():
    # The ratio is allowed here, so only the per-file cap stands in the way.
    limits = ZipLimits(max_ratio=10_000, max_member_bytes=256 * 1024)
    error = rejected(_twenty_megabytes_of_users(20 * 1024 * 1024), limits=limits)
    assert error.where == "users.csv"
    assert "over the limit of 262144 bytes for one file" in error.reason


def test_a_bomb_whose_header_understates_it_is_stopped_as_soon_as_it_says_more():
    limits = ZipLimits(max_ratio=10_000, max_member_bytes=256 * 1024)
    archive = SafeZip(_twenty_megabytes_of_users(1_000), filename="export.zip", limits=limits)
    error, peak = _read_all(archive, "users.csv")
    # zipfile stops at the declared size and finds the checksum wrong; had it not, our own
    # count would have stopped it one chunk later.
    assert error.where == "users.csv"
    assert error.reason in ("member is larger than its header says", BAD_CRC)
    assert archive.bytes_unpacked <= 64 * 1024  # the rest was never unpacked
    assert peak < 2 * 1024 * 1024


def test_reading_stops_at_the_file_cap_even_if_the_directory_was_let_through():
    archive = SafeZip(
        _twenty_megabytes_of_users(20 * 1024 * 1024),
        filename="export.zip",
        limits=ZipLimits(max_ratio=10_000),
    )
    archive.limits = ZipLimits(max_ratio=10_000, max_member_bytes=256 * 1024)
    error, peak = _read_all(archive, "users.csv")
    assert "over the limit of 262144 bytes for one file" in error.reason
    assert archive.bytes_unpacked <= 256 * 1024 + 64 * 1024
    assert peak < 2 * 1024 * 1024


def test_a_file_declaring_more_than_the_file_cap_is_refused_before_unpacking():
    data = oneroster_zip(200)
    error = rejected(data, limits=ZipLimits(max_member_bytes=5_000))
    assert error.where == "users.csv"
    assert "over the limit of 5000 bytes for one file" in error.reason


def test_a_csv_with_more_rows_than_the_cap_is_refused_naming_the_row():
    error = rejected(oneroster_zip(30), limits=ZipLimits(max_rows=20))
    assert error.where == "users.csv row 22"
    assert "more than 20 rows" in error.reason
    assert parse_oneroster(oneroster_zip(30), limits=ZipLimits(max_rows=40)).pupils


def test_old_mac_line_ends_read_as_lines():
    files = {name: text.replace("\r\n", "\r") for name, text in oneroster_files(3).items()}
    parsed = parse_oneroster(zip_members(files))
    assert [pupil["external_id"] for pupil in parsed.pupils] == [
        pupil["external_id"] for pupil in parse_oneroster(oneroster_zip(3)).pupils
    ]


def test_the_total_size_limit_uses_what_the_headers_declare():
    data = oneroster_zip(50)
    error = rejected(data, limits=ZipLimits(max_total_bytes=10_000))
    assert error.where is None
    assert "over the limit of 10000" in error.reason


def test_a_member_that_inflates_beyond_its_declared_size_is_rejected():
    error = rejected(lying_zip())
    assert error.where == "users.csv"


def test_too_many_members():
    files = oneroster_files(1) | {f"extra{index}.txt": "x" for index in range(60)}
    assert "at most 50" in rejected(zip_members(files)).reason
    small = oneroster_files(1)
    assert "at most 3" in rejected(zip_members(small), limits=ZipLimits(max_members=3)).reason


@pytest.mark.parametrize(
    "name", ["../users.csv", "a/../../etc/passwd", "/etc/passwd", "C:/evil.csv", "..\\x.csv"]
)
def test_a_member_path_that_leaves_the_archive_is_rejected(name):
    files = oneroster_files(1) | {name: "x"}
    error = rejected(zip_members(files))
    assert error.where == name
    assert "leaves the archive" in error.reason


def test_encrypted_members_are_rejected():
    assert "encrypted" in rejected(encrypted_zip()).reason


def test_a_member_appearing_twice_is_rejected():
    files = oneroster_files(1)
    out = io.BytesIO(zip_members(files))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(out, "a") as archive:
            archive.writestr("users.csv", "sourcedId\n")
    assert "appears twice" in rejected(out.getvalue()).reason


# --- Scale and round trip ------------------------------------------------------------------


def test_ten_thousand_pupils():
    roster = parse_oneroster(oneroster_zip(10_000, classes=400))
    assert len(roster.pupils) == 10_000
    assert len(roster.classes) == 400
    assert sum(len(row["classes"]) for row in roster.pupils) == 10_000


_letters = st.characters(categories=("L",), include_characters="',\"")
names = st.lists(st.text(_letters, min_size=1, max_size=12), min_size=1, max_size=3).map(" ".join)
pupil_fields = st.fixed_dictionaries(
    {
        "legal_forename": names,
        "legal_surname": names,
        "date_of_birth": st.dates().map(lambda day: day.isoformat()),
        "year_group": st.sampled_from([group.value for group in YearGroup]),
    },
    optional={
        "sex": st.sampled_from(["M", "F"]),
        "preferred_forename": names,
        "preferred_surname": names,
    },
)


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pupil_fields, min_size=1, max_size=12), st.integers(min_value=0, max_value=4))
def test_round_trip(pupils, class_count):
    pupils = [
        {"external_id": f"p{index}", "upn": upn_for(index), **fields}
        for index, fields in enumerate(pupils)
    ]
    codes = [f"C{index}" for index in range(class_count)]
    for index, pupil in enumerate(pupils):
        pupil["classes"] = codes[index % 3 :: 3]
    classes = [{"code": code, "name": f"Class {code}"} for code in codes]
    roster = parse_oneroster(oneroster_zip(pupils, classes))
    assert roster.pupils == [{**pupil, "school_urn": DEST_URN} for pupil in pupils]
    assert set(roster.pupils[0]) <= ONEROSTER_KEYS


# --- Files as schools receive them (issue 16) -------------------------------------------------


def test_a_oneroster_1_1_set_without_demographics_or_roles():
    roster = parse_oneroster(oneroster_11_without_demographics("a@x.org"))
    assert [row["external_id"] for row in roster.pupils] == ["s-1", "s-2", "s-3"]
    assert all("date_of_birth" not in row for row in roster.pupils)
    assert [row["year_group"] for row in roster.pupils] == ["5", "5", "5"]
    assert [row.get("upn") for row in roster.pupils] == [UPNS[0], None, UPNS[2]]
    assert {row["school_urn"] for row in roster.pupils} == {DEST_URN}  # from orgSourcedIds
    assert roster.classes[0]["teacher_emails"] == ["a@x.org"]
    for row in roster.pupils:
        assert PupilSyncRow.model_validate(row).date_of_birth is None
    assert roster.pupil_sources == ["users.csv row 4", "users.csv row 5", "users.csv row 6"]
    assert roster.grade_mapping == "england"


def test_a_teacher_enrolled_as_a_student_is_not_a_pupil_and_the_row_is_reported():
    roster = parse_oneroster(oneroster_11_without_demographics("a@x.org"))
    assert "t-2" not in [row["external_id"] for row in roster.pupils]
    assert (
        "enrollments.csv row 6: a student enrollment of a user whose role is teacher: "
        "not imported as a pupil"
    ) in roster.warnings


def test_users_without_grades_take_their_classes_then_the_stated_year_group():
    roster = parse_oneroster(oneroster_12_delta_without_grades())
    assert [row.get("year_group") for row in roster.pupils] == ["3", None, None]
    assert any("2 students have no grades" in w and "refused" in w for w in roster.warnings)
    stated = parse_oneroster(oneroster_12_delta_without_grades(), year_group=YearGroup.Y4)
    assert [row["year_group"] for row in stated.pupils] == ["3", "4", "4"]
    assert any("1 students have no grades: year group taken from" in w for w in stated.warnings)
    assert stated.complete is False


def test_the_us_age_mapping_reads_grades_one_year_on():
    roster = parse_oneroster(oneroster_12_delta_without_grades(), grade_mapping=GradeMapping.US_AGE)
    assert roster.pupils[0]["year_group"] == "4"  # classes 03 and 03/04: grade 3, Year 4
    assert roster.grade_mapping == "us_age"
    kindergarten = parse_oneroster(
        oneroster_zip([minimal(users_csv={"grades": "KG"})]), grade_mapping=GradeMapping.US_AGE
    )
    assert kindergarten.pupils[0]["year_group"] == "1"


def test_harmless_slips_are_read_with_a_warning_naming_file_and_row():
    roster = parse_oneroster(oneroster_with_slips())
    assert [row["external_id"] for row in roster.pupils] == ["u-1", "u-2"]
    assert roster.pupils[0]["classes"] == ["6H"]
    assert set(roster.warnings) >= {
        "classes.csv row 1: 1 blank column name(s) at the end of the header ignored",
        "users.csv rows 2, 3, 4: an empty field after the last column ignored",
        "demographics.csv row 1: a header and no rows",
    }


def test_a_value_past_the_last_named_column_is_refused():
    files = oneroster_files([minimal()])
    lines = files["users.csv"].split("\r\n")
    lines[1] += ",surprise"
    files["users.csv"] = "\r\n".join(lines)
    error = rejected(zip_members(files))
    assert error.where == "users.csv row 2"
    assert "a value is past the last named column" in error.reason


def test_every_row_problem_is_in_one_refusal_across_the_files():
    pupils = [minimal(1, classes=["A"]), minimal(2, classes=["A"]), minimal(3)]
    files = oneroster_files(pupils, [{"code": "A", "name": "A"}])
    files["users.csv"] = files["users.csv"].replace("\r\nstu-3,", "\r\nstu-1,")  # repeated
    files["enrollments.csv"] = files["enrollments.csv"].replace(",cls-0001,", ",cls-0404,")
    files["roles.csv"] += "role-x,active,,stu-404,primary,student,,,org-100001,\r\n"
    error = rejected(zip_members(files))
    located = [problem.located for problem in error.problems]
    assert error.total == len(located), located
    assert any("users.csv row 4: sourcedId 'stu-1' appears twice" in p for p in located)
    assert any("roles.csv" in p and "stu-404" in p for p in located)
    assert sum("enrollments.csv" in p and "cls-0404" in p for p in located) == 2
    assert error.message.endswith(f"(and {error.total - 1} more problems)")
