"""Reading exports, survey layouts, column detection, score parsing and writers (all offline).

Fixtures come from tests/data/make_fixtures.py.
"""

from __future__ import annotations

import codecs
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxnlp.errors import ConfigError, InputError
from cxnlp.io import (
    ColumnMap,
    ReadWarning,
    detect_columns,
    iter_feedback,
    parse_scores,
    read_feedback,
    write_table,
)
from cxnlp.io import write as cxwrite
from cxnlp.io import xlsx as cxxlsx

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

PLAIN_FILES = [
    "plain_utf8.csv",
    "plain_bom.csv",
    "plain_cp1252_semicolon.csv",
    "plain_tab.tsv",
    "plain_pipe.txt",
    "plain_utf16.txt",
    "plain.xlsx",
    "plain.parquet",
    "plain.jsonl",
    "plain.json",
]


def _read_quiet(path: Path, **kw) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReadWarning)
        return read_feedback(path, **kw)


# --- formats -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def expected() -> pd.DataFrame:
    return _read_quiet(DATA / "plain_utf8.csv")


def test_plain_utf8_values(expected: pd.DataFrame) -> None:
    df = expected
    assert list(df.columns) == [
        "response_id", "submitted", "channel", "region", "plan", "nps", "comment",
    ]  # fmt: skip
    assert len(df) == 12 and isinstance(df.index, pd.RangeIndex)
    assert df["response_id"].iloc[0] == "00123"  # leading zeros survive
    assert df["nps"].iloc[2] == "10"  # scores stay strings until parse_scores
    assert df["comment"].iloc[3] == "Line one of my answer\nLine two: billing was confusing"
    assert (
        df["comment"].iloc[1] == 'The app crashed twice when I tried to pay. "Retry" did nothing.'
    )
    assert df["comment"].iloc[2] == "Café staff were lovely – très bien!"
    assert df["comment"].iloc[4].startswith("It’s fine")
    assert pd.isna(df["comment"].iloc[9])  # empty -> NA, row kept
    assert df.attrs["layout"] == "plain"
    assert df.attrs["encoding"] == "utf-8" and df.attrs["delimiter"] == ","


@pytest.mark.parametrize("name", PLAIN_FILES)
def test_every_format_reads_the_same_table(name: str, expected: pd.DataFrame) -> None:
    df = _read_quiet(DATA / name)
    if name.endswith(".parquet"):
        assert df["nps"].dtype == np.int64  # Parquet keeps its types
        df = df.assign(nps=df["nps"].astype(str))
    assert list(df.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(
        df.astype(object).where(df.notna(), None),
        expected.astype(object).where(expected.notna(), None),
        check_dtype=False,
    )


@pytest.mark.parametrize("name", ["title_lines.csv", "title_rows.xlsx"])
def test_a_title_above_the_header_is_skipped_and_said(name: str, expected: pd.DataFrame) -> None:
    """'Customer survey export, March 2024' and a blank line above the header: the table is
    the plain one, and a warning names the title and the header it found."""
    said = (r"skipped 1 (line|row)\(s\) above the header that look like a title \('Customer "
            r"survey export.*March 2024\)?'\); the header reads 'response_id', 'submitted', "
            r"'channel', 'region', \.\.\.")  # fmt: skip
    with pytest.warns(ReadWarning, match=said):
        df = read_feedback(DATA / name)
    pd.testing.assert_frame_equal(
        df.astype(object).where(df.notna(), None),
        expected.astype(object).where(expected.notna(), None),
        check_dtype=False,
    )


def test_no_title_is_found_in_ordinary_tables(tmp_path: Path) -> None:
    """One text column whose answers hold commas, a header with unnamed columns, a header
    that is a row of numbers: nothing is skipped."""
    p = tmp_path / "one.csv"
    p.write_text("comment\nfine\ngood, fast and cheap\nslow\nok, thanks\nnice\n")
    assert _read_quiet(p)["comment"].tolist()[1] == "good, fast and cheap"
    p.write_text("comment,,\ngreat,a,b\nawful,c,d\nok,e,f\n")
    assert list(_read_quiet(p).columns) == ["comment", "Unnamed: 1", "Unnamed: 2"]
    p.write_text("note\n1,2,3\n4,5,6\n7,8,9\n")
    with pytest.raises(InputError, match="more fields than the header"):
        read_feedback(p)


def _rows(n: int) -> str:
    return "".join(f'"Slow and rude staff {i}",{i % 11},{("North", "South")[i % 2]}\n'
                   for i in range(n))  # fmt: skip


@pytest.mark.parametrize(
    ("text", "header"),
    [  # a header is never taken for a title
        ("comment,score,region\n" + _rows(120).replace("\n", ",\n"), "comment"),  # rows end in ','
        ("What could we do better?,,\n" + _rows(120), "What could we do better?"),
        ("Your feedback,\n" + "".join(f"Great service {i},North\n" for i in range(120)),
         "Your feedback"),
        ("comment,2024,score\n" + _rows(120), "comment"),
    ],
)  # fmt: skip
def test_headers_are_not_titles(tmp_path: Path, text: str, header: str) -> None:
    p = tmp_path / "h.csv"
    p.write_text(text)
    df = _read_quiet(p)
    assert df.columns[0] == header and len(df) == 120 and df.attrs["title_rows"] == 0
    pieces = list(iter_feedback(p, piece_bytes=200))  # later pieces do not look for titles
    assert len(pieces) > 1
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), df, check_dtype=False)


