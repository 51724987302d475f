"""Streaming reads: large exports come in pieces that add up to exactly the whole file."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from cxnlp.errors import InputError
from cxnlp.io import iter_feedback, read_feedback
from cxnlp.pipeline import Analyzer, rechunk

DATA = Path(__file__).parent / "data"
FILES = sorted(p for p in [*DATA.glob("*.*"), *(DATA / "bad").glob("*")] if p.is_file())


def _read(read, path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return read(path)
        except InputError as e:
            return e


@pytest.mark.parametrize("piece_bytes", [1, 64, 300])
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_pieces_add_up_to_the_whole_file(path: Path, piece_bytes: int) -> None:
    whole = _read(read_feedback, path)
    pieces = _read(lambda p: list(iter_feedback(p, piece_bytes=piece_bytes)), path)
    if isinstance(whole, InputError):  # the same file is refused either way, clearly
        assert isinstance(pieces, InputError), f"{path.name}: whole read failed, pieces did not"
        return
    assert not isinstance(pieces, Exception), f"{path.name}: {pieces}"
    got = pd.concat(pieces, ignore_index=True)
    pd.testing.assert_frame_equal(got, whole, check_dtype=False)
    assert pieces[0].attrs["layout"] == whole.attrs["layout"]


def _big_csv(tmp_path: Path, n: int = 3000) -> Path:
    rows = ["id,comment,score"]
    for i in range(n):
        text = f'"Line one of {i}\nand line two, with ""quotes"""' if i % 7 == 0 else f"plain {i}"
        rows.append(f"{i},{text},{i % 11}")
    path = tmp_path / "big.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_quoted_line_breaks_are_never_cut(tmp_path: Path) -> None:
    path = _big_csv(tmp_path)
    pieces = list(iter_feedback(path, piece_bytes=2000))
    assert len(pieces) > 10
    got = pd.concat(pieces, ignore_index=True)
    pd.testing.assert_frame_equal(got, read_feedback(path), check_dtype=False)
    assert got["comment"].iloc[7] == 'Line one of 7\nand line two, with "quotes"'


def test_an_error_late_in_the_file_names_its_own_line(tmp_path: Path) -> None:
    path = _big_csv(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.append("9999,too,many,fields")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"line {len(lines)} has 4"):
        list(iter_feedback(path, piece_bytes=2000))


@pytest.mark.parametrize("piece_bytes", [1, 64, 300])
@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"], ids=["cr", "crlf", "lf"])
def test_pieces_add_up_for_every_line_ending(
    tmp_path: Path, newline: str, piece_bytes: int
) -> None:
    quoted = f'"Late, damaged{newline}and no refund"'
    rows = ["id,comment,score"] + [
        f"{i},{quoted if i % 3 == 0 else f'ok {i}'},{i % 5}" for i in range(120)
    ]
    path = tmp_path / "endings.csv"
    path.write_bytes((newline.join(rows) + newline).encode())
    whole = read_feedback(path)
    assert len(whole) == 120 and whole["comment"].iloc[0] == f"Late, damaged{newline}and no refund"
    pieces = list(iter_feedback(path, piece_bytes=piece_bytes))
    assert len(pieces) > 1
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), whole, check_dtype=False)


def test_an_error_late_in_a_cr_only_file_names_its_own_line(tmp_path: Path) -> None:
    lines = ["id,comment"] + [f"{i},comment {i}" for i in range(200)] + ["201,too,many"]
    path = tmp_path / "mac.csv"
    path.write_bytes("\r".join(lines).encode() + b"\r")
    for read in (read_feedback, lambda p: list(iter_feedback(p, piece_bytes=300))):
        with pytest.raises(InputError, match=f"line {len(lines)} has 3"):
            read(path)


@pytest.mark.parametrize(
    ("codec", "encoding"),
    [("utf-16-le", None), ("utf-16-le", "utf-16-le"), ("utf-16-be", None), ("utf-32", None)],
)
def test_utf16_and_utf32_are_read_whole(tmp_path: Path, codec: str, encoding: str | None) -> None:
    text = "comment,rating\n" + "".join(f"review number {i},{i % 5 + 1}\n" for i in range(200))
    path = tmp_path / "wide.csv"
    path.write_bytes(text.encode(codec))
    pieces = list(iter_feedback(path, piece_bytes=500, encoding=encoding))
    assert len(pieces) == 1 and list(pieces[0].columns) == ["comment", "rating"]
    assert len(pieces[0]) == 200
    pd.testing.assert_frame_equal(pieces[0], read_feedback(path, encoding=encoding))


def test_a_long_quoted_field_streams(tmp_path: Path) -> None:
    long = "The zipper broke after one wash. " * 6000  # ~200,000 characters
    frame = pd.DataFrame({"comment": ["short one"] * 60 + [long] + ["short two"] * 60})
    path = tmp_path / "long.csv"
    frame.to_csv(path, index=False)
    pieces = list(iter_feedback(path, piece_bytes=100))
    assert len(pieces) > 1
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), frame, check_dtype=False)


def test_parquet_comes_in_row_batches(tmp_path: Path) -> None:
    frame = pd.DataFrame({"comment": [f"review number {i}" for i in range(5000)],
                          "rating": [i % 5 + 1 for i in range(5000)]})  # fmt: skip
    path = tmp_path / "big.parquet"
    frame.to_parquet(path)
    pieces = list(iter_feedback(path, piece_bytes=2000))
    assert len(pieces) > 1
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), read_feedback(path))


def test_json_lines_come_in_pieces(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text("".join(f'{{"id": {i}, "comment": "text {i}"}}\n' for i in range(2000)))
    pieces = list(iter_feedback(path, piece_bytes=1500))
    assert len(pieces) > 10
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), read_feedback(path))


def test_rechunk_makes_exact_chunks() -> None:
    pieces = [pd.DataFrame({"a": range(s, s + n)}) for s, n in [(0, 3), (3, 0), (3, 10), (13, 2)]]
    chunks = list(rechunk(pieces, 4))
    assert [len(c) for c in chunks] == [4, 4, 4, 3]
    assert pd.concat(chunks)["a"].tolist() == list(range(15))
    for size in (0, -5):  # Analyzer.pipe(chunk_size=-5) used to loop forever
        with pytest.raises(ValueError, match="at least 1 row"):
            list(rechunk(pieces, size))
    with pytest.raises(TypeError, match=r"the ColumnMap of Analyzer.detect\(frame\), not list"):
        next(Analyzer().pipe(pieces[0], ["a"]))  # the columns, not their names


def test_streamed_analysis_equals_the_whole_read(tmp_path: Path) -> None:
    src = pd.read_csv(DATA.parent.parent / "examples" / "clothing_reviews.csv", dtype=str).head(120)
    path = tmp_path / "reviews.csv"
    src.to_csv(path, index=False)
    an = Analyzer().with_overrides(chunk_size=50, **{"topics.enabled": False})
    whole = an.analyze(path)
    streamed = an.with_overrides(stream_above_mb=0.01).analyze(path)  # ~10 KB pieces
    assert path.stat().st_size > 3 * 0.01 * 2**20  # several pieces
    pd.testing.assert_frame_equal(streamed.responses, whole.responses)
    pd.testing.assert_frame_equal(streamed.mentions, whole.mentions)
