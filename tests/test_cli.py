"""The command line through typer's CliRunner: files written, errors without tracebacks."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from cxnlp.cli import app

runner = CliRunner()


def test_help_teaches_by_example():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0 and "cxnlp analyze" in res.output
    res = runner.invoke(app, ["analyze", "--help"])
    assert res.exit_code == 0 and "--text-column" in res.output and "Examples" in res.output


def test_analyze_writes_tables_metrics_and_report(tmp_path):
    src = tmp_path / "export.csv"
    pd.DataFrame(
        {
            "Review Text": [
                "Love the colour and the fit is perfect.",
                "Terrible quality, it ripped.",
                "",
                "It is a dress.",
            ],
            "Rating": [5, 1, 3, 9],
            "Department Name": ["Dresses", "Tops", "Tops", "Dresses"],
        }
    ).to_csv(src, index=False)
    out = tmp_path / "out"
    res = runner.invoke(app, ["analyze", str(src), "--out", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    responses = pd.read_csv(out / "responses.csv")
    assert len(responses) == 4
    assert responses["status"].iloc[2] == "empty text"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["rows"] == 4
    assert (out / "report.html").stat().st_size > 10_000
    assert (out / "responses.parquet").exists()
    assert json.loads((out / "columns.json").read_text())["text"] == ["Review Text"]
    assert "columns.json" in res.output  # listed with the files written
    assert "Review Text" in res.output  # the chosen column mapping is printed
    # the summary's sentiment shares are the report's: of the 3 analysed rows
    s = metrics["sentiment"]
    assert s["n"] == 3 and sum(s["counts"].values()) == 3
    for label, count in s["counts"].items():
        if count:
            assert f"sentiment: {label}" in res.output
            assert f"{count} ({count / 3:.0%} of analysed)" in res.output


def test_dtype_option_runs_bfloat16_and_refuses_float16_on_cpu(tmp_path):
    src = tmp_path / "export.csv"
    texts = ["Love the colour and the fit is perfect.", "Terrible quality, it ripped.",
             "Where is my parcel?"]  # fmt: skip
    pd.DataFrame({"comment": texts}).to_csv(src, index=False)
    labels = {}
    for dtype in ("float32", "bfloat16"):
        out = tmp_path / dtype
        res = runner.invoke(app, ["analyze", str(src), "--dtype", dtype, "--no-themes",
                                  "--out", str(out), "--no-progress"])  # fmt: skip
        assert res.exit_code == 0, res.output
        labels[dtype] = pd.read_csv(out / "responses.csv")["sentiment"].tolist()
    assert labels["bfloat16"] == labels["float32"] == ["positive", "negative", "neutral"]
    res = runner.invoke(app, ["analyze", str(src), "--dtype", "float16", "--no-themes",
                              "--out", str(tmp_path / "o"), "--no-progress"])  # fmt: skip
    assert res.exit_code == 2 and "float16' is for CUDA" in res.output
    assert "Traceback" not in res.output


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    src = tmp_path / "export.csv"
    src.write_text("id,comment\n1,hello there\n")
    res = runner.invoke(
        app, ["analyze", str(src), "--text-column", "nope", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2
    assert "nope" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["analyze", str(tmp_path / "missing.csv"), "--out",
                              str(tmp_path / "never")])  # fmt: skip
    assert res.exit_code == 2 and f"File not found: {tmp_path / 'missing.csv'}. Check" in res.output
    assert not (tmp_path / "never").exists()  # no empty output folder for a mistyped input
    res = runner.invoke(app, ["analyze", str(src), "--backend", "tensorrt"])
    assert res.exit_code == 2 and "backend" in res.output and "onnx-int8" in res.output
    res = runner.invoke(app, ["analyze", str(src), "--dtype", "float8"])
    assert res.exit_code == 2 and "dtype" in res.output and "bfloat16" in res.output
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    res = runner.invoke(app, ["analyze", str(empty), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_output_folder_and_option_mistakes_are_one_line(tmp_path):
    """A file as --out, an output name taken by a folder, a glob without Dask and --resume
    with Dask: one line each, exit 2, no traceback; --no-progress beats run.progress."""
    src = tmp_path / "export.csv"
    pd.DataFrame({"comment": ["Love it.", "Hate it."]}).to_csv(src, index=False)
    (tmp_path / "b.csv").write_text("comment\nFine.\n")
    a_file = tmp_path / "taken.txt"
    a_file.write_text("x")
    blocked = tmp_path / "blocked"
    (blocked / "responses.csv").mkdir(parents=True)
    cases = {
        "is a file": ["analyze", str(src), "--out", str(a_file)],
        "responses.csv: Is a directory": ["analyze", str(src), "--out", str(blocked),
                                          "--no-themes", "--no-progress"],  # fmt: skip
        "--dask-workers N": ["analyze", str(tmp_path / "*.csv"), "--out", str(tmp_path / "o")],
        "does not checkpoint": ["analyze", str(src), "--dask-workers", "1", "--resume",
                                "--out", str(tmp_path / "o")],  # fmt: skip
        "reads one export": ["codeframe", "suggest", str(tmp_path / "*.csv")],
    }
    for says, args in cases.items():
        res = runner.invoke(app, args)
        error = res.output.strip().splitlines()[-1]  # after the column mapping, if any
        assert res.exit_code == 2 and error.startswith("Error:") and says in error, res.output
        assert "Traceback" not in res.output
    config = tmp_path / "bar.yaml"
    config.write_text("run: {progress: true}\n")
    for flag, bar in (([], True), (["--no-progress"], False)):
        res = runner.invoke(app, ["analyze", str(src), "--config", str(config), "--no-themes",
                                  "--out", str(tmp_path / "p"), *flag])  # fmt: skip
        assert res.exit_code == 0 and ("analysing" in res.output) == bar, res.output


def test_warnings_are_one_line_without_source_lines(tmp_path):
    """A reader warning reaches the analyst as one line, not as Python's file:line + code."""
    src = tmp_path / "two_sheets.xlsx"
    with pd.ExcelWriter(src) as xlsx:
        pd.DataFrame({"comment": ["Great service", "Slow delivery"]}).to_excel(
            xlsx, sheet_name="A", index=False)
        pd.DataFrame({"comment": ["Fine"]}).to_excel(xlsx, sheet_name="B", index=False)
    res = runner.invoke(app, ["analyze", str(src), "--no-themes", "--no-progress",
                              "--out", str(tmp_path / "o")])  # fmt: skip
    assert res.exit_code == 0, res.output
    warning = [line for line in res.output.splitlines() if line.startswith("Warning:")]
    assert len(warning) == 1 and "several sheets" in warning[0] and "sheets: A, B" in warning[0]
    assert ".py:" not in res.output and "warnings.warn" not in res.output


