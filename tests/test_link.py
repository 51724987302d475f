"""Link stage: touchpoint normalisation, at-risk rules, churn-reason assignment and ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxnlp.io import detect_link_columns
from cxnlp.link import (
    assign_churn_reasons,
    at_risk,
    churn_reasons_of,
    churn_table,
    normalize_touchpoint,
    touchpoint_table,
    touchpoints_of,
)
from cxnlp.themes import DEFAULT_CHURN_REASONS, Codeframe

TELECOM = ["sales", "installation", "equipment", "service_in_use", "billing", "support",
           "contract"]


@pytest.mark.parametrize(("value", "expected"), [
    ("Order", "sales"),
    ("First Payment", "billing"),
    ("Equipment Received", "equipment"),
    ("Service in Use", "service_in_use"),
    ("service_in_use", "service_in_use"),
    ("  BILLING ", "billing"),
    ("instalation", "installation"),          # typo: difflib
    ("Contact centre call", "support"),       # synonym group
    ("Something unrelated", "something_unrelated"),  # kept, not lost
    (None, None),
    ("", None),
])
def test_touchpoint_normalisation(value, expected):
    assert normalize_touchpoint(value, TELECOM) == expected


def test_touchpoint_aliases_and_retail_channels():
    tps = ["online", "store", "delivery", "returns"]
    assert normalize_touchpoint("app", tps) == "online"
    assert normalize_touchpoint("In-store", tps) == "store"
    assert normalize_touchpoint("Shop", tps) == "store"
    assert normalize_touchpoint("Kiosk", tps, aliases={"kiosk": "store"}) == "store"


def test_touchpoints_of_codeframe_and_overrides():
    cf = Codeframe.load("telecom")
    order, mapping = touchpoints_of(cf, {"speed": "network"})
    assert order[:7] == TELECOM and order[-1] == "network"
    assert mapping["speed"] == "network" and mapping["billing"] == "billing"


def test_detect_link_columns():
    df = pd.DataFrame({
        "comment": ["a b c d"] * 6,
        "SURVEY_SUB_TYPE": ["Order", "First Payment", "Order", "Order", "First Payment", "Order"],
        "Cancelled": ["yes", "no", "no", "yes", "no", "no"],
    })
    found = detect_link_columns(df, exclude={"comment"})
    assert found["touchpoint"] == "SURVEY_SUB_TYPE" and found["churn"] == "Cancelled"
    assert not found["churn_inverted"]
    assert detect_link_columns(df, touchpoint="", churn="")["touchpoint"] is None
    with pytest.raises(Exception, match="link.touchpoint_column"):
        detect_link_columns(df, touchpoint="nope")


def _responses():
    return pd.DataFrame({
        "row_id": range(6),
        "status": ["ok"] * 5 + ["empty text"],
        "text": ["Too expensive. Staff fine.", "Engineer never came", "Love it", "bill wrong",
                 "meh", ""],
        "nps": [2, 5, 10, 6, 8, 0],
        "sentiment": ["negative", "negative", "positive", "negative", "neutral", None],
    })


def test_at_risk_rules():
    r = _responses()
    cols = {"text": ["text"], "scores": {"nps": "nps"}}
    risk = at_risk(r, cols)
    assert risk.tolist() == ["detractor (NPS 2)", "detractor (NPS 5)", None, "detractor (NPS 6)",
                             None, "detractor (NPS 0)"]
    # a churn column adds its own reason; a cancellation question marks everybody
    r["churned"] = ["no", "no", "yes", "no", "no", "no"]
    assert "churn column" in at_risk(r, cols, churn_column="churned")[2]
    cancel = at_risk(r, {"text": ["Why are you cancelling?"], "scores": {}})
    assert cancel.notna().all() and "cancellation question" in cancel[2]
    # a retained/active column is read inverted: "no" means churned, a blank is unknown
    r["active"] = ["yes", "no", None, "yes", "no", "yes"]
    inv = at_risk(r, {"text": ["text"], "scores": {}}, churn_column="active",
                  churn_inverted=True, negative_text=False)
    assert inv.notna().tolist() == [False, True, False, False, True, False]
    # scores can be switched off: then only the churn column counts
    assert at_risk(r, cols, churn_column="churned", scores=False).notna().sum() == 1
    # no score or churn column: negative text is the signal
    neg = at_risk(r, {"text": ["text"], "scores": {}})
    assert neg.notna().tolist() == [True, True, False, True, False, False]


def test_churn_assignment_from_theme_map_and_ranking():
    r = _responses()
    risk = at_risk(r, {"text": ["text"], "scores": {"nps": "nps"}})
    mentions = pd.DataFrame({
        "row_id": [0, 0, 1, 3],
        "theme": ["price_value", "customer_service", "installation", "billing"],
        "confidence": [0.9, 0.8, 0.7, 0.95],
        "sentiment": ["negative", "positive", "negative", "negative"],
        "evidence": ["Too expensive.", "Staff fine.", "Engineer never came", "bill wrong"],
    })
    cf = Codeframe.load("telecom")
    theme_reason = {t.id: t.churn_reason for t in cf.themes}
    out = assign_churn_reasons(r, mentions, risk, theme_reason, DEFAULT_CHURN_REASONS,
                               min_confidence=0.35)
    # praise (positive mention) does not become the reason; empty text gets none
    assert out["churn_reason"].tolist() == ["price_value", "delivery_problems", None,
                                            "billing_problems", None, None]
    assert out["churn_evidence"][0] == "Too expensive."
    assert out["churn_confidence"][0] == pytest.approx(0.9)
    table = churn_table(pd.concat([r, out], axis=1), churn_reasons_of(None), min_n=30)
    assert table["count"].sum() == 3 and set(table["n"]) == {3}
    top = table.head(3)
    assert top["reason"].tolist() == ["price_value", "billing_problems", "delivery_problems"]
    assert (table["low"] <= table["share"]).all() and (table["share"] <= table["high"]).all()
    assert table["small"].all() and len(table) == len(DEFAULT_CHURN_REASONS)


def test_unmapped_at_risk_text_is_other_and_ranked():
    r = _responses()
    risk = at_risk(r, {"text": ["text"], "scores": {"nps": "nps"}})
    mentions = pd.DataFrame({"row_id": [0, 3], "theme": ["price_value", "unmapped_theme"],
                             "confidence": [0.2, 0.9], "sentiment": ["negative", "negative"],
                             "evidence": ["Too expensive.", "bill wrong"]})
    out = assign_churn_reasons(r, mentions, risk, {"price_value": "price_value"},
                               DEFAULT_CHURN_REASONS, min_confidence=0.35)
    # a weak mapped mention (0.2 < 0.35) and a theme with no reason both give "other"
    assert out["churn_reason"].tolist() == ["other", "other", None, "other", None, None]
    assert out["churn_evidence"][:4].isna().all()
    table = churn_table(pd.concat([r, out], axis=1), DEFAULT_CHURN_REASONS)
    assert table.iloc[0]["reason"] == "other" and table.iloc[0]["count"] == 3
    assert table.iloc[0]["share"] == 1.0 and table.iloc[0]["high"] == 1.0


def test_churn_table_counts_and_wilson():
    r = pd.DataFrame({"churn_reason": ["a"] * 6 + ["b"] * 3 + ["other"] + [None] * 5,
                      "churn_confidence": [0.9] * 10 + [np.nan] * 5,
                      "churn_evidence": ["x"] * 10 + [None] * 5})
    t = churn_table(r, ["b", "a", "other"], min_n=5)
    assert t["reason"].tolist() == ["a", "b", "other"] and t["rank"].tolist() == [1, 2, 3]
    assert t.loc[0, "share"] == 0.6 and t.loc[0, "n"] == 10
    assert t.loc[0, "low"] == pytest.approx(0.3127, abs=1e-4)  # Wilson 6/10
    assert not t["small"].any()


def test_touchpoint_table_journey_order_and_scores():
    r = _responses().assign(touchpoint=["sales", "billing", "sales", None, "billing", "sales"])
    m = pd.DataFrame({"row_id": [0, 1, 3], "theme": ["x", "y", "z"],
                      "touchpoint": ["billing", "installation", "billing"],
                      "sentiment": ["negative", "negative", "positive"],
                      "sentiment_score": [-0.8, -0.5, 0.6]})
    t = touchpoint_table(r, m, TELECOM, score_column="nps", score_kind="nps", min_n=2)
    themes = t[t["source"] == "themes"]
    assert themes["touchpoint"].tolist() == TELECOM  # every stage, in journey order
    billing = themes.set_index("touchpoint").loc["billing"]
    assert billing["responses"] == 2 and billing["negative"] == 0.5
    assert billing["score"] == -100.0  # NPS 2 and 6: two detractors
    col = t[t["source"] == "column"].set_index("touchpoint")
    assert col.index.tolist() == ["sales", "billing"]
    assert col.loc["sales", "responses"] == 3 and col.loc["sales", "score_n"] == 3
    assert col.loc["sales", "score"] == pytest.approx(100 * (1 - 2) / 3)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "other"]), min_size=1, max_size=40),
       st.randoms(use_true_random=False))
def test_churn_ranking_invariant_to_row_order(reasons, rnd):
    r = pd.DataFrame({"churn_reason": reasons, "churn_confidence": 0.5, "churn_evidence": "e"})
    shuffled = r.sample(frac=1, random_state=rnd.randint(0, 10_000)).reset_index(drop=True)
    a = churn_table(r, ["a", "b", "c", "other"])
    b = churn_table(shuffled, ["a", "b", "c", "other"])
    pd.testing.assert_frame_equal(a.drop(columns="example"), b.drop(columns="example"))
    assert ((a["low"] <= a["share"] + 1e-12) & (a["share"] <= a["high"] + 1e-12)).all()


def test_touchpoint_flags_each_estimate_by_its_own_n():
    """Review finding 8: ``small`` counted responses, so a stage with 200 responses but 6
    valid scores and 10 analysed comments read as solid. ``small`` keeps its meaning (the
    report's "Few responses"); ``score_small`` and ``sentiment_small`` use the n behind each
    number."""
    n = 200
    r = pd.DataFrame({"row_id": range(n), "touchpoint": "billing",
                      "status": ["ok"] * 10 + ["empty text"] * (n - 10),
                      "sentiment": ["negative"] * 10 + [None] * (n - 10),
                      "sentiment_score": [-0.7] * 10 + [np.nan] * (n - 10),
                      "nps": [10.0] * 6 + [np.nan] * (n - 6)})
    m = pd.DataFrame({"row_id": list(range(40)), "theme": "x", "touchpoint": "billing",
                      "sentiment": "negative", "sentiment_score": -0.7})
    t = touchpoint_table(r, m, ["billing"], score_column="nps", score_kind="nps", min_n=30)
    col = t[t["source"] == "column"].iloc[0]
    assert (col["responses"], bool(col["small"])) == (200, False)
    assert (col["score_n"], bool(col["score_small"])) == (6, True)
    assert (col["sentiment_n"], bool(col["sentiment_small"])) == (10, True)
    assert col["score_low"] < col["score"] == 100.0  # adjusted Wald: not [100, 100]
    themes = t[t["source"] == "themes"].iloc[0]  # 40 mentions of 40 responses, 6 scored
    assert not themes["small"] and not themes["sentiment_small"] and themes["score_small"]
    without = touchpoint_table(r, m, ["billing"], min_n=30)  # no score column: nothing to flag
    assert not without["score_small"].any()