@pytest.mark.parametrize(
    "above",
    ["Report,Customer feedback\nExported,2024-03-01\n",  # key/value lines
     "Customer survey export,,\nGenerated on 2024-03-01,,\n",
     "Feedback\n\n"],
)  # fmt: skip
def test_titles_of_several_shapes_are_skipped(tmp_path: Path, above: str) -> None:
    p = tmp_path / "t.csv"
    p.write_text(above + "comment,comment,score\n" + _rows(30))  # a repeated name too
    with pytest.warns(ReadWarning, match="above the header that look like a title"):
        df = read_feedback(p)
    assert list(df.columns) == ["comment", "comment.1", "score"] and len(df) == 30


def test_line_numbers_count_the_title_lines(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    rows = "".join(f"{i},fine\n" for i in range(20))
    p.write_text(f"Export of 2024\n\nid,comment\n{rows}20,too,many\n21,ok\n")
    with pytest.raises(InputError, match=r"line\(s\) 24; line 24 has 3"):
        read_feedback(p)


@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [
        ("plain_bom.csv", "utf-8-sig", ","),
        ("plain_cp1252_semicolon.csv", "cp1252", ";"),
        ("plain_tab.tsv", "utf-8", "\t"),
        ("plain_pipe.txt", "utf-8", "|"),
        ("plain_utf16.txt", "utf-16", "\t"),
    ],
)
def test_encoding_and_delimiter_detected(name: str, encoding: str, delimiter: str) -> None:
    df = _read_quiet(DATA / name)
    assert df.attrs["encoding"] == encoding
    assert df.attrs["delimiter"] == delimiter
    assert df.columns[0] == "response_id"  # no BOM left in the first header


