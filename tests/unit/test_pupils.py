"""Pupil rules without a database: UPN check letters, year groups, dates, sync merging."""

from __future__ import annotations

import string
import uuid
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.errors import DomainError
from app.domain.pupils import (
    YearGroup,
    check_dates,
    check_name,
    check_upn,
    is_temporary_upn,
    make_upn,
)
from app.domain.roster import PupilChange, changed, differs, merge, replace_set

UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
bodies = st.text(alphabet=string.digits, min_size=11, max_size=11)
last = st.sampled_from(string.digits + UPN_LETTERS)


@given(bodies, last)
def test_a_made_upn_passes_and_temporary_ones_are_flagged(body: str, end: str) -> None:
    upn = check_upn(make_upn(body + end))
    assert upn.value[1:] == body + end
    assert upn.temporary is end.isalpha()
    assert is_temporary_upn(upn.value) is upn.temporary


def test_no_upn_is_not_a_temporary_one() -> None:
    assert is_temporary_upn(None) is False
    assert is_temporary_upn("") is False


@given(bodies, last, st.sampled_from(UPN_LETTERS))
def test_any_other_check_letter_is_refused(body: str, end: str, letter: str) -> None:
    good = make_upn(body + end)
    if letter == good[0]:
        return
    with pytest.raises(DomainError, match="check letter"):
        check_upn(letter + good[1:])


@pytest.mark.parametrize(
    ("upn", "reason"),
    [
        ("B80120000500", "13 characters"),
        ("B8012000050011", "13 characters"),
        ("1801200005001", "letter, 11 digits"),
        ("I801200005001", "letter, 11 digits"),  # I, O and S are never used
        ("B80120000500O", "letter, 11 digits"),
        ("B8012000A5001", "letter, 11 digits"),
        ("A801200005001", "check letter"),
    ],
)
def test_malformed_upns_say_why(upn: str, reason: str) -> None:
    with pytest.raises(DomainError, match=reason) as caught:
        check_upn(upn)
    assert caught.value.field == "upn"


def test_known_dfe_example_upn() -> None:
    # The worked example from the DfE's UPN guidance, as python-stdnum documents it.
    assert check_upn(" b801200005001 ").value == "B801200005001"


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), min_size=1, max_size=30))
def test_ascii_names_are_kept_as_typed_or_refused_for_control_characters(raw: str) -> None:
    if any(ord(c) < 0x20 or c == "\x7f" for c in raw):
        with pytest.raises(DomainError, match="control character"):
            check_name(raw, field="name")
    else:
        assert check_name(raw, field="name") == raw


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("R", "R"), ("r", "R"), ("N1", "N1"), ("07", "7"), ("Y7", "7"), ("Year 10", "10"), (13, "13")],
)
def test_year_groups_as_mis_files_write_them(raw: str | int, expected: str) -> None:
    assert YearGroup.parse(raw).value == expected


@given(
    st.sampled_from(list(YearGroup)),
    st.sampled_from(["{}", " {} ", "y{}", "Y0{}", "Year {}", "YEAR{}"]),
)
def test_a_year_group_reads_alike_as_stored_and_as_spelt(group: YearGroup, spelling: str) -> None:
    assert YearGroup.parse(group.value) is group
    if group.value.isdigit():
        assert YearGroup.parse(spelling.format(group.value)) is group


@pytest.mark.parametrize("raw", ["14", "0", "N3", "KG", "", "Year"])
def test_unknown_year_groups_are_refused(raw: str) -> None:
    with pytest.raises(DomainError, match="unknown year group"):
        YearGroup.parse(raw)


def test_year_groups_are_ordered_nursery_reception_then_years() -> None:
    ranks = [group.rank for group in YearGroup]
    assert ranks == sorted(ranks) and YearGroup.R.rank == 0 and YearGroup.N1.rank == -2


def test_a_date_of_birth_after_today_is_refused_and_today_is_not() -> None:
    today = date(2026, 11, 30)
    check_dates(date_of_birth=today, joined_on=None, left_on=None, today=today)
    with pytest.raises(DomainError, match="in the future") as refused:
        check_dates(date_of_birth=date(2026, 12, 1), joined_on=None, left_on=None, today=today)
    assert refused.value.field == "date_of_birth"


