"""The CTF importer: DfE Common Transfer File (CTF 25) to roster sync rows."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.api.schemas.roster import PupilSyncRow
from app.domain.errors import DomainError
from app.domain.pupils import YearGroup
from app.importers import FileRejected, ImportedRoster, parse_ctf
from tests.support.files import (
    DEST_URN,
    SOURCE_URN,
    ctf_xml,
    sample_pupils,
    upn_for,
    xml_bomb,
    xxe_ctf,
)

CTF_KEYS = set(PupilSyncRow.model_fields) - {"external_id", "classes", "groups"}


def one(pupil: dict, **options) -> dict:
    roster = parse_ctf(ctf_xml([pupil], **options))
    assert len(roster.pupils) == 1
    return roster.pupils[0]


def minimal(**extra) -> dict:
    return {
        "upn": upn_for(1),
        "legal_forename": "Ada",
        "legal_surname": "Lovelace",
        "date_of_birth": "2014-12-10",
        "year_group": "6",
        **extra,
    }


# --- Mapping -----------------------------------------------------------------------------


def test_every_field_is_mapped():
    pupil = minimal(
        preferred_forename="Addie",
        preferred_surname="King",
        sex="F",
        ethnicity="WBRI",
        eal=True,
        fsm=True,
        sen_status="K",
        looked_after=False,
        pupil_premium=True,
        stage_assessments=[
            {
                "stage": "KS1",
                "subject": "MAT",
                "method": "TA",
                "component": "TA",
                "result": "EXS",
                "result_qualifier": "TA",
                "year": 2022,
                "result_on": "2022-06-30",
            }
        ],
    )
    assert one(pupil) == {
        "upn": pupil["upn"],
        "legal_forename": "Ada",
        "legal_surname": "Lovelace",
        "preferred_forename": "Addie",
        "preferred_surname": "King",
        "date_of_birth": "2014-12-10",
        "sex": "F",
        "year_group": "6",
        "ethnicity": "WBRI",
        "eal": True,
        "fsm": True,
        "sen_status": "K",
        "looked_after": False,
        "pupil_premium": True,
        "stage_assessments": pupil["stage_assessments"],
        "school_urn": DEST_URN,
    }


def test_header_says_where_from_and_which_year():
    roster = parse_ctf(ctf_xml(2), filename="leavers.xml")
    assert isinstance(roster, ImportedRoster)
    assert roster.kind == "ctf"
    assert roster.source == "801/2000"
    assert roster.school_urns == [DEST_URN, SOURCE_URN]
    assert roster.academic_year == 2025
    assert roster.classes == []
    assert roster.complete is False


@pytest.mark.parametrize(
    ("label", "made_at", "year"),
    [
        ("2025/26", "2025-07-01T10:00:00", 2025),
        ("2024", "2025-10-01T10:00:00", 2024),
        (None, "2025-07-20T10:00:00", 2024),  # July is still the year that began last September
        (None, "2025-09-01T00:00:00", 2025),
        (None, "not a date", None),
    ],
)
def test_academic_year_from_source_school_else_the_date_made(label, made_at, year):
    roster = parse_ctf(ctf_xml(1, academic_year=label, made_at=made_at))
    assert roster.academic_year == year


def test_a_bad_academic_year_label_is_a_warning_not_a_rejection():
    roster = parse_ctf(ctf_xml(1, academic_year="last year", made_at="2025-09-10"))
    assert roster.academic_year == 2025
    assert any("last year" in warning for warning in roster.warnings)


def test_without_a_destination_urn_rows_carry_no_school():
    roster = parse_ctf(ctf_xml(1, dest_urn=None))
    assert "school_urn" not in roster.pupils[0]
    assert roster.school_urns == [SOURCE_URN]


def test_characteristics_the_file_does_not_state_are_absent_not_false():
    row = one(minimal())
    for key in ("fsm", "eal", "sen_status", "looked_after", "pupil_premium", "sex", "ethnicity"):
        assert key not in row
    assert "stage_assessments" not in row


@pytest.mark.parametrize(
    ("periods", "fsm"),
    [
        ([("2023-09-01", None)], True),  # open
        ([("2022-09-01", "2024-03-31")], False),  # ended before the CTF was made
        ([("2022-09-01", "2025-09-10")], True),  # ends on the day it was made
        ([("2022-09-01", "2025-12-31")], True),  # ends after
        ([("2022-09-01", "2023-01-01"), ("2024-01-01", None)], True),
        ([("2026-01-01", None)], False),  # not started yet
        ([], False),
    ],
)
def test_fsm_is_whether_a_period_covers_the_day_the_ctf_was_made(periods, fsm):
    assert one(minimal(fsm_periods=periods), made_at="2025-09-10T09:00:00")["fsm"] is fsm


def test_an_fsm_period_with_an_unreadable_date_is_left_out_with_a_warning():
    pupil = minimal(fsm_periods=[("2023-09-01", "31/12/2025")])
    roster = parse_ctf(ctf_xml([pupil]))
    assert roster.pupils[0]["fsm"] is False
    assert any("FSM" in warning for warning in roster.warnings)


def test_sen_status_is_the_latest_record_by_start_date_whatever_the_order():
    history = [("2022-09-01", "K"), ("2025-01-06", "E"), ("2019-09-01", "N")]
    assert one(minimal(sen_history=history))["sen_status"] == "E"


def test_undated_sen_records_count_as_the_oldest():
    history = [("2024-09-01", "K"), (None, "E")]
    assert one(minimal(sen_history=history))["sen_status"] == "K"


@pytest.mark.parametrize(
    ("language", "eal"),
    [("POL", True), ("OTB", True), ("ENG", False), ("ENB", False), ("eng", False)],
)
def test_eal_from_the_first_language(language, eal):
    assert one(minimal(first_language=language))["eal"] is eal


@pytest.mark.parametrize("language", ["NOT", "REF"])
def test_eal_is_absent_when_the_first_language_is_not_known(language):
    assert "eal" not in one(minimal(first_language=language))


@pytest.mark.parametrize(("in_care", "value"), [(True, True), (False, False)])
def test_looked_after_from_in_care(in_care, value):
    assert one(minimal(looked_after=in_care))["looked_after"] is value


def test_pupil_premium_only_when_the_file_has_it():
    assert one(minimal(pupil_premium=False))["pupil_premium"] is False
    assert "pupil_premium" not in one(minimal())


def test_stage_assessments_keep_their_key_stage_and_pass_odd_years_through():
    raw = (
        "<StageAssessments><KeyStage><Stage>KS2</Stage>"
        "<StageAssessment><Subject>REA</Subject><Method>TT</Method><Result>104</Result>"
        "<Year>20X4</Year></StageAssessment></KeyStage>"
        "<KeyStage><Stage>PHON</Stage><StageAssessment><Subject>PH</Subject>"
        "<Result>Wa</Result><Year>2021</Year></StageAssessment></KeyStage></StageAssessments>"
    )
    assert one(minimal(raw_xml=raw))["stage_assessments"] == [
        {"stage": "KS2", "subject": "REA", "method": "TT", "result": "104", "year": "20X4"},
        {"stage": "PHON", "subject": "PH", "result": "Wa", "year": 2021},
    ]


def test_a_default_namespace_is_ignored():
    roster = parse_ctf(ctf_xml(3, namespace="http://www.example.org/ctf25"))
    assert [row["upn"] for row in roster.pupils] == [upn_for(i) for i in range(3)]
    assert roster.school_urns == [DEST_URN, SOURCE_URN]


def test_whitespace_around_values_is_trimmed():
    xml = ctf_xml([minimal()]).replace(b"<Surname>Lovelace", b"<Surname>\n   Lovelace  ")
    assert parse_ctf(xml).pupils[0]["legal_surname"] == "Lovelace"


# --- Bad values go through for the row's validation --------------------------------------


def test_sample_rows_are_valid_sync_rows():
    for row in parse_ctf(ctf_xml(60)).pupils:
        PupilSyncRow.model_validate(row)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"upn": "A801200025001"}, "upn", "check letter"),
        ({"year_group": "Y14"}, "year_group", "unknown year group 'Y14'"),
        ({"sex": "X"}, "sex", ""),
        ({"ethnicity": "W1"}, "ethnicity", "four letters"),
        ({"date_of_birth": "10/12/2014"}, "date_of_birth", ""),
    ],
)
def test_bad_values_are_passed_through_raw(change, field, message):
    row = one(minimal(**change))
    assert row[field] == next(iter(change.values()))
    with pytest.raises(ValidationError) as raised:
        PupilSyncRow.model_validate(row)
    assert message in str(raised.value)


@pytest.mark.parametrize("missing", ["legal_surname", "legal_forename"])
def test_a_pupil_missing_a_required_element_keeps_its_row(missing):
    pupils = [minimal(), {k: v for k, v in minimal().items() if k != missing}, minimal()]
    roster = parse_ctf(ctf_xml(pupils))
    assert len(roster.pupils) == 3
    assert missing not in roster.pupils[1]
    with pytest.raises(ValidationError) as raised:
        PupilSyncRow.model_validate(roster.pupils[1])
    assert missing in str(raised.value)


# --- Unknown elements ---------------------------------------------------------------------


def test_unknown_elements_are_ignored_and_counted_in_one_warning():
    roster = parse_ctf(ctf_xml(5, extra_unknown=True))
    assert len(roster.pupils) == 5
    assert len(roster.warnings) == 1
    warning = roster.warnings[0]
    assert "11 unknown elements" in warning
    assert "Pupil/VendorExtras (5)" in warning
    assert "BasicDetails/HouseColour (5)" in warning
    assert "Header/ExportTool (1)" in warning


def test_a_clean_file_has_no_warnings():
    assert parse_ctf(ctf_xml(5, extra_unknown=False)).warnings == []


def test_another_ctf_version_is_read_with_a_warning():
    roster = parse_ctf(ctf_xml(1, version="24.1", extra_unknown=False))
    assert len(roster.pupils) == 1
    assert roster.warnings == ["CTF version 24.1: read with the CTF 25 layout"]


# --- Rejected files ------------------------------------------------------------------------


def rejected(data: bytes, filename: str = "pupils.xml") -> FileRejected:
    with pytest.raises(FileRejected) as raised:
        parse_ctf(data, filename=filename)
    error = raised.value
    assert isinstance(error, DomainError)
    assert error.field == "body"
    assert error.filename == filename
    assert error.message.startswith(filename)
    return error


def test_malformed_xml_names_the_line():
    data = ctf_xml(3).replace(b"</Forename>", b"</Surname>", 1)
    line = data[: data.index(b"</Surname>", data.index(b"<Forename>"))].count(b"\n") + 1
    error = rejected(data)
    assert error.where == f"line {line}"
    assert error.message.startswith(f"pupils.xml line {line}: not well-formed XML")


def test_an_empty_upload_is_rejected():
    assert rejected(b"").where == "line 1"


def test_another_root_element_is_rejected():
    error = rejected(b"<Roster><Header/></Roster>")
    assert error.where == "Roster"
    assert "CTfile" in error.reason


def test_a_missing_header_is_rejected():
    error = rejected(b"<CTfile><CTFpupilData/></CTfile>")
    assert error.where == "CTfile/Header"
    assert error.message == "pupils.xml, CTfile/Header: missing element"


def test_a_missing_ctf_version_is_rejected():
    error = rejected(ctf_xml(1, version=None))
    assert error.where == "CTfile/Header/CTFversion"


def test_a_ctf_without_pupil_data_has_no_pupils_and_says_so():
    roster = parse_ctf(b"<CTfile><Header><CTFversion>25.0</CTFversion></Header></CTfile>")
    assert roster.pupils == []
    assert roster.warnings == ["no CTFpupilData: the file has no pupils"]


def test_an_xml_bomb_is_rejected_without_expanding():
    error = rejected(xml_bomb())
    assert "entity declarations are not allowed" in error.reason


def test_an_external_entity_is_rejected_without_reading_it():
    error = rejected(xxe_ctf())
    assert "entity declarations are not allowed" in error.reason
    assert "root:" not in error.message


def test_an_external_entity_without_a_dtd_is_not_resolved():
    # An undeclared entity is a plain parse error: nothing is fetched.
    data = b"<CTfile><Header><CTFversion>&xxe;</CTFversion></Header></CTfile>"
    assert "undefined entity" in rejected(data).reason


# --- Scale and round trip ------------------------------------------------------------------


def test_ten_thousand_pupils():
    roster = parse_ctf(ctf_xml(10_000))
    assert len(roster.pupils) == 10_000
    assert len({row["upn"] for row in roster.pupils}) == 10_000
    assert roster.pupils[-1] == {
        **{k: v for k, v in sample_pupils(1, start=9_999)[0].items() if k in CTF_KEYS},
        "school_urn": DEST_URN,
    }


_letters = st.characters(categories=("L",), include_characters="'")
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
        "fsm": st.booleans(),
        "eal": st.booleans(),
        "looked_after": st.booleans(),
        "sen_status": st.sampled_from(["N", "K", "E"]),
    },
)


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pupil_fields, max_size=12))
def test_round_trip(pupils):
    pupils = [{"upn": upn_for(index), **fields} for index, fields in enumerate(pupils)]
    roster = parse_ctf(ctf_xml(pupils, extra_unknown=False))
    assert roster.pupils == [{**pupil, "school_urn": DEST_URN} for pupil in pupils]
