"""Comments in a language the models do not read: told apart, kept, and said so."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxnlp.cli import app
from cxnlp.config import Config
from cxnlp.errors import ConfigError
from cxnlp.language import detect_languages, language_name
from cxnlp.pipeline import OK, OTHER_LANGUAGE, Analyzer
from cxnlp.report.html import render_html

# Short English that one detector alone takes for another language (measured on the airline
# tweets and the clothing reviews: benchmarks/language.py), and comments in other languages.
ENGLISH = [
    "Thanks so much!",
    "@AmericanAir DM sent",
    "Can you send me the actual card?",
    "The delivery was late and nobody called me back.",
    "Love embroidery!",
    "Roger wilco.",
]
OTHER = {
    "es": "El pedido llegó dos semanas tarde y nadie contestó mis correos.",
    "de": "Der Kundendienst war sehr freundlich und hat mir schnell geholfen.",
    "fr": "La livraison était rapide mais la robe est trop petite.",
    "ru": "Доставка опоздала на неделю, и никто не ответил.",
    "ja": "配達が一週間遅れましたが、誰も返事をくれませんでした。",
}


def test_english_is_not_taken_for_another_language():
    found = detect_languages(ENGLISH)
    assert all(code in ("en", None) for code in found), list(zip(ENGLISH, found, strict=True))


def test_other_languages_are_named():
    assert detect_languages(list(OTHER.values())) == list(OTHER)
    assert language_name("es") == "Spanish" and language_name("qq") == "qq"


def test_a_listed_language_is_read_as_itself():
    # with Spanish accepted it is still told as Spanish; short text stays "cannot tell"
    assert detect_languages([OTHER["es"], "ok"], accepted=("en", "es")) == ["es", None]


def test_text_the_detectors_cannot_read_is_not_an_error():
    assert detect_languages(["bad \udcff surrogate but English words here"]) == ["en"]


COLUMNS = {"text_column": "comment", "score_columns": {"nps": "nps"}}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    comments = ["Absolutely love this dress, the fabric is gorgeous.", OTHER["es"], "ok", "",
                OTHER["ru"], "The parcel arrived late and nobody answered my emails."]  # fmt: skip
    return pd.DataFrame({"comment": comments, "nps": [10, 3, 8, 7, 2, 0],
                         "language": ["EN", "ES", "EN", "EN", "RU", "EN"]})  # fmt: skip


@pytest.fixture(scope="module")
def results(encoder, frame):
    return Analyzer(encoder=encoder).analyze(frame, **COLUMNS)


def test_other_language_rows_are_kept_with_a_reason(results, frame):
    r = results.responses
    assert len(r) == len(frame)
    assert r["status"].tolist()[1] == OTHER_LANGUAGE and r["status"].tolist()[4] == OTHER_LANGUAGE
    assert r["language"].tolist()[:2] == ["en", "es"] and r["language"].tolist()[4] == "ru"
    assert pd.isna(r["language"].iloc[2]) and pd.isna(r["language"].iloc[3])  # short; empty
    assert "written in Spanish (es); not analysed" in r["notes"].iloc[1]
    assert r.loc[[1, 4], ["p_positive", "sentiment"]].isna().all().all()
    assert results.mentions["row_id"].isin([1, 4]).sum() == 0
    # the export's own language column is kept under another name
    assert r["input_language"].tolist() == frame["language"].tolist()


def test_metrics_count_languages_and_scores_keep_every_row(results):
    m = results.metrics
    assert m["status_counts"][OTHER_LANGUAGE] == 2
    assert m["languages"] == {"en": 2, "es": 1, "ru": 1}
    assert m["sentiment"]["n"] == 3  # the two other-language rows are not in the mix
    assert m["scores"]["nps"]["n"] == 6  # but their scores count


def test_report_and_excel_say_which_languages(results, tmp_path):
    html = render_html(results)
    quality = html.split('<section id="data-quality"', 1)[1].split("</section>", 1)[0]
    assert "Languages: English 2 · Spanish 1 · Russian 1 · too short to tell 1" in quality
    assert 'id="language-note"' in quality and "Spanish 1, Russian 1" in quality
    path = results.to_excel(tmp_path / "r.xlsx")
    summary = pd.read_excel(path, sheet_name=0, header=None).astype(str)
    assert summary.apply(lambda col: col.str.contains("clean.languages")).any().any()


def test_listed_languages_are_analysed_and_null_turns_detection_off(encoder, frame):
    both = Analyzer(Config(clean={"languages": ["en", "es"]}), encoder=encoder).analyze(
        frame, **COLUMNS
    )
    assert both.responses["status"].iloc[1] in (OK, "no theme")
    assert both.responses["status"].iloc[4] == OTHER_LANGUAGE
    off = Analyzer(Config(clean={"languages": None}), encoder=encoder).analyze(frame, **COLUMNS)
    assert OTHER_LANGUAGE not in set(off.responses["status"])
    assert off.responses["language"].isna().all() and "languages" not in off.metrics
    assert np.isfinite(off.responses["p_positive"].iloc[[0, 1, 4]]).all()


def test_language_codes_are_checked_with_a_fix():
    assert Config(clean={"languages": ["EN", " es"]}).clean.languages == ["en", "es"]
    with pytest.raises(ConfigError, match="'english' is not an ISO 639 language code: use two"):
        from cxnlp.config import config_from_dict

        config_from_dict({"clean": {"languages": ["english"]}})


def test_cli_warns_once_with_the_setting(tmp_path, frame):
    src = tmp_path / "export.csv"
    frame.drop(columns="language").to_csv(src, index=False)
    res = CliRunner().invoke(app, ["analyze", str(src), "--out", str(tmp_path / "out"),
                                   "--no-progress"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert res.output.count("in a language the models do not read (Spanish 1, Russian 1)") == 1
    assert "status: other language" in res.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["languages"]["es"] == 1