def test_explicit_encoding_and_delimiter() -> None:
    df = read_feedback(DATA / "plain_cp1252_semicolon.csv", encoding="cp1252", delimiter=";")
    assert df["comment"].iloc[10] == "Smooth checkout, €5 cheaper than before"
    df = read_feedback(DATA / "plain_tab.tsv", delimiter="\\t")
    assert df.shape == (12, 7)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(tmp_path: Path, codec: str) -> None:
    p = tmp_path / "u16.csv"
    text = "comment,rating\nThe delivery was late,2\nGreat quality – merci,5\n"
    p.write_bytes(text.encode(codec))
    for encoding in (None, codec):  # detected, or given explicitly
        df = _read_quiet(p, encoding=encoding)
        assert df.attrs["encoding"] == codec
        assert list(df.columns) == ["comment", "rating"]
        assert df["comment"].tolist() == ["The delivery was late", "Great quality – merci"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_mostly_non_ascii(tmp_path: Path, codec: str) -> None:
    """Japanese text in UTF-16 has few NUL bytes; it is still told from binary data, also when
    the 4 KiB sample ends inside a surrogate pair (the emoji)."""
    p = tmp_path / "u16.csv"
    row = "配達がとても遅かったです、残念😞,2\n"

    def cut_in_pair(data: bytes) -> bool:
        try:
            data[:4096].decode(codec)
        except UnicodeDecodeError:
            return True
        return False

    def export(header: str) -> bytes:
        return (header + ",評価\n" + row * 200).encode(codec)

    # a header just long enough to put byte 4096 inside the emoji
    header = next(h for n in range(19) if cut_in_pair(export(h := "コメント" + "ー" * n)))
    p.write_bytes(export(header))
    df = _read_quiet(p)
    assert df.attrs["encoding"] == codec and list(df.columns) == [header, "評価"]
    assert len(df) == 200 and df[header].iloc[-1] == row.split(",")[0]


def test_nul_bytes_are_binary_whatever_single_byte_encoding_is_named(tmp_path: Path) -> None:
    p = tmp_path / "export.csv"
    p.write_bytes(b"comment,rating\n" + bytes(range(256)) * 8)
    for encoding in ("latin-1", "utf-8", None):
        with pytest.raises(InputError, match="contains binary data"):
            read_feedback(p, encoding=encoding)


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-be"])
def test_utf32_with_bom(tmp_path: Path, codec: str) -> None:
    p = tmp_path / "u32.csv"
    text = "comment,rating\nThe delivery was late,2\nGreat quality,5\n"
    p.write_bytes((codecs.BOM_UTF32_BE if codec == "utf-32-be" else b"") + text.encode(codec))
    df = _read_quiet(p)
    assert df.attrs["encoding"] == "utf-32"
    assert list(df.columns) == ["comment", "rating"] and len(df) == 2


def test_explicit_wrong_encoding_names_the_line() -> None:
    with pytest.raises(InputError, match=r"not valid utf-8: byte 0x.. on line 4"):
        read_feedback(DATA / "plain_cp1252_semicolon.csv", encoding="utf-8")
    with pytest.raises(InputError, match="Unknown encoding 'nope'"):
        read_feedback(DATA / "plain_utf8.csv", encoding="nope")


def test_latin1_fallback_with_warning(tmp_path: Path) -> None:
    p = tmp_path / "odd.csv"
    p.write_bytes(b"id,comment\n1,caf\xe9 \x81 ok\n")  # 0x81 is undefined in cp1252
    with pytest.warns(ReadWarning, match="neither UTF-8 nor cp1252"):
        df = read_feedback(p)
    assert df["comment"].iloc[0].startswith("café")


def test_blank_lines_are_not_rows_but_empty_rows_between_are_reported(tmp_path: Path) -> None:
    p = tmp_path / "blank.csv"
    p.write_text("id,comment\n\n1,first one here\n\n2,second one\n,\n3,third\n,\n,\n")
    with pytest.warns(ReadWarning, match="skipped 1 empty row"):
        df = read_feedback(p)
    assert df["id"].tolist() == ["1", "2", "3"]


def test_single_column_file(tmp_path: Path) -> None:
    p = tmp_path / "comments.txt"
    p.write_text("comment\nGreat, fast and friendly\nToo slow; never again\n")
    df = _read_quiet(p)
    assert df["comment"].tolist() == ["Great, fast and friendly", "Too slow; never again"]


def test_trailing_delimiter_and_duplicate_headers(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("id,comment,comment,\n1,a b c,x,\n2,d e f,y,\n")
    df = _read_quiet(p)
    assert list(df.columns) == ["id", "comment", "comment.1"]


def test_trailing_delimiter_with_an_unquoted_delimiter_is_refused(tmp_path: Path) -> None:
    lines = ["comment,rating,"] + [f"comment number {i},{i % 5 + 1}," for i in range(8)]
    lines[6] = "The zipper broke, the seams came apart,1,"  # line 7: one field too many
    p = tmp_path / "trailing.csv"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as e:
        read_feedback(p)
    msg = str(e.value)
    assert "1 row(s) have more fields than the header's 3" in msg
    assert "(line(s) 7; line 7 has 4)" in msg and "quote such values" in msg
    lines[6] = '"The zipper broke, the seams came apart",1,'  # quoted: reads fine
    p.write_text("\n".join(lines) + "\n")
    df = _read_quiet(p)
    assert list(df.columns) == ["comment", "rating"]  # the empty trailing column is dropped
    assert df["comment"].iloc[5] == "The zipper broke, the seams came apart"
    assert df["rating"].iloc[5] == "1"


def test_unnamed_last_column_with_values_is_kept(tmp_path: Path) -> None:
    # no trailing-delimiter convention here: the unnamed column holds values, as before
    p = tmp_path / "notes.csv"
    p.write_text("id,comment,\n1,good service,\n2,slow reply,see ticket\n3,rude staff,x,\n")
    df = _read_quiet(p)
    assert list(df.columns) == ["id", "comment", "Unnamed: 2"]
    assert df["Unnamed: 2"].tolist()[1:] == ["see ticket", "x"]


def test_long_quoted_field_reads(tmp_path: Path) -> None:
    long = "The zipper broke after one wash. " * 6000  # ~200,000 characters
    p = tmp_path / "long.csv"
    pd.DataFrame({"comment": ["Lovely dress", long, "Too small"], "rating": [5, 1, 2]}).to_csv(
        p, index=False
    )
    df = _read_quiet(p)
    assert df["comment"].tolist() == ["Lovely dress", long, "Too small"]
    assert df["rating"].tolist() == ["5", "1", "2"]


def test_short_rows_padded_with_warning() -> None:
    with pytest.warns(ReadWarning, match=r"fewer fields than the header's 4 \(line\(s\) 3\)"):
        df = read_feedback(BAD / "short_rows.csv")
    assert len(df) == 3 and pd.isna(df["comment"].iloc[1])


def test_mixed_encoding_recovered_with_warning() -> None:
    with pytest.warns(ReadWarning, match=r"mixes encodings: 2 line\(s\) \(5, 6\)"):
        df = read_feedback(BAD / "mixed_encoding.csv")
    assert df["comment"].tolist() == [
        "Café was great", "Crème brûlée ok", "plain text", "Déjà vu – again", "naïve “quotes”",
    ]  # fmt: skip


def test_xlsx_sheet_selection(tmp_path: Path) -> None:
    p = tmp_path / "two.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"x": ["1"]}).to_excel(xw, sheet_name="Summary", index=False)
        pd.DataFrame({"comment": ["good stuff"]}).to_excel(xw, sheet_name="Data", index=False)
    with pytest.warns(ReadWarning, match="several sheets with data; read 'Summary'"):
        assert list(read_feedback(p).columns) == ["x"]
    assert list(read_feedback(p, sheet="Data").columns) == ["comment"]
    assert read_feedback(p, sheet=1).attrs["sheet"] == "Data"
    with pytest.raises(
        InputError, match=r"Sheet 'Nope' not found in two.xlsx \(sheets: Summary, Data\)"
    ):
        read_feedback(p, sheet="Nope")


# --- survey layouts ----------------------------------------------------------------------------


def test_qualtrics_layout() -> None:
    df = _read_quiet(DATA / "qualtrics.csv")
    assert df.attrs["layout"] == "qualtrics"
    assert len(df) == 8  # the two extra header rows are gone
    assert df.columns[0] == "StartDate" and "Q2" in df.columns and "Q5_4_TEXT" in df.columns
    assert df["ResponseId"].iloc[0] == "R_00aB3c4D5e6F7g8h"
    q = df.attrs["questions"]
    assert q["Q1"].startswith("How likely are you to recommend")
    assert q["Q2"] == "Why did you give that score? Please be as specific as possible."
    assert not df.isin(['{"ImportId":"QID1"}']).any().any()


@pytest.mark.parametrize("name", ["surveymonkey.csv", "surveymonkey.xlsx"])
def test_surveymonkey_layout(name: str) -> None:
    df = _read_quiet(DATA / name)
    assert df.attrs["layout"] == "surveymonkey"
    assert len(df) == 8
    cols = list(df.columns)
    assert cols[:2] == ["Respondent ID", "Collector ID"]
    assert "How likely is it that you would recommend Acme to a friend or colleague?" in cols
    assert "What is the main reason for your score?" in cols
    assert "Which region are you in? - Other (please specify)" in cols
    assert "Which of these products do you use? - TV" in cols
    assert len(set(cols)) == len(cols)
    assert df["Which region are you in? - Other (please specify)"].iloc[5] == "Islands"
    assert df["Respondent ID"].iloc[0] == "114230512300"
    assert df.attrs["questions"]["Which of these products do you use? - TV"] == (
        "Which of these products do you use?"
    )


def test_plain_file_is_not_mistaken_for_a_survey_layout() -> None:
    assert _read_quiet(DATA / "clothing_reviews.csv").attrs["layout"] == "plain"


# --- column detection ----------------------------------------------------------------------


def test_detect_plain(expected: pd.DataFrame) -> None:
    cm = detect_columns(expected)
    assert cm.text == ["comment"]
    assert cm.scores == {"nps": "nps"}
    assert cm.date == "submitted"
    assert cm.segments == ["channel", "region", "plan"]
    assert cm.id == "response_id"


def test_detect_clothing_reviews() -> None:
    cm = detect_columns(_read_quiet(DATA / "clothing_reviews.csv"))
    assert cm.text == ["Review Text", "Title"]
    assert cm.scores == {"Rating": "rating", "Recommended IND": "recommend"}
    assert cm.segments == ["Division Name", "Department Name", "Class Name"]
    assert cm.id == "Unnamed: 0"
    assert cm.date is None
    out = cm.describe()
    assert "Review Text (+ Title)" in out and "Rating (rating)" in out


def test_detect_qualtrics() -> None:
    cm = detect_columns(_read_quiet(DATA / "qualtrics.csv"))
    assert cm.text == ["Q2"]  # found through the question text ("Why ...")
    assert cm.scores == {"Q1": "nps", "Q3": "ces"}
    assert cm.date == "RecordedDate"
    assert cm.segments == ["Q4", "Q5"]  # metadata (DistributionChannel, Status...) left out
    assert cm.id == "ResponseId"


def test_detect_surveymonkey() -> None:
    cm = detect_columns(_read_quiet(DATA / "surveymonkey.csv"))
    assert cm.text == ["What is the main reason for your score?"]
    assert cm.scores == {
        "How likely is it that you would recommend Acme to a friend or colleague?": "nps",
        "Overall, how satisfied are you with our support?": "csat",
    }
    assert cm.date == "End Date"
    assert cm.segments == ["Which region are you in?"]
    assert cm.id == "Respondent ID"


def test_detect_by_content_only() -> None:
    rng = np.random.default_rng(0)
    words = [
        "the",
        "delivery",
        "was",
        "late",
        "and",
        "support",
        "never",
        "called",
        "me",
        "back",
        "about",
        "my",
        "refund",
    ]
    df = pd.DataFrame(
        {
            "c1": [" ".join(rng.choice(words, 9)) for _ in range(60)],
            "c2": [str(i % 11) for i in range(60)],
            "c3": [f"2024-05-{1 + i % 28:02d}" for i in range(60)],
        }
    )
    cm = detect_columns(df)
    assert cm.text == ["c1"] and cm.scores == {"c2": "nps"} and cm.date == "c3"


def test_counts_are_not_nps() -> None:
    counts = [0] * 30 + list(range(11)) * 2
    df = pd.DataFrame(
        {"comment": [f"comment number {i} is here" for i in range(len(counts))],
         "retweet_count": [str(c) for c in counts]}
    )  # fmt: skip
    assert detect_columns(df).scores == {}


def test_overrides_win(expected: pd.DataFrame) -> None:
    cm = detect_columns(
        expected,
        text="plan",
        scores={"nps": None},
        date=False,
        segments=["region"],
        id="response_id",
    )
    assert cm == ColumnMap(
        text=["plan"], scores={"nps": "nps"}, date=None, segments=["region"],
        id="response_id", notes=cm.notes,
    )  # fmt: skip
    cm = detect_columns(expected, scores={"nps": "csat"}, segments=[])
    assert cm.scores == {"nps": "csat"} and cm.segments == []
    assert detect_columns(expected, scores=[]).scores == {}


def test_missing_column_error_lists_columns_and_fix(expected: pd.DataFrame) -> None:
    with pytest.raises(InputError) as e:
        detect_columns(expected, text="Comment ")
    msg = str(e.value)
    assert "Column 'Comment ' not found in plain_utf8.csv" in msg
    assert "(columns: response_id, submitted, channel" in msg
    assert "Did you mean 'comment'?" in msg
    assert "io.text_column" in msg and "--text-column" in msg
    with pytest.raises(InputError, match="--segment-column"):
        detect_columns(expected, segments=["nope"])
    with pytest.raises(InputError, match="io.score_columns"):
        detect_columns(expected, scores={"nope": "nps"})
    with pytest.raises(ConfigError, match="Unknown score kind 'nsp'"):
        detect_columns(expected, scores={"nps": "nsp"})


def test_no_text_column_error() -> None:
    df = pd.DataFrame({"id": ["1", "2", "3"], "score": ["9", "3", "7"]})
    df.attrs["source"] = "scores.csv"
    with pytest.raises(InputError) as e:
        detect_columns(df)
    msg = str(e.value)
    assert "No free-text column found in scores.csv (columns: id, score)" in msg
    assert "--text-column" in msg


@pytest.mark.parametrize(
    ("comment", "needle"),
    [
        (["", None, " "], "column 'comment' is empty in every row"),
        (["1", "2", "5"], "column 'comment' holds only numbers ('1', '2', '5'), not text"),
        ([], "the table has no rows"),
    ],
)
def test_no_text_column_error_says_what_is_wrong(comment: list, needle: str) -> None:
    df = pd.DataFrame({"comment": comment, "rating": ["4"] * len(comment)}, dtype=object)
    df.attrs["source"] = "x.csv"
    with pytest.raises(InputError) as e:
        detect_columns(df)
    msg = str(e.value)
    assert msg.startswith("No free-text column found in x.csv (columns: comment, rating): ")
    assert needle in msg and "--text-column" in msg
    assert "Looked for headers like comment" not in msg


def test_unknown_score_kind_for_named_column() -> None:
    df = pd.DataFrame({"comment": ["a b c"] * 3, "pts": ["40", "75", "99"]})
    with pytest.raises(InputError, match="Cannot tell what kind of score 'pts'"):
        detect_columns(df, scores=["pts"])


# --- scores ------------------------------------------------------------------------------------


def test_parse_scores_nps() -> None:
    s = pd.Series(["9", " 10 ", "7.0", "11", "", None, "n/a", "6.5", "0 - Not at all likely"])
    values, invalid = parse_scores(s, "nps")
    assert values.tolist()[:3] == [9.0, 10.0, 7.0]
    assert np.isnan(values.iloc[3:8]).all() and values.iloc[8] == 0.0
    assert invalid.tolist() == [False, False, False, True, False, False, True, True, False]


@pytest.mark.parametrize(
    ("kind", "raw", "vals", "bad"),
    [
        ("csat", ["1", "5", "0", "6", "4 stars"], [1, 5, None, None, 4], [0, 0, 1, 1, 0]),
        ("ces", ["1", "7", "8"], [1, 7, None], [0, 0, 1]),
        ("rating", ["4.5", "5", "0"], [4.5, 5, None], [0, 0, 1]),
        ("recommend", ["Yes", "no", "TRUE", "0", "1", "maybe"], [1, 0, 1, 0, 1, None],
         [0, 0, 0, 0, 0, 1]),
    ],
)  # fmt: skip
def test_parse_scores_kinds(kind: str, raw: list, vals: list, bad: list) -> None:
    values, invalid = parse_scores(pd.Series(raw, name="x"), kind)
    assert [None if np.isnan(v) else v for v in values] == vals
    assert invalid.astype(int).tolist() == bad
    assert values.name == "x"


def test_parse_scores_numeric_and_bool_input() -> None:
    values, invalid = parse_scores(pd.Series([0, 10, 12, np.nan]), "nps")
    assert invalid.tolist() == [False, False, True, False]
    values, invalid = parse_scores(pd.Series([True, False]), "recommend")
    assert values.tolist() == [1.0, 0.0]
    # a yes/no column mapped as NPS is not 1s and 0s (True would count as a detractor)
    values, invalid = parse_scores(pd.Series([True, False, True]), "nps")
    assert values.isna().all() and invalid.all()
    with pytest.raises(ConfigError):
        parse_scores(pd.Series(["1"]), "stars")


# --- bad inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "needles"),
    [
        ("empty.csv", ["empty (0 bytes)", "Export the data again"]),
        ("blank_lines.csv", ["holds no data"]),
        ("header_only.csv", ["has a header row (response_id, submitted", "but no responses"]),
        ("qualtrics_header_only.csv", ["3 Qualtrics header rows", "no responses"]),
        ("xlsx_named.csv", ["an Excel workbook (XLSX), not CSV", "Rename it to 'xlsx_named.xlsx'"]),
        ("csv_named.xlsx", ["is CSV/delimited text, not an Excel workbook", "csv_named.csv"]),
        ("binary.csv", ["binary data", "not CSV"]),
        ("html_error.csv", ["HTML page titled 'Sign in - Acme Survey", "download the export"]),
        ("ragged.csv", ["2 row(s) have more fields than the header's 3", "line(s) 3, 5", "quote"]),
        ("unclosed_quote.csv", ["starts on line 3 is never closed"]),
        ("zip_bomb.xlsx", ["possible zip bomb", "xl/media/image1.bin"]),
        ("truncated.xlsx", ["damaged"]),
        ("legacy.xls", ["Excel 97-2003", "save it as .xlsx"]),
        ("bad_line.jsonl", ["line 3 is not valid JSON"]),
    ],
)  # fmt: skip
def test_bad_inputs_give_input_error(name: str, needles: list[str]) -> None:
    with pytest.raises(InputError) as e:
        read_feedback(BAD / name)
    for needle in needles:
        assert needle in str(e.value), str(e.value)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="File not found") as e:
        read_feedback(tmp_path / "nope.csv")
    assert "relative to" not in str(e.value)  # said of relative paths only
    with pytest.raises(InputError, match=r"File not found: nope.csv. Check the path \(it is rel"):
        read_feedback("nope.csv")
    with pytest.raises(InputError, match="is a folder"):
        read_feedback(tmp_path)


