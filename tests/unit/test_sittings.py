"""Dates in a file's stated order, and which of a pupil's sittings to keep
(app/domain/sittings.py). Pure: no database."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.sittings import (
    DateFormat,
    KeepSitting,
    Sitting,
    choose_sitting,
    digits_key,
    ids_matching,
    parse_date,
    parse_moment,
)

DAYS = st.dates(min_value=date(1000, 1, 1), max_value=date(9999, 12, 31))
SEPARATORS = st.sampled_from("/.-")


# --- Dates -----------------------------------------------------------------------------------


class TestDates:
    @given(DAYS, SEPARATORS, st.booleans())
    def test_a_date_reads_back_in_its_stated_order(self, day: date, sep: str, pad: bool) -> None:
        d, m = (f"{day.day:02d}", f"{day.month:02d}") if pad else (str(day.day), str(day.month))
        assert parse_date(f"{d}{sep}{m}{sep}{day.year}", DateFormat.DAY_FIRST) == day
        assert parse_date(f"{m}{sep}{d}{sep}{day.year}", DateFormat.MONTH_FIRST) == day

    @given(DAYS, st.sampled_from(list(DateFormat)))
    def test_iso_dates_read_whatever_the_stated_order(self, day: date, fmt: DateFormat) -> None:
        assert parse_date(day.isoformat(), fmt) == day
        assert parse_date(f"{day.isoformat()} 00:00:00", fmt) == day

    @given(DAYS)
    def test_the_order_decides_a_date_either_way_could_be(self, day: date) -> None:
        text = f"{day.day:02d}/{day.month:02d}/{day.year}"
        assert parse_date(text, DateFormat.DAY_FIRST) == day
        if day.day <= 12:
            swapped = date(day.year, day.day, day.month)
            assert parse_date(text, DateFormat.MONTH_FIRST) == swapped
        else:
            with pytest.raises(ValueError, match="set the mapping's date_format to DD/MM/YYYY"):
                parse_date(text, DateFormat.MONTH_FIRST)

    @given(DAYS)
    def test_iso_only_refuses_dates_in_either_order(self, day: date) -> None:
        with pytest.raises(ValueError, match="write it as 2016-03-04"):
            parse_date(day.strftime("%d/%m/") + str(day.year), DateFormat.ISO)

    @given(
        DAYS,
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
        st.sampled_from(list(DateFormat)),
    )
    def test_a_sittings_time_of_day_is_read(
        self, day: date, hour: int, minute: int, second: int, fmt: DateFormat
    ) -> None:
        when = datetime.combine(day, time(hour, minute, second))
        assert parse_moment(when.isoformat(), fmt) == when
        assert parse_moment(when.isoformat(" "), fmt) == when
        twelve = hour % 12 or 12
        meridiem = "PM" if hour >= 12 else "AM"
        us = f"{day.month}/{day.day}/{day.year} {twelve}:{minute:02d}:{second:02d} {meridiem}"
        assert parse_moment(us, DateFormat.MONTH_FIRST) == when

    @pytest.mark.parametrize(
        ("text", "fmt", "reason"),
        [
            ("11/25/2025", DateFormat.DAY_FIRST, "set the mapping's date_format to MM/DD/YYYY"),
            ("25/11/2025", DateFormat.MONTH_FIRST, "set the mapping's date_format to DD/MM/YYYY"),
            ("31/02/2016", DateFormat.DAY_FIRST, "not a real date"),
            ("02/31/2016", DateFormat.MONTH_FIRST, "not a real date"),
            ("2016-13-01", DateFormat.MONTH_FIRST, "not a real date"),
            ("03/04/16", DateFormat.MONTH_FIRST, "year has two digits"),
            ("04/03-2016", DateFormat.DAY_FIRST, "not a date"),
            ("March 4th", DateFormat.DAY_FIRST, "not a date"),
            ("03/04/2016 25:00", DateFormat.DAY_FIRST, "not a real time"),
            ("03/04/2016 13:00 PM", DateFormat.DAY_FIRST, "not a real time"),
            ("03/04/2016 noon", DateFormat.DAY_FIRST, "not a date"),
        ],
    )
    def test_what_is_not_a_date(self, text: str, fmt: DateFormat, reason: str) -> None:
        with pytest.raises(ValueError, match=reason):
            parse_moment(text, fmt)

    def test_a_date_with_a_time_is_not_a_date_of_birth(self) -> None:
        with pytest.raises(ValueError, match="a date and a time"):
            parse_date("04/03/2016 09:30")


# --- Sittings --------------------------------------------------------------------------------


def _sittings(draw: st.DrawFn, *, dated: bool = True, scored: bool = True) -> list[Sitting]:
    count = draw(st.integers(1, 6))
    start = datetime(2025, 9, 1)
    rows = draw(st.lists(st.integers(2, 500), min_size=count, max_size=count, unique=True))
    out = []
    for row in sorted(rows):
        out.append(
            Sitting(
                row=row,
                when=start + timedelta(days=draw(st.integers(0, 5))) if dated else None,
                score=Decimal(draw(st.integers(69, 75))) if scored else None,
                results=draw(st.integers(0, 2)),
            )
        )
    return out


sittings_strategy = st.composite(_sittings)


class TestChoosingASitting:
    @given(sittings_strategy(), st.sampled_from(list(KeepSitting)))
    def test_every_sitting_is_kept_set_aside_or_refused_once(
        self, sittings: list[Sitting], keep: KeepSitting
    ) -> None:
        choice = choose_sitting(sittings, keep, date_column="Date", score_column="SAS")
        rows = [s.row for s in sittings]
        accounted = [*choice.set_aside, *choice.refused]
        if choice.taken is not None:
            accounted.append(choice.taken)
        assert choice.taken is None or choice.taken not in choice.refused
        assert not set(choice.set_aside) & set(choice.refused)
        assert sorted(accounted) == sorted(rows) or (
            # A refused pupil's other sittings are neither kept nor set aside.
            choice.taken is None and choice.refused and set(accounted) <= set(rows)
        )
        assert all(aside.taken == choice.taken for aside in choice.set_aside.values())
        if len(sittings) == 1:
            assert choice == type(choice)(taken=rows[0])

    @given(sittings_strategy())
    def test_latest_keeps_the_latest_or_refuses_a_real_tie(self, sittings: list[Sitting]) -> None:
        choice = choose_sitting(sittings, KeepSitting.LATEST, date_column="Date")
        latest = max(s.when for s in sittings if s.when is not None)
        tied = [s for s in sittings if s.when == latest]
        if len({s.results for s in tied}) == 1:
            assert choice.taken == tied[0].row
            assert not choice.refused
        else:
            assert choice.taken is None
            assert set(choice.refused) == {s.row for s in tied}

    @given(sittings_strategy(), st.booleans())
    def test_highest_keeps_the_highest_then_the_latest(
        self, sittings: list[Sitting], by_date: bool
    ) -> None:
        choice = choose_sitting(
            sittings, KeepSitting.HIGHEST, date_column="Date" if by_date else None
        )
        top = max(s.score for s in sittings if s.score is not None)
        best = [s for s in sittings if s.score == top]
        if by_date:
            latest = max(s.when for s in best if s.when is not None)
            best = [s for s in best if s.when == latest]
        if choice.taken is not None:
            kept = next(s for s in sittings if s.row == choice.taken)
            assert kept.score == top
            assert kept is best[0]
        else:
            assert len({s.results for s in best}) > 1

    @given(sittings_strategy(), st.sampled_from([KeepSitting.LATEST, KeepSitting.HIGHEST]))
    def test_the_choice_does_not_depend_on_the_order_of_other_rows(
        self, sittings: list[Sitting], keep: KeepSitting
    ) -> None:
        forwards = choose_sitting(sittings, keep, date_column="Date")
        backwards = choose_sitting(list(reversed(sittings)), keep, date_column="Date")
        if forwards.taken is None:
            assert backwards.taken is None
            assert forwards.refused.keys() == backwards.refused.keys()
        else:
            kept = next(s for s in sittings if s.row == forwards.taken)
            other = next(s for s in sittings if s.row == backwards.taken)
            # Equal results (a row exported twice) may keep either copy; they are the same.
            assert (kept.when, kept.results) == (other.when, other.results)
            if keep is KeepSitting.HIGHEST:
                assert kept.score == other.score

    def test_refuse_names_the_first_row(self) -> None:
        choice = choose_sitting(
            [Sitting(row=3), Sitting(row=5), Sitting(row=9)], KeepSitting.REFUSE
        )
        assert choice.taken == 3
        assert set(choice.refused) == {5, 9}
        assert choice.refused[9].startswith("the same pupil as row 3: give each pupil one row")

    def test_reasons_name_the_rows_and_what_decided(self) -> None:
        early, late = datetime(2025, 9, 10), datetime(2025, 11, 3, 14, 5)
        sittings = [
            Sitting(row=2, when=early, score=Decimal(104), results=("104",)),
            Sitting(row=3, when=late, score=Decimal(99), results=("99",)),
        ]
        latest = choose_sitting(sittings, KeepSitting.LATEST, date_column="Test date")
        assert latest.taken == 3
        assert latest.set_aside[2].reason == (
            "an earlier sitting (2025-09-10): row 3 (2025-11-03 14:05:00) is the latest"
        )
        highest = choose_sitting(sittings, KeepSitting.HIGHEST, score_column="SAS")
        assert highest.taken == 2
        assert highest.set_aside[3].reason == "a lower score (99): row 2 (104) is the highest"

    def test_a_sitting_the_rule_cannot_read_is_refused(self) -> None:
        sittings = [Sitting(row=2, when=datetime(2025, 9, 1)), Sitting(row=3)]
        choice = choose_sitting(sittings, KeepSitting.LATEST, date_column="Test date")
        assert choice.taken is None
        assert list(choice.refused) == [3]
        assert "the date in column 'Test date'" in choice.refused[3]

    def test_a_row_exported_twice_is_set_aside_not_refused(self) -> None:
        when = datetime(2025, 9, 1)
        sittings = [Sitting(row=2, when=when, results=1), Sitting(row=3, when=when, results=1)]
        choice = choose_sitting(sittings, KeepSitting.LATEST)
        assert choice.taken == 2
        assert choice.set_aside[3].reason == "the same results as row 2"


# --- Ids -------------------------------------------------------------------------------------


class TestDigitIds:
    @given(st.integers(0, 10**12), st.integers(0, 6))
    def test_leading_zeros_do_not_matter(self, number: int, zeros: int) -> None:
        assert digits_key("0" * zeros + str(number)) == str(number)

    @given(st.text(min_size=1, max_size=12))
    def test_only_ascii_digits_are_digits(self, text: str) -> None:
        key = digits_key(text)
        if key is None:
            assert not (text.isascii() and text.isdigit())
        else:
            assert int(text) == int(key) and (key == "0" or not key.startswith("0"))

    @pytest.mark.parametrize("text", ["T-123", "١٢٣", "12 3", "", "+123", "1e3"])
    def test_other_ids_are_matched_as_written(self, text: str) -> None:
        assert digits_key(text) is None


IDS = st.one_of(
    st.integers(0, 10**6).map(str),
    st.tuples(st.integers(1, 3), st.integers(0, 10**6)).map(lambda z: "0" * z[0] + str(z[1])),
    st.text(alphabet="0123456789T-", min_size=1, max_size=8),
)


class TestMatchingIds:
    @given(st.lists(IDS, max_size=8, unique=True), IDS)
    def test_an_id_names_itself_and_only_ids_that_differ_in_leading_zeros(
        self, stored: list[str], key: str
    ) -> None:
        matches = ids_matching(key, stored)
        if key in stored:
            assert key in matches
        for found in matches:
            assert found == key or (
                digits_key(found) is not None and digits_key(found) == digits_key(key)
            )
        # Matching is symmetric: whichever system padded, the same pupils answer.
        for found in matches:
            assert key in ids_matching(found, [key])

    @given(st.integers(0, 10**6), st.integers(1, 4))
    def test_padded_and_unpadded_ids_match_and_two_such_ids_are_ambiguous(
        self, number: int, zeros: int
    ) -> None:
        padded = "0" * zeros + str(number)
        assert ids_matching(padded, [str(number), "T-1"]) == [str(number)]
        assert ids_matching(str(number), [padded]) == [padded]
        assert len(ids_matching(str(number), [padded, str(number)])) == 2

    def test_other_ids_match_only_as_written(self) -> None:
        assert ids_matching("T-0123", ["T-123", "T-0123"]) == ["T-0123"]
