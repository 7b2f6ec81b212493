"""Reading score files (app/importers/scores.py): CSV and XLSX tables, their cells, limits and
unsafe uploads. Pure: no database."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from app.domain.sittings import DateFormat
from app.importers.errors import FileRejected
from app.importers.scores import (
    MAX_COLUMNS,
    MAX_ROWS,
    OptionMismatch,
    cell_date,
    cell_moment,
    cell_number,
    cell_text,
    detect_format,
    fold_name,
    normalise_upn,
    read_scores,
    sniff_delimiter,
)
from tests.support.files import encrypted_zip, lying_zip
from tests.support.score_files import (
    OLD_XLS,
    PNG,
    PROVIDER_HEADER,
    damaged_xlsx,
    patched_xlsx,
    plain_zip,
    provider_csv,
    scores_csv,
    scores_xlsx,
    xlsx_bomb,
)

HEADER = ("UPN", "Surname", "SAS")


def cells(table) -> list[tuple]:
    return [row.cells for row in table.rows]


# --- CSV -----------------------------------------------------------------------------------


class TestCsv:
    @pytest.mark.parametrize("delimiter", [",", ";", "\t"])
    def test_the_delimiter_is_sniffed(self, delimiter: str) -> None:
        data = scores_csv(
            HEADER, [("A1", "Smith", "102"), ("B2", "O'Brien, Jr", "99")], delimiter=delimiter
        )
        table = read_scores(data, filename="scores.csv")
        assert table.delimiter == delimiter
        assert table.columns == list(HEADER)
        assert cells(table) == [("A1", "Smith", "102"), ("B2", "O'Brien, Jr", "99")]

    def test_decimal_commas_do_not_fool_the_sniffer(self) -> None:
        data = b"UPN;Reading age\r\nA1;9,5\r\nB2;10,25\r\nC3;8\r\n"
        table = read_scores(data, filename="ages.csv")
        assert table.delimiter == ";"
        assert cells(table) == [("A1", "9,5"), ("B2", "10,25"), ("C3", "8")]

    def test_one_column_files_use_the_comma(self) -> None:
        assert sniff_delimiter("UPN\nA1\nB2\n") == ","

    @pytest.mark.parametrize(
        ("encoding", "bom"),
        [("utf-8", False), ("utf-8", True), ("cp1252", False), ("utf-16", False)],
    )
    def test_encodings(self, encoding: str, bom: bool) -> None:
        data = scores_csv(
            ("Forename", "Surname"), [("Chloé", "Müller-Smith £5")], encoding=encoding, bom=bom
        )
        table = read_scores(data, filename="names.csv")
        assert table.columns == ["Forename", "Surname"]
        assert cells(table) == [("Chloé", "Müller-Smith £5")]

    def test_blank_rows_are_skipped_and_rows_keep_their_numbers(self) -> None:
        data = b"UPN,SAS\r\n\r\nA1,102\r\n , \r\n\r\nB2,99\r\n,,,\r\n"
        table = read_scores(data, filename="gaps.csv")
        assert [(row.number, row.cells) for row in table.rows] == [
            (3, ("A1", "102")),
            (6, ("B2", "99")),
        ]

    def test_a_quoted_line_break_stays_in_its_cell_and_row(self) -> None:
        data = b'UPN,Note\r\nA1,"two\r\nlines"\r\nB2,one\r\n'
        table = read_scores(data, filename="notes.csv")
        assert [(row.number, row.cells) for row in table.rows] == [
            (2, ("A1", "two\r\nlines")),
            (3, ("B2", "one")),
        ]

    def test_cells_are_trimmed_and_short_rows_padded(self) -> None:
        data = b"UPN , SAS ,Stanine\r\n  A1 ,  102\r\nB2,99,5,extra\r\n"
        table = read_scores(data, filename="ragged.csv")
        assert table.columns == ["UPN", "SAS", "Stanine"]
        assert cells(table) == [("A1", "102", None), ("B2", "99", "5")]

    def test_a_header_further_down(self) -> None:
        data = provider_csv([("A1", "Smith", "Ann", "04/03/2016", "F", "4T", 102, 6, 55)])
        table = read_scores(data, filename="ngrt.csv", header_row=2)
        assert table.columns == list(PROVIDER_HEADER)
        assert table.rows[0].number == 3
        assert table.rows[0].cells[6] == "102"

    def test_a_blank_or_missing_header_row_is_the_option_at_fault(self) -> None:
        with pytest.raises(OptionMismatch) as blank:
            read_scores(b"\r\nUPN,SAS\r\nA1,1\r\n", filename="x.csv")
        assert blank.value.option == "header_row"
        with pytest.raises(OptionMismatch, match="no row 9"):
            read_scores(b"UPN,SAS\r\nA1,1\r\n", filename="x.csv", header_row=9)

    def test_old_dos_end_of_file_marker_is_ignored(self) -> None:
        table = read_scores(b"UPN,SAS\r\nA1,1\r\n\x1a", filename="dos.csv")
        assert cells(table) == [("A1", "1")]

    def test_row_and_column_limits(self) -> None:
        header = [f"C{index}" for index in range(MAX_COLUMNS + 1)]
        with pytest.raises(FileRejected, match=f"{MAX_COLUMNS + 1} columns"):
            read_scores(scores_csv(header, [["1"] * len(header)]), filename="wide.csv")
        fine = scores_csv(HEADER, [("A", "B", str(i)) for i in range(MAX_ROWS)])
        assert len(read_scores(fine, filename="fine.csv").rows) == MAX_ROWS
        too_many = scores_csv(HEADER, [("A", "B", str(i)) for i in range(MAX_ROWS + 1)])
        with pytest.raises(FileRejected, match="more than 10,000 rows") as exc:
            read_scores(too_many, filename="big.csv")
        assert exc.value.where == f"row {MAX_ROWS + 2}"

    @pytest.mark.parametrize(
        ("data", "reason"),
        [
            (b"", "empty"),
            (b"  \r\n ", "empty"),
            (PNG, "binary content"),
            (b"UPN,SAS\r\nA1,\x81\x00\r\n", "not text"),
        ],
    )
    def test_files_that_are_not_tables(self, data: bytes, reason: str) -> None:
        with pytest.raises(FileRejected, match=reason) as exc:
            read_scores(data, filename="upload.csv")
        assert "upload.csv" in str(exc.value)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str | None]]]:
    """A header and rows of cells that survive a CSV round trip as read: no surrounding
    spaces (cells are trimmed), blank cells as None, no wholly blank row."""
    text = st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp", "Zs"))
        | st.sampled_from([" ", ",", '"', "'", "é", "\n"]),
        max_size=12,
    ).map(str.strip)
    width = draw(st.integers(min_value=2, max_value=6))
    header = draw(st.lists(text.filter(bool), min_size=width, max_size=width))
    rows = draw(
        st.lists(
            st.lists(text.map(lambda cell: cell or None), min_size=width, max_size=width).filter(
                lambda row: any(cell is not None for cell in row)
            ),
            max_size=20,
        )
    )
    return [" ".join(name.split()) for name in header], rows


class TestCsvRoundTrip:
    @settings(max_examples=150)
    @given(table=tables(), delimiter=st.sampled_from([",", ";", "\t"]), bom=st.booleans())
    @example(table=(["0", ","], []), delimiter=";", bom=False)  # commas only inside quotes
    def test_any_table_written_as_csv_reads_back_the_same(self, table, delimiter, bom) -> None:
        header, rows = table
        out = io.StringIO()
        # Quote everything, as Excel and most providers do for text: the delimiter inside a
        # cell can then never look like a column break to the sniffer.
        writer = csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
        data = out.getvalue().encode("utf-8")
        read = read_scores((b"\xef\xbb\xbf" if bom else b"") + data, filename="t.csv")
        assert read.columns == header
        assert [list(row.cells) for row in read.rows] == rows


# --- XLSX ----------------------------------------------------------------------------------


class TestXlsx:
    def test_cells_keep_their_types(self) -> None:
        data = scores_xlsx(
            ("UPN", "DOB", "SAS", "Age", "Passed", "Note"),
            [
                ("A1", date(2016, 3, 4), 102, 9.5, True, "  ok  "),
                ("B2", datetime(2016, 5, 1, 13, 30), 99, None, False, None),
            ],
        )
        table = read_scores(data, filename="scores.xlsx")
        assert table.file_format == "xlsx"
        assert table.sheets == ["Results"] and table.sheet == "Results"
        assert cells(table) == [
            ("A1", date(2016, 3, 4), 102, 9.5, True, "ok"),
            ("B2", datetime(2016, 5, 1, 13, 30), 99, None, False, None),
        ]

    def test_the_sheet_is_picked_by_name_or_is_the_first(self) -> None:
        data = scores_xlsx(HEADER, [("A1", "Smith", 100)], before=["Notes"], sheet="Year 4")
        with pytest.raises(OptionMismatch, match="no row 1") as empty:
            read_scores(data, filename="book.xlsx")  # the first sheet, Notes, is empty
        assert empty.value.option == "header_row"
        named = read_scores(data, filename="book.xlsx", sheet=" year 4 ")
        assert named.sheets == ["Notes", "Year 4"]
        assert named.sheet == "Year 4" and cells(named) == [("A1", "Smith", 100)]
        only = scores_xlsx(HEADER, [("A1", "Smith", 100)], sheet="Only")
        assert read_scores(only, filename="book.xlsx").sheet == "Only"
        with pytest.raises(OptionMismatch, match="'Notes', 'Year 4'") as exc:
            read_scores(data, filename="book.xlsx", sheet="Year 5")
        assert exc.value.option == "sheet"

    def test_title_rows_blank_rows_and_row_numbers(self) -> None:
        data = scores_xlsx(
            HEADER,
            [("A1", "Smith", 100), (None, None, None), ("B2", "Jones", 101)],
            title_rows=[("Autumn 2025",)],
        )
        table = read_scores(data, filename="book.xlsx", header_row=2)
        assert [(row.number, row.cells) for row in table.rows] == [
            (3, ("A1", "Smith", 100)),
            (5, ("B2", "Jones", 101)),
        ]

    def test_cells_far_away_do_not_make_rows(self) -> None:
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.append(["UPN", "SAS"])
        sheet.append(["A1", 100])
        sheet["H40"] = "a note beside the table"
        buffer = io.BytesIO()
        workbook.save(buffer)
        table = read_scores(buffer.getvalue(), filename="book.xlsx")
        assert cells(table) == [("A1", 100)]

    def test_crafted_cells_read_as_text_or_refuse_the_file(self) -> None:
        data = scores_xlsx(("A", "B", "C"), [(111, 222, 333)])
        crafted = patched_xlsx(
            data, {b"<v>111</v>": b"<v>1E999</v>", b"<v>222</v>": b"<v>-1e999</v>"}
        )
        assert cells(read_scores(crafted, filename="c.xlsx")) == [("inf", "-inf", 333)]
        broken = patched_xlsx(data, {b"<v>333</v>": b"<v>lots</v>"})
        with pytest.raises(FileRejected, match="sheet 'Results': not a readable sheet"):
            read_scores(broken, filename="c.xlsx")
        entity = patched_xlsx(data, {b"<worksheet": b'<!DOCTYPE x [<!ENTITY e "boom">]><worksheet'})
        with pytest.raises(FileRejected, match="not a readable"):
            read_scores(entity, filename="c.xlsx")

    def test_too_wide_a_sheet_is_refused(self) -> None:
        header = [f"C{index}" for index in range(MAX_COLUMNS + 1)]
        data = scores_xlsx(header, [[1] * len(header)])
        with pytest.raises(FileRejected, match="columns: at most 200"):
            read_scores(data, filename="wide.xlsx")

    @pytest.mark.parametrize(
        ("data", "reason"),
        [
            (xlsx_bomb(), "zip bomb"),
            (lying_zip(), "damaged member|larger than its header says"),
            (encrypted_zip(), "encrypted"),
            (plain_zip(), "not an Excel .xlsx workbook"),
            (damaged_xlsx(), "not a readable .xlsx workbook"),
            (OLD_XLS, "old Excel .xls"),
        ],
    )
    def test_unsafe_and_unreadable_workbooks(self, data: bytes, reason: str) -> None:
        with pytest.raises(FileRejected, match=reason) as exc:
            read_scores(data, filename="upload.xlsx")
        assert str(exc.value).startswith("upload.xlsx")

    def test_a_file_called_xlsx_that_is_not_a_zip(self) -> None:
        with pytest.raises(FileRejected, match="not a zip"):
            read_scores(b"UPN,SAS\r\n", filename="scores.xlsx")
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        with pytest.raises(FileRejected, match="not a zip"):
            detect_format(b"UPN", filename="upload", content_type=media)
        # A zip is read as a workbook whatever its name says.
        assert detect_format(scores_xlsx(HEADER, []), filename="scores.csv") == "xlsx"


# --- Cells ---------------------------------------------------------------------------------


class TestDates:
    @pytest.mark.parametrize(
        "cell",
        [
            "2016-03-04",
            "04/03/2016",
            "4/3/2016",
            "04.03.2016",
            "04-03-2016",
            " 04/03/2016 ",
            "2016-03-04 00:00:00",
            "04/03/2016 00:00",
            date(2016, 3, 4),
            datetime(2016, 3, 4, 9, 15),
            42433,
            42433.0,
        ],
    )
    def test_a_date_of_birth_as_schools_write_it(self, cell) -> None:
        assert cell_date(cell) == date(2016, 3, 4)

    @pytest.mark.parametrize(
        ("cell", "reason"),
        [
            ("31/02/2016", "not a real date"),
            ("2016-13-01", "not a real date"),
            ("03/04/16", "not a date"),
            ("March 4th", "not a date"),
            (True, "not a date"),
            (42433.5, "not a date"),
            (12, "not a date"),
        ],
    )
    def test_what_is_not_a_date(self, cell, reason: str) -> None:
        with pytest.raises(ValueError, match=reason):
            cell_date(cell)

    @given(st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)))
    def test_every_way_of_writing_a_date_reads_back(self, day: date) -> None:
        serial = (day - date(1899, 12, 30)).days
        assert cell_date(day.isoformat()) == day
        assert cell_date(day.strftime("%d/%m/%Y")) == day
        assert cell_date(f"{day.day}/{day.month}/{day.year:04d}") == day
        assert cell_date(serial) == day
        assert cell_date(float(serial)) == day

    @given(st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)))
    def test_a_us_files_dates_read_month_first_when_the_mapping_says_so(self, day: date) -> None:
        us = f"{day.month}/{day.day}/{day.year:04d}"
        assert cell_date(us, DateFormat.MONTH_FIRST) == day
        assert cell_date(day.isoformat(), DateFormat.MONTH_FIRST) == day
        assert cell_date(day, DateFormat.MONTH_FIRST) == day  # a spreadsheet date is a date
        taken = datetime.combine(day, datetime.min.time()).replace(hour=14, minute=30)
        assert cell_moment(f"{us} 2:30 PM", DateFormat.MONTH_FIRST) == taken
        assert cell_moment(taken) == taken


class TestOtherCells:
    @given(
        st.decimals(
            allow_nan=False, allow_infinity=False, places=3, max_value=10**6, min_value=-(10**6)
        )
    )
    def test_numbers_read_exactly(self, number: Decimal) -> None:
        assert cell_number(str(number)) == number
        assert cell_number(float(str(number))) == number

    def test_decimal_commas_only_where_the_file_uses_them(self) -> None:
        assert cell_number("102,5", decimal_comma=True) == Decimal("102.5")
        with pytest.raises(ValueError, match="not a number"):
            cell_number("102,5")
        with pytest.raises(ValueError, match="not a number"):
            cell_number("1,025,000", decimal_comma=True)

    @pytest.mark.parametrize("cell", ["abc", "NaN", "Infinity", "", True, date(2016, 1, 1)])
    def test_what_is_not_a_number(self, cell) -> None:
        with pytest.raises(ValueError, match="not a number"):
            cell_number(cell)

    def test_cells_as_text(self) -> None:
        assert cell_text(102.0) == "102"
        assert cell_text(9.5) == "9.5"
        assert cell_text(True) == "TRUE"
        assert cell_text(date(2016, 3, 4)) == "2016-03-04"
        assert cell_text(" EXS ") == "EXS"

    def test_names_match_without_accents_case_or_spacing(self) -> None:
        assert fold_name("  Chloé   O'Brien ") == fold_name("CHLOE o'brien")
        assert fold_name("Zoë") == "zoe"
        assert fold_name("Ana") != fold_name("Anna")

    @given(st.text(max_size=30))
    def test_folding_a_name_twice_changes_nothing(self, name: str) -> None:
        assert fold_name(fold_name(name)) == fold_name(name)

    def test_upns_are_read_in_capitals_without_spaces(self) -> None:
        assert normalise_upn(" a801 2000 25001 ") == "A801200025001"


def test_excel_epoch() -> None:
    """Excel's day 61 is 1 March 1900 (it counts a 29 February 1900 that never was)."""
    assert cell_date(61) == date(1900, 3, 1)
    assert cell_date(45000) == date(1899, 12, 30) + timedelta(days=45000)