def test_limits_set_on_cxnlp_io_still_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before cxnlp.io became a package its limits were cxnlp.io.<NAME>; setting one there
    must reach the module that reads it, not be silently ignored."""
    import cxnlp.io

    monkeypatch.setattr(cxnlp.io, "XLSX_MAX_UNCOMPRESSED_BYTES", 1000)
    assert cxxlsx.XLSX_MAX_UNCOMPRESSED_BYTES == 1000
    with pytest.raises(InputError, match="would unpack to"):
        read_feedback(DATA / "plain.xlsx")
    monkeypatch.setattr(cxnlp.io, "PIECE_BYTES", 200)  # the default piece size, read per call
    assert len(list(iter_feedback(DATA / "topics_feedback.csv"))) > 1


def test_zip_bomb_checked_by_total_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cxxlsx, "XLSX_MAX_UNCOMPRESSED_BYTES", 1000)
    with pytest.raises(InputError, match=r"would unpack to .* MiB"):
        read_feedback(DATA / "plain.xlsx")


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    p = tmp_path / "export.xlsx"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("export.csv", "id,comment\n1,hi\n")
    with pytest.raises(InputError, match="is a zip archive, not an Excel workbook"):
        read_feedback(p)


def test_json_errors(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text("[1, 2]")
    with pytest.raises(InputError, match="item 0 is a JSON int, not an object"):
        read_feedback(p)
    p.write_text("[]")
    with pytest.raises(InputError, match="no records"):
        read_feedback(p)
    p.write_text('{"responses": [{"id": 1, "comment": "nested ok", "tags": ["a"]}]}')
    df = read_feedback(p)
    assert df["tags"].iloc[0] == '["a"]' and df["id"].iloc[0] == "1"


def test_random_junk_never_raises_anything_but_input_error(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    for i in range(30):
        ext = [".csv", ".xlsx", ".json", ".parquet", ".txt"][i % 5]
        p = tmp_path / f"junk{i}{ext}"
        head = [b"PK\x03\x04", b"PAR1", b"{", b"id,comment\n", b""][i % 5]
        p.write_bytes(head + rng.bytes(int(rng.integers(0, 400))))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read_feedback(p)
        except InputError:
            pass


# --- writers -------------------------------------------------------------------------------


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["00123", "00124", "00125"],
            "comment": ['=HYPERLINK("http://x")', "-3.5", 'plain, "quoted"\nnewline'],
            "other": ["+44 20 7946", "@SUM(A1)", None],
            "score": [9, -1, 7],
        }
    )


def test_write_csv_neutralises_formulas(tmp_path: Path) -> None:
    p = write_table(_table(), tmp_path / "out" / "t.csv")
    raw = p.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in raw and "'+44 20 7946" in raw and "'@SUM(A1)" in raw
    back = read_feedback(p)
    assert back["comment"].iloc[1] == "-3.5"  # a plain number is left alone
    assert back["comment"].iloc[2] == 'plain, "quoted"\nnewline'
    assert back["score"].tolist() == ["9", "-1", "7"]
    assert back["id"].iloc[0] == "00123"
    assert not list(tmp_path.glob("out/.*tmp"))


def test_write_roundtrips(tmp_path: Path) -> None:
    df = _table()
    for ext in (".parquet", ".jsonl", ".xlsx"):
        p = write_table(df, tmp_path / f"t{ext}")
        back = read_feedback(p)
        assert len(back) == 3 and list(back.columns) == list(df.columns)
        assert back["comment"].iloc[0] == '=HYPERLINK("http://x")'  # stored as text
        assert back["id"].iloc[0] == "00123"
    with zipfile.ZipFile(tmp_path / "t.xlsx") as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # never written as a formula


def test_written_tables_get_the_usual_file_mode(tmp_path: Path) -> None:
    """Tables are as readable as any file the user writes there (the umask decides)."""
    import stat

    usual = tmp_path / "usual.txt"
    usual.write_text("x")
    for name in ("t.csv", "t.parquet"):
        written = write_table(_table(), tmp_path / name)
        assert stat.S_IMODE(written.stat().st_mode) == stat.S_IMODE(usual.stat().st_mode)


def test_write_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unsupported extension '.txt'"):
        write_table(_table(), tmp_path / "t.txt")


def test_column_map_serialises() -> None:
    cm = ColumnMap(text=["c"], scores={"s": "nps"})
    assert json.loads(cm.model_dump_json())["scores"] == {"s": "nps"}
    with pytest.raises(ValueError):
        ColumnMap(text=["c"], scores={"s": "stars"})  # type: ignore[dict-item]


# --- real data (slow, needs ../shared/data) ------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data")
@pytest.mark.parametrize(
    ("rel", "text", "scores"),
    [
        ("womens-ecommerce-clothing-reviews/Womens Clothing E-Commerce Reviews.csv",
         "Review Text", {"Rating": "rating", "Recommended IND": "recommend"}),
        ("nps-verbatims-telecom/nps_verbatims.csv", "text", {"NPS_SCORE": "nps"}),
        ("amazon-alexa-reviews/amazon_alexa.tsv", "verified_reviews", {"rating": "rating"}),
        ("twitter-us-airline-sentiment/Tweets.csv", "text", {}),
    ],
)  # fmt: skip
def test_real_exports(rel: str, text: str, scores: dict[str, str]) -> None:
    df = read_feedback(SHARED / rel)
    cm = detect_columns(df)
    assert cm.text[0] == text and cm.scores == scores


def test_written_out_answers_only_where_their_scale_is_named():
    """Labels are scale points under a header that names the scale; elsewhere 'Satisfied' or
    'Agree' is a segment. A fraction counts only out of the kind's top, stars only as stars,
    a 7-point satisfaction scale is not CSAT's five, and 0/1 is yes/no unless under NPS."""
    comments = [f"It broke after {i} days, awful" for i in range(30)]
    moods = ["Satisfied", "Dissatisfied", "Neutral"] * 10
    df = pd.DataFrame({"review": comments, "Outcome": moods, "Consent": ["Agree", "Disagree"] * 15,
                       "CSAT binarized": [0, 1] * 15, "Easy?": [1, 0] * 15})  # fmt: skip
    cols = detect_columns(df)
    assert cols.scores == {} and {"Outcome", "Consent"} <= set(cols.segments)
    nps, bad = parse_scores(pd.Series(["4 out of 5", "4 / 5", "8/10", "★★★★"]), "nps")
    assert nps.isna().tolist() == [True, True, False, True] and bad.tolist()[:2] == [True, True]
    seven = pd.Series(["Satisfied", "Somewhat satisfied", "Very satisfied", "Dissatisfied"])
    assert parse_scores(seven, "csat")[1].all()  # a 7-point scale: every answer invalid