def test_names_are_printed_as_written_and_a_single_score_has_no_interval(tmp_path):
    """Brackets in a header or path are the user's text, not rich markup; a score column with
    one valid value (no interval) still gets its summary line."""
    folder = tmp_path / "dir["
    folder.mkdir()
    src = folder / "]x.csv"  # the path reads dir[/]x.csv
    pd.DataFrame({"Comment [/]": ["Great dress, the fabric is soft."],
                  "Rating [red]": [5]}).to_csv(src, index=False)  # fmt: skip
    res = runner.invoke(app, ["analyze", str(src), "--no-themes", "--no-progress",
                              "--out", str(tmp_path / "o")])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Comment [/]" in res.output and "Rating [red]" in res.output
    assert "rating 'Rating [red]'" in res.output and "5.0 n=1" in res.output


def test_score_column_kind_follows_the_last_equals_sign(tmp_path):
    """A header with '=' in it ('Q1=Recommend?') is named with its kind after the last '=',
    or a trailing '=' to have the kind detected; a value whose end is no kind is a column."""
    src = tmp_path / "export.csv"
    comments = ["Great help, thanks.", "Slow to answer.", "Fine overall."]
    pd.DataFrame({"Q1=Recommend?": [9, 2, 10], "Comment": comments}).to_csv(src, index=False)
    for arg in ("Q1=Recommend?=nps", "Q1=Recommend?="):
        out = tmp_path / arg.replace("?", "").replace("=", "_")
        res = runner.invoke(app, ["analyze", str(src), "--score-column", arg, "--no-themes",
                                  "--no-progress", "--out", str(out)])  # fmt: skip
        assert res.exit_code == 0, res.output
        assert json.loads((out / "columns.json").read_text())["scores"] == {"Q1=Recommend?": "nps"}
    res = runner.invoke(app, ["analyze", str(src), "--score-column", "Q1=Recommend?=npx",
                              "--no-themes", "--no-progress", "--out", str(tmp_path)])  # fmt: skip
    # no kind after the last '=': the whole value is a column, and a close one is suggested
    assert res.exit_code == 2 and "Column 'Q1=Recommend?=npx' not found" in res.output
    assert "Did you mean 'Q1=Recommend?'" in res.output


def test_dates_read_month_first_are_said_on_the_console(tmp_path):
    """03/04/2018 could be either: the periods depend on the guess, so the CLI says it (as the
    report does) and how to turn it."""
    src = tmp_path / "export.csv"
    days = [f"{d:02d}/{m:02d}/2018" for m in (1, 2, 3) for d in (1, 5, 9, 12)]
    comments = ["Quick and friendly help.", "Billing was wrong again."] * 6
    pd.DataFrame({"date": days, "comment": comments}).to_csv(src, index=False)
    res = runner.invoke(app, ["analyze", str(src), "--no-themes", "--no-progress",
                              "--out", str(tmp_path / "o")])  # fmt: skip
    assert res.exit_code == 0, res.output
    warning = [line for line in res.output.splitlines() if line.startswith("Warning:")]
    assert len(warning) == 1 and "were read month first" in warning[0]
    assert "set drivers.dayfirst: true if they are day first" in warning[0]


def test_a_broken_codeframe_stops_the_run_before_anything_is_read_or_written(tmp_path):
    src = tmp_path / "export.csv"
    pd.DataFrame({"comment": ["Great help, thanks.", "Slow to answer."]}).to_csv(src, index=False)
    bad = tmp_path / "mine.yaml"
    bad.write_text("name: mine\nthemes:\n  - id: fit\n    label: Fit\n"
                   "  - id: fit\n    label: Size\n")
    out = tmp_path / "o"
    res = runner.invoke(app, ["analyze", str(src), "--codeframe", str(bad), "--no-progress",
                              "--out", str(out)])  # fmt: skip
    assert res.exit_code == 2 and "mine.yaml" in res.output and "duplicate id" in res.output
    assert "Reading" not in res.output and not out.exists()
