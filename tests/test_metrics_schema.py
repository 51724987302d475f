"""``metrics.json`` against its shipped JSON Schema, on real ``cxnlp analyze`` runs.

Two runs through the CLI: a slice of the bundled sample (rating + recommend scores, segments,
topics), and a survey-shaped export with an NPS column (one invalid entry), dates over four
months (a theme rising in the last one) and a segment column. Both ``metrics.json`` files must
validate; the docs table must match the schema; and the schema must reject a broken payload,
so the check can fail.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cxnlp.cli import app
from cxnlp.schemas import METRICS_SCHEMA, metrics_schema, schema_fields

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the dev extra")

ROOT = Path(__file__).parents[1]
DATA = Path(__file__).parent / "data"
runner = CliRunner()


@pytest.fixture(scope="module")
def validator():
    schema = metrics_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def analyze(tmp: Path, src: Path, *args: str) -> dict:
    out = tmp / "out"
    res = runner.invoke(app, ["analyze", str(src), "--out", str(out), "--no-progress", *args])
    assert res.exit_code == 0, res.output
    return json.loads((out / "metrics.json").read_text(encoding="utf-8"))


def errors(validator, payload: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(payload)]  # fmt: skip


@pytest.fixture(scope="module")
def sample_metrics(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("sample")
    src = tmp / "sample.csv"
    pd.read_csv(ROOT / "examples" / "clothing_reviews.csv").head(80).to_csv(src, index=False)
    return analyze(tmp, src, "--codeframe", "retail")


def survey_export(path: Path) -> Path:
    """200 feedback comments with an NPS score, a date and a channel; billing complaints
    cluster in the last period so the trends test has something to find."""
    df = pd.read_csv(DATA / "topics_feedback.csv")
    billing = df[df["subject"] == "billing"]
    df = pd.concat([df[df["subject"] != "billing"], billing]).reset_index(drop=True)
    months = ["2024-01", "2024-04", "2024-07", "2024-10"]  # > 26 weeks: monthly periods
    df["date"] = [f"{months[min(3, i * 4 // len(df))]}-{1 + i % 27:02d}" for i in range(len(df))]
    df["nps"] = [str((i * 7) % 11) for i in range(len(df))]
    df.loc[5, "nps"] = "eleven"  # invalid: counted in n_invalid, explained in notes
    df.loc[9, "comment"] = ""  # empty text: its own status
    df["channel"] = [("web", "app", "phone")[i % 3] for i in range(len(df))]
    df.drop(columns="subject").to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def survey_metrics(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("survey")
    src = survey_export(tmp / "survey.csv")
    return analyze(tmp, src, "--text-column", "comment", "--score-column", "nps=nps",
                   "--date-column", "date", "--segment-column", "channel",
                   "--codeframe", "generic")  # fmt: skip


def test_schema_ships_with_the_package():
    spec = importlib.util.find_spec("cxnlp.schemas")
    assert (Path(spec.origin).parent / METRICS_SCHEMA).is_file()
    from cxnlp.metrics import SCHEMA_VERSION

    assert max(metrics_schema()["properties"]["schema_version"]["enum"]) == SCHEMA_VERSION


def test_bundled_sample_metrics_validate(validator, sample_metrics):
    assert errors(validator, sample_metrics) == []
    assert sample_metrics["rows"] == 80 == sum(sample_metrics["status_counts"].values())
    assert {"Rating", "Recommended IND"} <= set(sample_metrics["scores"])
    assert sample_metrics["segments"] and sample_metrics["topics"]["status"] in ("ok", "skipped")


def test_nps_dates_segments_metrics_validate(validator, survey_metrics):
    m = survey_metrics
    assert errors(validator, m) == []
    assert m["scores"]["nps"]["kind"] == "nps" and m["scores"]["nps"]["n_invalid"] == 1
    assert set(m["segments"]["channel"]) == {"web", "app", "phone"}
    assert m["trends"]["n_periods"] == 4 and m["trends"]["period"] == "month"
    assert m["status_counts"].get("empty text") == 1
    assert m["drivers"]["outcome"] == "nps"
    kinds = {e["kind"] for e in m["trends"]["emerging"]} | {e["kind"] for e in m["trends"]["new"]}
    assert kinds, "billing complaints concentrated in October should be flagged"


def test_schema_rejects_what_it_does_not_document(validator, survey_metrics):
    broken = copy.deepcopy(survey_metrics)
    broken["rows"] = "200"
    broken["scores"]["nps"]["unit"] = "stars"
    broken["undocumented"] = 1
    del broken["sentiment"]["mean_score"]
    found = " ".join(errors(validator, broken))
    for what in (
        "'200' is not of type 'integer'",
        "'stars' is not one of",
        "'undocumented' was unexpected",
        "'mean_score' is a required property",
    ):
        assert what in found, what


def test_docs_field_reference_is_generated_from_the_schema():
    spec = importlib.util.spec_from_file_location("make_doc", ROOT / "docs" / "make_metrics_doc.py")
    make_doc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_doc)
    text = make_doc.DOC.read_text(encoding="utf-8")
    assert make_doc.render(text) == text, "run: .venv/bin/python docs/make_metrics_doc.py"
    for path, _, desc in schema_fields():
        assert desc, f"{path} has no description in {METRICS_SCHEMA}"


def test_status_counts_documents_every_status_the_pipeline_writes():
    from cxnlp.pipeline import EMPTY, NO_WORDS, TOO_LONG
    from cxnlp.results import NO_THEME, OK

    said = metrics_schema()["properties"]["status_counts"]["description"]
    for status in (OK, NO_THEME, EMPTY, NO_WORDS, TOO_LONG):
        assert status in said, status


def test_churn_share_states_its_base():
    """Shares are of the at-risk responses with a churn reason (with_reason), as the report
    says: not of all at-risk responses."""
    ranking = metrics_schema()["$defs"]["churn"]["properties"]["ranking"]
    share = ranking["items"]["properties"]["share"]["description"]
    assert "with a churn reason (with_reason)" in share