def test_a_stray_nul_in_a_file_with_a_named_encoding_reads(tmp_path: Path) -> None:
    p = tmp_path / "one_nul.csv"
    p.write_bytes(b"comment,score\nGreat service\x00,9\n" + b"Slow,3\n" * 20)
    with pytest.raises(InputError, match="contains binary data"):
        read_feedback(p)  # unnamed: the NUL byte says binary
    assert len(read_feedback(p, encoding="utf-8")) == 21


def test_the_comments_named_as_a_score_are_said_to_be_so():
    comments = [f"The delivery was {d} days late and nobody answered" for d in range(10)]
    df = pd.DataFrame({"text": comments, "nps": [3, 9] * 5})
    assert detect_columns(df).text == ["text"]
    with pytest.raises(InputError, match="'text' holds the comments but was named as the score"):
        detect_columns(df, scores={"text": "nps"})
    with pytest.raises(InputError, match="'text' holds the comments but was named as the date"):
        detect_columns(df, date="text")


def test_answers_written_out_are_scale_points():
    """Survey tools export CSAT and CES as their labels, ratings as '4/5' or stars: each is
    its scale point, found by detection too; what fits no scale stays invalid."""
    csat, bad = parse_scores(pd.Series(["Very satisfied", "satisfied", "Neither satisfied nor "
                                        "dissatisfied", "Dissatisfied.", "Very dissatisfied",
                                        "Somewhat", "", "4/5", "4/7"]), "csat")  # fmt: skip
    assert csat.tolist()[:5] == [5, 4, 3, 2, 1] and csat.tolist()[7] == 4
    assert bad.tolist() == [False] * 5 + [True, False, False, True]
    ces, _ = parse_scores(pd.Series(["Strongly agree", "Agree", "Neutral", "Strongly disagree"]),
                          "ces")  # fmt: skip
    assert ces.tolist() == [7, 6, 4, 1]
    stars, _ = parse_scores(pd.Series(["★★★★☆", "⭐⭐", "3 out of 5", "8/10"]), "rating")
    assert stars.tolist()[:3] == [4, 2, 3] and np.isnan(stars.iloc[3])
    nps, _ = parse_scores(pd.Series(["Extremely likely", "Not at all likely", "7"]), "nps")
    assert nps.tolist() == [10, 0, 7]
    comments = ["It broke after a day, awful", "Lovely speaker, great sound"] * 15
    labels = ["Very satisfied", "Satisfied", "Dissatisfied", "Very dissatisfied", "Neutral"] * 6
    cols = detect_columns(pd.DataFrame({"review": comments, "Satisfaction": labels}))
    assert cols.scores == {"Satisfaction": "csat"} and cols.segments == []


