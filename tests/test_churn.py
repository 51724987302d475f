"""Trained churn-reason heads: `cxnlp train churn`, checked loading, and use in `analyze`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cxnlp.cli import app
from cxnlp.errors import ConfigError, InputError, ModelError
from cxnlp.link import THEME_WEIGHT, ChurnReasonClassifier, churn_reasons_of, theme_weight_for
from cxnlp.themes import DEFAULT_CHURN_REASONS, CodeframeClassifier
from cxnlp.training.cards import write_card
from cxnlp.training.themes import train_churn

DATA = Path(__file__).parent / "data"
LABELS = DATA / "churn_labels.csv"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, encoder):
    out = tmp_path_factory.mktemp("churn") / "head"
    info = train_churn(LABELS, out, encoder=encoder, cv=2)
    return out, info


def _top1(model: ChurnReasonClassifier, encoder, frame: pd.DataFrame) -> float:
    texts = frame["text"].tolist()
    scores = model.decision_scores(encoder.encode(texts), texts)
    pred = np.asarray(model.reason_ids_)[scores.argmax(axis=1)]
    keep = frame["churn_reason"] != "other"
    return float((pred[keep.to_numpy()] == frame.loc[keep, "churn_reason"].to_numpy()).mean())


def test_train_churn_writes_a_checked_head(trained, encoder):
    out, info = trained
    assert {p.name for p in out.iterdir()} == {
        "themes.safetensors", "themes.json", "training.json", "MODEL_CARD.md"}
    assert info["kind"] == "churn" and info["texts"] == 40
    assert info["texts_without_theme"] == 4  # the "other" rows train as negatives
    assert info["counts"]["price_value"] == 5 and "other" not in info["counts"]
    assert info["cv"]["folds"] == 2 and 0 <= info["cv"]["top1_accuracy"] <= 1
    card = (out / "MODEL_CARD.md").read_text()
    assert "churn_model:" in card and "```sha256" in card
    model = ChurnReasonClassifier.load(out, encoder)
    assert model.trained_ and model.reason_ids_ == DEFAULT_CHURN_REASONS[:-1]
    # one softmax over the reasons and "other", not one-vs-rest
    assert model.classifier_.exclusive
    assert model.classifier_.coef_.shape[0] == len(model.reason_ids_) + 1


def test_theme_weight_defaults_by_classifier_unless_set(trained, encoder):
    zero = ChurnReasonClassifier(churn_reasons_of(None), encoder)
    model = ChurnReasonClassifier.load(trained[0], encoder)
    assert theme_weight_for(zero) == THEME_WEIGHT["zero-shot"] == 0.5
    assert theme_weight_for(model) == THEME_WEIGHT["trained"] == 0.25
    assert theme_weight_for(None) == 0.5 and theme_weight_for(model, 0.8) == 0.8


def test_trained_head_fits_its_labels_better_than_zero_shot(trained, encoder):
    frame = pd.read_csv(LABELS)
    zero = ChurnReasonClassifier(churn_reasons_of(None), encoder)
    model = ChurnReasonClassifier.load(trained[0], encoder)
    assert not zero.trained_
    z, t = _top1(zero, encoder, frame), _top1(model, encoder, frame)
    assert t >= 0.9 and t >= z


def test_tampered_or_wrong_kind_of_head_is_refused(trained, tmp_path, encoder):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(trained[0], bad)
    meta = json.loads((bad / "themes.json").read_text())
    meta["params"]["threshold"] = 0.1
    (bad / "themes.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="does not match its model card"):
        ChurnReasonClassifier.load(bad, encoder)
    with pytest.raises(ModelError, match="not found"):
        ChurnReasonClassifier.load(tmp_path / "nowhere", encoder)
    themes = CodeframeClassifier("generic", encoder).save(tmp_path / "themes")
    write_card(themes, "# a theme head", ["themes.safetensors", "themes.json"])
    with pytest.raises(ModelError, match="not a churn-reason head"):
        ChurnReasonClassifier.load(themes, encoder)


def test_unknown_reason_names_are_listed(tmp_path, encoder):
    bad = tmp_path / "labels.csv"
    pd.DataFrame({"text": ["too dear", "slow"], "reason": ["pricey", "price_value"]}).to_csv(
        bad, index=False)
    with pytest.raises(InputError, match="'pricey' \\(rows 2\\)"):
        train_churn(bad, tmp_path / "out", encoder=encoder)


def test_cli_train_churn(tmp_path):
    out = tmp_path / "head"
    res = CliRunner().invoke(app, ["train", "churn", "--labels", str(LABELS), "--out", str(out),
                                   "--cv", "0"])
    assert res.exit_code == 0, res.output
    assert "churn_model" in res.output and (out / "MODEL_CARD.md").exists()
    assert "No cross-validation (`--cv 0`)" in (out / "MODEL_CARD.md").read_text()
    for folds in ("1", "-2"):  # one fold is no cross-validation; a card must not pretend
        res = CliRunner().invoke(app, ["train", "churn", "--labels", str(LABELS), "--out",
                                       str(out), "--cv", folds])  # fmt: skip
        assert res.exit_code == 2 and "needs 2 folds or more" in res.output, res.output
    res = CliRunner().invoke(app, ["train", "churn", "--labels", str(tmp_path / "none.csv")])
    assert res.exit_code == 2 and "not found" in res.output and "Traceback" not in res.output


def test_analyze_uses_a_trained_head_and_its_reasons(tmp_path, analyzer, encoder):
    # a custom reason list in {id: description} form, trained from the fixture's texts
    rename = {"price_value": "cost", "poor_service": "service", "product_quality": "network",
              "delivery_problems": "install"}
    frame = pd.read_csv(LABELS)
    frame = frame[frame["churn_reason"].isin([*rename, "other"])]
    frame["churn_reason"] = frame["churn_reason"].map({**rename, "other": "other"})
    labels = tmp_path / "labels.csv"
    frame.to_csv(labels, index=False)
    reasons = {"cost": "It costs too much.", "service": "Customer service was poor.",
               "network": "The connection or signal is unreliable.",
               "install": "The installation or delivery did not happen."}
    head = tmp_path / "head"
    train_churn(labels, head, reasons=reasons, encoder=encoder, cv=0)

    df = pd.DataFrame({
        "comment": ["Way too expensive, the price doubled.", "Nobody in your call centre helps.",
                    "The internet drops every night.", "Brilliant, thanks."],
        "nps": [1, 2, 0, 10]})
    res = analyzer.analyze(df, score_columns={"nps": "nps"}, codeframe="telecom",
                           **{"topics.enabled": False, "link.churn_model": str(head)})
    assert set(res.churn["reason"]) == {
        "cost", "service", "network", "install", "other"}
    got = res.responses["churn_reason"].tolist()
    assert got[:3] == ["cost", "service", "network"] and pd.isna(got[3])
    # the manifest names the trained head (folder + hash), as it does a theme head
    assert res.manifest["models"]["churn"].startswith("head@")
    with pytest.raises(ConfigError, match="link.churn_reasons lists"):
        analyzer.analyze(df, score_columns={"nps": "nps"}, codeframe="telecom",
                         **{"topics.enabled": False, "link.churn_model": str(head),
                            "link.churn_reasons": ["price_value", "competitor"]})


def test_no_at_risk_response_means_no_churn_table():
    """Happy customers only: no ranking of zeros with NaN shares ('Price & value nan%'), so the
    report says why there is nothing."""
    from cxnlp.link import churn_table

    responses = pd.DataFrame({"churn_reason": [None, None], "churn_confidence": [None, None],
                              "churn_evidence": [None, None]})  # fmt: skip
    assert churn_table(responses, ["price_value", "poor_service"]).empty
    responses.loc[0, ["churn_reason", "churn_confidence"]] = ["poor_service", 0.9]
    table = churn_table(responses, ["price_value", "poor_service"])
    assert table["reason"].tolist() == ["poor_service", "price_value"]
    assert table["share"].tolist() == [1.0, 0.0]


def test_cli_train_churn_when_no_text_has_exactly_one_reason(tmp_path):
    """Several reasons in every coded cell: said (one row per text, one reason), and the
    CLI no longer crashes on the top-1 accuracy that cannot be computed. Personal data in a
    text is redacted before the head stores its n-grams."""
    frame = pd.read_csv(LABELS)
    frame = pd.concat([frame.head(10), frame[frame["churn_reason"] == "other"]], ignore_index=True)
    coded = frame["churn_reason"] != "other"
    frame.loc[coded, "churn_reason"] = "price_value;poor_service"
    frame.loc[0, "text"] += " Mail me at jane.doe@example.com or call 07700 900123."
    labels = tmp_path / "multi.csv"
    frame.to_csv(labels, index=False)
    out = tmp_path / "head"
    res = CliRunner().invoke(app, ["train", "churn", "--labels", str(labels), "--out", str(out),
                                   "--cv", "2"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "have several reasons" in res.output and "one reason per text" in res.output
    assert "top-1 accuracy n/a" in res.output
    info = json.loads((out / "training.json").read_text())
    assert info["cv"]["top1_accuracy"] is None
    assert "no text has exactly one reason" in (out / "MODEL_CARD.md").read_text()
    stored = (out / "themes.json").read_text().lower()
    assert "jane" not in stored and "07700" not in stored and "example.com" not in stored
    assert info["clean"]["redacted"] == {"email": 1, "phone": 1}