def test_names_are_stored_nfc_normalised() -> None:
    decomposed = "Zoe\u0308 Le\u0301a"  # e + combining diaeresis, e + combining acute
    assert check_name(decomposed, field="legal_forename") == "Zo\u00eb L\u00e9a"
    assert check_name("\u0141ucja \u0627\u0644\u0639\u0631\u0628\u064a", field="x") == (
        "\u0141ucja \u0627\u0644\u0639\u0631\u0628\u064a"
    )
    assert (
        check_name("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", field="x").count("\u200c")
        == 1
    )


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("Amy\u202egnirts", "bidirectional"),  # right-to-left override
        ("Amy\u2066x\u2069", "bidirectional"),  # isolates
        ("Amy\u200f", "bidirectional"),  # right-to-left mark
        ("Amy\x00", "control"),
        ("Amy\tSmith", "control"),
        ("Amy\nSmith", "control"),
        ("Amy\x85", "control"),  # C1 next line
        ("Amy\u2028Smith", "control"),  # line separator
        ("Amy\ud800", "control"),  # a lone surrogate
    ],
)
def test_names_with_control_or_bidi_characters_are_refused(name: str, words: str) -> None:
    with pytest.raises(DomainError, match=words) as refused:
        check_name(name, field="legal_surname")
    assert refused.value.field == "legal_surname"


@given(st.dates(), st.dates(), st.dates())
def test_dates_accepted_only_in_life_order(born: date, joined: date, left: date) -> None:
    plausible = date(1990, 1, 1) <= born <= date(2099, 12, 31)
    ok = plausible and born < joined <= left
    try:
        check_dates(date_of_birth=born, joined_on=joined, left_on=left, today=date(2099, 12, 31))
    except DomainError:
        assert not ok
    else:
        assert ok


# --- Sync merging -----------------------------------------------------------------------
FIELDS = ("a", "b", "c", "d")
values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3))
records = st.fixed_dictionaries({f: values for f in FIELDS})
sent_rows = st.dictionaries(st.sampled_from(FIELDS), values)


@given(st.one_of(st.none(), records), sent_rows)
def test_sending_the_same_row_twice_changes_nothing_the_second_time(stored, sent) -> None:  # type: ignore[no-untyped-def]
    once = merge(stored, sent, FIELDS)
    assert not changed(once, merge(once, sent, FIELDS))


@given(records, sent_rows)
def test_fields_left_out_are_kept_and_fields_sent_replace(stored, sent) -> None:  # type: ignore[no-untyped-def]
    merged = merge(stored, sent, FIELDS)
    for field in FIELDS:
        assert merged[field] == (sent[field] if field in sent else stored[field])


@given(st.one_of(st.none(), records), sent_rows)
def test_comparing_only_the_fields_sent_tells_a_change_as_the_merged_record_does(
    stored, sent
) -> None:  # type: ignore[no-untyped-def]
    assert changed(stored, sent) == changed(stored, merge(stored, sent, FIELDS))


@given(st.one_of(st.none(), records), sent_rows, st.one_of(st.none(), records), sent_rows)
def test_a_pupil_change_is_told_without_its_merged_records_and_merges_on_demand(
    stored, sent, enrolment, sent_enrolment
) -> None:  # type: ignore[no-untyped-def]
    # The enrolment's fields named apart, and the row's values in one mapping, which holds
    # more than either part sends.
    enrolment_fields = tuple(f"{field}_e" for field in FIELDS)
    enrolment = None if enrolment is None else {f"{k}_e": v for k, v in enrolment.items()}
    sent_enrolment = {f"{k}_e": v for k, v in sent_enrolment.items()}
    values = {**sent_enrolment, **sent, "unsent": object()}
    change = PupilChange(
        pupil_id=uuid.uuid4(),
        old=stored,
        enrolment=enrolment,
        sent=values,
        fields=FIELDS,
        sent_fields=tuple(sent),
        enrolment_fields=enrolment_fields,
        sent_enrolment_fields=tuple(sent_enrolment),
        had_classes=set(),
        wanted_classes=None,
        had_groups=set(),
        wanted_groups=None,
        had_stages=[],
        new_stages=None,
    )
    assert change.merged == merge(stored, sent, FIELDS)
    assert change.merged_enrolment == merge(enrolment, sent_enrolment, enrolment_fields)
    assert change.pupil_changed == changed(stored, change.merged)
    assert change.enrolment_changed == changed(enrolment, change.merged_enrolment)
    assert change.changes_anything == (change.pupil_changed or change.enrolment_changed)


@given(st.one_of(st.none(), records), sent_rows)
def test_comparing_what_a_row_sends_as_one_tuple_tells_a_change_as_the_merged_record_does(
    stored, sent
) -> None:  # type: ignore[no-untyped-def]
    values = {**sent, "unsent": object()}
    assert differs(stored, values, tuple(sent)) == changed(stored, merge(stored, sent, FIELDS))


@given(records)
def test_an_empty_row_changes_nothing(stored) -> None:  # type: ignore[no-untyped-def]
    assert not changed(stored, merge(stored, {}, FIELDS))


@given(st.sets(st.integers(0, 20)), st.one_of(st.none(), st.lists(st.integers(0, 20))))
def test_replacing_a_membership_reaches_exactly_what_was_sent(stored, sent) -> None:  # type: ignore[no-untyped-def]
    added, removed = replace_set(stored, sent)
    after = (stored | added) - removed
    assert after == (stored if sent is None else set(sent))
    assert not added & stored and removed <= stored