def test_a_star_rating_is_never_taken_for_nps():
    """A 1-5 rating with a few 0s ('not rated') stays a rating (the 0s are invalid stars,
    noted row by row), and a 1-10 or 1-7 'rating' is no NPS or CES: it is left out with a
    note that says how to use it; a generic 'score' of 0-10 is still NPS."""
    comments = ["It broke after a day, awful", "Lovely speaker, great sound"] * 30
    stars = [5, 4, 5, 3, 1, 2] * 10
    df = pd.DataFrame({"review": comments, "rating": [0, 0] + stars[2:],
                       "Rating (out of 10)": list(range(1, 11)) * 6,
                       "stars": [1, 2, 3, 4, 5, 6, 7] * 8 + [1, 2, 3, 4],
                       "Score": list(range(11)) * 5 + [9] * 5})  # fmt: skip
    cols = detect_columns(df)
    assert cols.scores == {"rating": "rating", "Score": "nps"}
    notes = " ".join(cols.notes)
    assert "'Rating (out of 10)' is named like a score but its values (1 to 10)" in notes
    assert "'stars' is named like a score but its values (1 to 7)" in notes
    assert "a rating is 1-5 stars; a 0-10 likelihood to recommend is 'nps'" in notes
    values, invalid = parse_scores(df["rating"], "rating")
    assert values.isna().sum() == 2 and invalid.sum() == 2


def test_repeated_index_labels_do_not_change_the_mapping():
    """pd.concat without ignore_index, set_index('Division'), dask partitions: labels repeat;
    the columns found (and the fill rates said) are those of the same rows by position."""
    df = read_feedback(DATA.parent.parent / "examples" / "clothing_reviews.csv").head(300)
    plain = detect_columns(df.reset_index(drop=True))
    repeated = detect_columns(df.set_axis([0, 1, 2] * 100))
    assert repeated.text == plain.text == ["Review Text", "Title"]
    assert repeated.notes == plain.notes and "% filled" in plain.notes[0]


def test_a_column_named_like_a_score_that_is_not_one_is_noted():
    """A score column is never dropped silently: when its values do not fit a scale, the
    mapping's notes say so and how to force it."""
    comments = ["Great service and lovely staff"] * 6 + ["Terrible wait times on the phone"] * 6
    df = pd.DataFrame({
        "comment": comments,
        "nps": ["10", "n/a", "3", "unknown", "9", "skip", "8", "none", "1", "--", "7", "?"],
        "satisfaction score": [55, 80, 100, 20, 75, 90, 65, 30, 85, 95, 70, 45],
    })  # fmt: skip
    cols = detect_columns(df)
    assert cols.scores == {}
    notes = " ".join(cols.notes)
    assert "'nps' is named like a score but only 50% of its values are numbers" in notes
    assert "'satisfaction score' is named like a score but its values (20 to 100)" in notes
    assert "--score-column 'nps=KIND'" in notes


def test_a_filtered_export_keeps_its_score_column():
    """Only the 1-star reviews, or only detractors scoring 0 and 1, are still scores when the
    header names one; 0/1 under a generic 'rating' stays a yes/no column, and the note says so."""
    comments = ["It broke after a day, awful", "Rude staff and a slow refund"] * 3
    df = pd.DataFrame({"review": comments, "Rating": [1] * 6, "NPS": [0, 1] * 3})
    assert detect_columns(df).scores == {"Rating": "rating", "NPS": "nps"}
    df = pd.DataFrame({"review": comments, "Rating": [0, 1] * 3})
    cols = detect_columns(df)
    assert cols.scores == {}
    assert "'Rating' is named like a score but it holds two values, read as yes/no" in " ".join(
        cols.notes
    )


def test_xlsx_cover_sheet_is_not_the_data(tmp_path):
    """A one-line cover sheet ("Export of survey ...") before the data sheet: the sheet with
    responses is read, without a 'several sheets' warning."""
    import warnings

    path = tmp_path / "export.xlsx"
    with pd.ExcelWriter(path) as xlsx:
        pd.DataFrame(columns=["Export of the Q3 survey"]).to_excel(xlsx, sheet_name="About",
                                                                   index=False)  # fmt: skip
        pd.DataFrame({"comment": ["Great service", "Slow delivery"], "rating": [5, 2]}).to_excel(
            xlsx, sheet_name="Data", index=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = read_feedback(path)
    assert df["comment"].tolist() == ["Great service", "Slow delivery"]


def test_html_in_a_csv_header_is_not_xml(tmp_path):
    """Survey tools put HTML in question headers: a delimiter outside the tags makes the
    file a table; a real XML file is still refused."""
    path = tmp_path / "export.csv"
    path.write_text("<b>Comment</b>,Rating\nGreat service,5\nSlow delivery,2\n")
    df = read_feedback(path)
    assert list(df.columns) == ["<b>Comment</b>", "Rating"] and len(df) == 2
    xml = tmp_path / "data.csv"
    for body in ('<?xml version="1.0"?>\n<rows><row comment="a, b"/></rows>\n',
                 '<rows>\n<row comment="a, b"/>\n</rows>\n',
                 "<responses><r><comment>Late, and rude</comment></r></responses>\n"):  # fmt: skip
        xml.write_text(body)
        with pytest.raises(InputError, match="XML document"):
            read_feedback(xml)


def test_a_table_written_in_pieces_has_the_same_bytes_however_cut(tmp_path, monkeypatch):
    """sentences.parquet is written chunk by chunk: its row groups (and so its bytes) must not
    depend on the chunk size (README: byte-identical whatever the chunk size)."""
    import pyarrow as pa

    monkeypatch.setattr(cxwrite, "ROW_GROUP_ROWS", 7)  # several row groups from 30 rows
    table = pa.table({"row_id": list(range(30)), "text": [f"sentence {i}" * (i % 4) for i in
                                                          range(30)]})  # fmt: skip
    files = []
    for cuts in ([30], [3, 4, 10, 13], [1] * 30, [7, 7, 16]):
        starts = np.cumsum([0, *cuts[:-1]])
        pieces = [table.slice(s, n) for s, n in zip(starts, cuts, strict=True)]
        out = tmp_path / str(len(files))
        cxwrite.write_table_pieces(iter(pieces), table.schema, out, "sentences")
        files.append([(out / f"sentences.{ext}").read_bytes() for ext in ("parquet", "csv")])
    assert all(f == files[0] for f in files)
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(tmp_path / "0" / "sentences.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [7, 7, 7, 7, 2]
