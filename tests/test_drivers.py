"""Key drivers, disagreement, dates and trends: hand-computable fixtures and properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxnlp.drivers import (
    assess_change,
    assign_periods,
    benjamini_hochberg,
    change_interval,
    choose_period,
    disagreement,
    disagreement_summary,
    driver_table,
    emerging_test,
    impact,
    parse_dates,
    relative_weights,
    trend_table,
)
from cxnlp.metrics import Estimate, nps, score_values, wilson_interval

# 10 NPS answers; theme "billing" is mentioned by rows 3, 4 and 9 (all detractors).
SCORES = [10, 10, 8, 3, 2, 9, 7, 8, 9, 0]
BILLING = [3, 4, 9]


def _fixture():
    responses = pd.DataFrame({"row_id": range(10), "status": "ok", "nps": SCORES,
                              "text": "x", "sentiment": "neutral"})
    mentions = pd.DataFrame({
        "row_id": BILLING + [0, 1, 3],
        "theme": ["billing"] * 3 + ["staff"] * 3,
        "sentiment": ["negative"] * 3 + ["positive", "positive", "negative"],
        "confidence": 0.9,
    })
    return responses, mentions, {"text": ["text"], "scores": {"nps": "nps"}}


def test_impact_formula_by_hand():
    # overall NPS: 4 promoters, 3 detractors of 10 -> +10.
    # without billing (7 rows: 10,10,8,9,7,8,9): 4 promoters, 0 detractors -> 400/7 = 57.14
    # impact = overall - without = 10 - 57.14 = -47.14
    u = score_values(SCORES, "nps")
    m = np.isin(np.arange(10), BILLING)
    imp, with_, without, overall = impact(u, m)
    assert overall == pytest.approx(nps(SCORES).value) == pytest.approx(10.0)
    assert without == pytest.approx(400 / 7)
    assert with_ == pytest.approx(-100.0)
    assert imp == pytest.approx(10 - 400 / 7)
    # identity: impact = share * (score of mentioners - score of the others)
    assert imp == pytest.approx(0.3 * (with_ - without))


def test_driver_table_fixture():
    responses, mentions, cols = _fixture()
    table, summary = driver_table(responses, mentions, cols, bootstrap=500, seed=1, min_n=5)
    row = table[(table["theme"] == "billing") & (table["sentiment"] == "any")].iloc[0]
    assert row["n"] == 3 and row["share"] == 0.3 and bool(row["small"])
    assert row["impact"] == pytest.approx(10 - 400 / 7)
    assert row["impact_low"] <= row["impact"] <= row["impact_high"]
    # significant is judged on the q-values of all rows, not the interval of one: billing's
    # interval excludes 0 (p = 0.0497), but with 5 rows tested its q is 0.12
    assert row["impact_high"] < 0 and row["p_value"] < 0.05 < row["q_value"]
    assert not row["significant"]
    assert table["q_value"].tolist() == pytest.approx(
        benjamini_hochberg(table["p_value"].to_numpy()).tolist())
    assert summary["fdr"] == 0.05
    loose, _ = driver_table(responses, mentions, cols, bootstrap=500, seed=1, min_n=5, fdr=0.5)
    assert loose.set_index(["theme", "sentiment"]).loc[("billing", "any"), "significant"]
    # the mentioners' score carries the headline metric's own interval (whatever nps() uses)
    own = nps([3, 2, 0])
    assert (row["score"], row["score_low"], row["score_high"]) == pytest.approx(
        (-100.0, own.low, own.high))
    staff = table[(table["theme"] == "staff") & (table["sentiment"] == "any")].iloc[0]
    by_hand = nps([10, 10, 3])
    assert (staff["score"], staff["score_low"], staff["score_high"]) == pytest.approx(
        (by_hand.value, by_hand.low, by_hand.high))
    staff_neg = table[(table["theme"] == "staff") & (table["sentiment"] == "negative")]
    assert staff_neg["n"].tolist() == [1]
    assert summary["outcome"] == "nps" and summary["overall"] == pytest.approx(10.0)
    assert 0 <= summary["r2"] <= 1
    again, _ = driver_table(responses, mentions, cols, bootstrap=500, seed=1, min_n=5)
    pd.testing.assert_frame_equal(table, again)  # seeded
    for bad in (0, 1, float("nan")):  # would flag nothing, or let the interval alone decide
        with pytest.raises(ValueError, match="fdr must be between 0 and 1"):
            driver_table(responses, mentions, cols, bootstrap=10, fdr=bad)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=12, max_size=40),
       st.lists(st.booleans(), min_size=40, max_size=40), st.integers(0, 1000))
def test_drivers_invariant_to_row_order_and_ci_contains_estimate(scores, flags, seed):
    n = len(scores)
    flags = flags[:n]
    if not any(flags) or all(flags):
        flags[0], flags[-1] = True, False
    responses = pd.DataFrame({"row_id": range(n), "status": "ok", "nps": scores})
    rows = [i for i in range(n) if flags[i]]
    mentions = pd.DataFrame({"row_id": rows, "theme": "t", "sentiment": "negative"})
    cols = {"scores": {"nps": "nps"}}
    a, _ = driver_table(responses, mentions, cols, bootstrap=200, seed=seed, by_sentiment=False)
    perm = np.random.default_rng(seed).permutation(n)
    b, _ = driver_table(responses.iloc[perm].reset_index(drop=True), mentions, cols,
                        bootstrap=0, by_sentiment=False)
    assert a["impact"].iloc[0] == pytest.approx(b["impact"].iloc[0])
    assert -200 <= a["impact"].iloc[0] <= 200
    row = a.iloc[0]  # the mentioners' NPS sits in its own interval, inside [-100, 100]
    assert -100 <= row["score_low"] <= row["score"] + 1e-9 <= row["score_high"] + 2e-9 <= 100 + 2e-9
    lo, hi, est = a["impact_low"].iloc[0], a["impact_high"].iloc[0], a["impact"].iloc[0]
    if np.isfinite(lo):
        # a percentile interval can miss the estimate only by sampling noise at the edge
        assert lo <= est + 1e-9 or math.isclose(lo, est)
        assert hi >= est - 1e-9 or math.isclose(hi, est)


def test_relative_weights_sum_to_r2_and_split_correlated_themes():
    rng = np.random.default_rng(0)
    x1 = rng.random(500) < 0.3
    x2 = x1 ^ (rng.random(500) < 0.1)  # highly correlated with x1
    x3 = rng.random(500) < 0.2
    y = -50 * x1 - 20 * x3 + rng.normal(0, 10, 500)
    X = np.column_stack([x1, x2, x3]).astype(float)
    w, r2 = relative_weights(X, y)
    ols = np.linalg.lstsq(np.column_stack([np.ones(500), X]), y, rcond=None)[0]
    fitted = np.column_stack([np.ones(500), X]) @ ols
    r2_ols = 1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert w.sum() == pytest.approx(r2) == pytest.approx(r2_ols, abs=1e-8)
    assert (w >= 0).all() and w[0] > w[2] > 0 and w[1] > 0  # x2 shares x1's credit
    w0, _ = relative_weights(np.column_stack([X, np.ones(500)]), y)
    assert w0[-1] == 0  # a constant theme gets nothing


def test_disagreement_flags():
    r = pd.DataFrame({"row_id": range(5), "status": ["ok"] * 4 + ["empty text"],
                      "nps": [10, 1, 10, 7, 10],
                      "p_negative": [0.9, 0.05, 0.1, 0.95, 0.9],
                      "p_positive": [0.05, 0.9, 0.85, 0.02, 0.05]})
    flags = disagreement(r, {"scores": {"nps": "nps"}}, threshold=0.7)
    assert flags[0].startswith("promoter score (10) with negative text")
    assert flags[1].startswith("detractor score (1) with positive text")
    assert flags[2] is None and flags[3] is None  # agreeing; passive
    assert flags[4] is None  # no analysed text
    assert disagreement(r, {"scores": {}}).isna().all()
    r["sentiment"] = ["mixed", "mixed", "positive", "negative", None]
    assert disagreement(r, {"scores": {"nps": "nps"}}).isna().all()  # mixed text explains both
    # without p_positive no row is eligible, as disagreement_summary counts them (no KeyError)
    half = r.drop(columns=["sentiment", "p_positive"])
    assert disagreement(half, {"scores": {"nps": "nps"}}).isna().all()
    assert disagreement_summary(half, {"scores": {"nps": "nps"}})["base"] == 0


def test_disagreement_with_the_real_models(analyzer):
    df = pd.DataFrame({
        "comment": ["Absolutely furious. The engineer never came, nobody answers the phone and "
                    "I am still paying for nothing.",
                    "The staff were lovely and so helpful, thank you for sorting everything out.",
                    "Great service, fast and friendly.",
                    "Terrible, slow and rude."],
        "nps": [10, 0, 10, 1]})
    res = analyzer.analyze(df, score_columns={"nps": "nps"}, **{"topics.enabled": False})
    r = res.responses
    assert r["disagreement"][0].startswith("promoter score (10) with negative text")
    assert r["disagreement"][1].startswith("detractor score (0) with positive text")
    assert r["disagreement"][2:].isna().all()
    assert res.metrics["disagreement"]["n"] == 2
    assert res.metrics["disagreement"]["base"] == 4
    assert res.metrics["disagreement"]["low_score_positive_text"]["n"] == 1
    # the detractor who praises the staff is at risk, but praise is not a reason to leave
    assert r["at_risk"][1] == "detractor (NPS 0)" and r["churn_reason"][1] == "other"
    assert r["churn_reason"][3] == "poor_service"


def test_parse_dates_day_first_detection():
    d, note = parse_dates(pd.Series(["11/04/2018 20:09", "18/06/2018 19:38", None]))
    assert d[0] == pd.Timestamp("2018-04-11 20:09") and "day first" in note
    d, note = parse_dates(pd.Series(["04/11/2018", "06/18/2018"]))
    assert d[0] == pd.Timestamp("2018-04-11") and "month first" in note
    d, note = parse_dates(pd.Series(["01/02/2018", "03/04/2018"]))
    assert d[0] == pd.Timestamp("2018-01-02") and "ambiguous" in note
    d, _ = parse_dates(pd.Series(["01/02/2018"]), dayfirst=True)
    assert d[0] == pd.Timestamp("2018-02-01")
    # times as the export writes them: a tweet at 23:35 Pacific is on the 24th, not the 25th
    d, _ = parse_dates(pd.Series(["2015-02-24 23:35:52 -0800", "not a date", "2015-02-24T23:00Z"]))
    assert d[0] == pd.Timestamp("2015-02-24 23:35:52") and pd.isna(d[1])
    assert d[2] == pd.Timestamp("2015-02-24 23:00")
    zoned = pd.Series(pd.to_datetime(["2015-02-24 23:35"]).tz_localize("US/Pacific"))
    assert parse_dates(zoned)[0][0] == pd.Timestamp("2015-02-24 23:35")


def test_choose_period():
    days = pd.Series(pd.to_datetime(["2018-01-01", "2018-01-20"]))
    assert choose_period(days) == "day"
    assert choose_period(pd.Series(pd.to_datetime(["2018-01-01", "2018-04-01"]))) == "week"
    assert choose_period(pd.Series(pd.to_datetime(["2018-01-01", "2018-12-01"]))) == "month"
    assert choose_period(days, "quarter") == "quarter"
    years = pd.Series(pd.to_datetime(["2015-01-01", "2019-01-01", None]))
    assert choose_period(years) == "quarter"
    assert choose_period(pd.Series(pd.to_datetime([None, None]))) == "month"


def test_emerging_test_and_bh_on_constructed_counts():
    # 30/100 vs 10/100: pooled p = 0.2, se = sqrt(.2*.8*(2/100)) = 0.05657, z = 3.536
    assert emerging_test(30, 100, 10, 100) == pytest.approx(2.03e-4, rel=0.01)
    assert emerging_test(10, 100, 10, 100) == pytest.approx(0.5)
    # small counts: Fisher exact, one-sided (3/10 vs 0/10 -> p = 0.1053)
    assert emerging_test(3, 10, 0, 10) == pytest.approx(0.10526, abs=1e-4)
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.2, np.nan])
    assert q[:4].round(4).tolist() == [0.04, 0.0533, 0.0533, 0.2] and np.isnan(q[4])


def test_trend_table_flags_an_emerging_theme():
    # four months of 100 responses; "outage" is 5 % of months 1-3 and 30 % of month 4;
    # "price" stays at 10 % -> only outage emerges; "new" appears only in month 4
    rows, mentions = [], []
    for month in range(4):
        for i in range(100):
            rid = month * 100 + i
            rows.append({"row_id": rid, "status": "ok", "date": f"2018-0{month + 1}-15",
                         "nps": 9 if i % 2 else 3, "sentiment": "neutral"})
            if i < (30 if month == 3 else 5):
                mentions.append({"row_id": rid, "theme": "outage"})
            if 50 <= i < 60:
                mentions.append({"row_id": rid, "theme": "price"})
            if month == 3 and 70 <= i < 74:
                mentions.append({"row_id": rid, "theme": "new"})
    r, m = pd.DataFrame(rows), pd.DataFrame(mentions)
    cols = {"date": "date", "scores": {"nps": "nps"}}
    table, summary = trend_table(r, m, cols, period="month", min_n=30)
    assert summary["period"] == "month" and summary["n_periods"] == 4
    last = table[(table["period"] == "2018-04") & (table["kind"] == "theme")].set_index("key")
    assert last.loc["outage", "emerging"] and not last.loc["price", "emerging"]
    assert last.loc["outage", "baseline_value"] == pytest.approx(0.05)
    assert last.loc["new", "new"] and last.loc["new", "baseline_count"] == 0
    assert [e["key"] for e in summary["emerging"]][0] == "outage"
    score = table[table["kind"] == "score"]
    assert score["value"].tolist() == [0.0] * 4 and (~score["small"]).all()
    # every share's interval contains it
    shares = table[table["kind"].isin(["theme", "sentiment"])]
    assert ((shares["low"] <= shares["value"]) & (shares["value"] <= shares["high"])).all()


def test_trend_table_flags_a_new_discovered_topic():
    # six weeks (a 39-day span: weekly periods); topic 0 runs throughout, topic 7 appears
    # in the last week only
    rows = []
    for week in range(6):
        for i in range(40):
            topic = 7 if week == 5 and i < 6 else (0 if i < 20 else -1)
            rows.append({"row_id": week * 40 + i, "status": "ok", "topic": topic,
                         "date": (pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * week + i % 5))
                         .strftime("%Y-%m-%d")})
    table, summary = trend_table(pd.DataFrame(rows), pd.DataFrame(), {"date": "date"})
    assert summary["period"] == "week" and summary["n_periods"] == 6
    topics = table[table["kind"] == "topic"]
    assert set(topics["key"]) == {"0", "7"}  # the outlier topic -1 is not a topic
    last = topics[topics["period"] == topics["period"].max()].set_index("key")
    assert last.loc["7", "new"] and last.loc["7", "count"] == 6
    assert not last.loc["0", "new"] and not last.loc["0", "emerging"]
    assert summary["new"] == [{"kind": "topic", "key": "7", "count": 6}]


def test_no_date_no_trends():
    table, summary = trend_table(pd.DataFrame({"row_id": [0]}), pd.DataFrame(), {})
    assert table.empty and summary["period"] is None


def test_pipeline_fills_the_tables(analyzer, tmp_path):
    from cxnlp.results import Results

    df = pd.DataFrame({
        "comment": ["The engineer never turned up, I am cancelling.",
                    "Great speed and the staff were lovely.",
                    "My bill was wrong twice, terrible.",
                    "Router arrived quickly, easy setup.",
                    "Constant outages every evening.",
                    "Too expensive for what you get."] * 2,
        "nps": [0, 10, 2, 9, 1, 4] * 2,
        "journey": ["Order", "Service in Use", "First Payment", "Equipment Received",
                    "Service in Use", "First Payment"] * 2,
        "date": ["01/02/2018", "13/02/2018", "20/02/2018", "03/03/2018", "15/03/2018",
                 "28/03/2018"] * 2,
    })
    res = analyzer.analyze(df, codeframe="telecom", score_columns={"nps": "nps"},
                           date_column="date", **{"topics.enabled": False})
    r = res.responses
    assert res.columns["touchpoint"] == "journey"
    assert set(r["touchpoint"]) == {"sales", "service_in_use", "billing", "equipment"}
    assert r.loc[r["nps"] <= 6, "at_risk"].notna().all()
    assert r.loc[r["nps"] >= 9, "at_risk"].isna().all()
    assert r.loc[r["nps"] <= 6, "churn_reason"].notna().all()
    assert set(res.churn["reason"]) >= {"price_value", "other"} and res.churn["count"].sum() == 8
    assert not res.drivers.empty and "impact" in res.drivers
    assert set(res.trends["kind"]) >= {"volume", "score", "theme"}
    assert "day first" in res.metrics["trends"]["dates"]
    from cxnlp import views  # the report's periods are the trends'

    per = views.periods(res)
    assert per.attrs["freq"] == res.metrics["trends"]["period"]
    assert sorted(per.dropna().unique()) == sorted(res.trends["period"].unique())
    for key in ("touchpoints", "churn", "drivers", "trends", "disagreement"):
        assert key in res.metrics
    res.save(tmp_path, report=False)
    back = Results.load(tmp_path)
    assert len(back.drivers) == len(res.drivers) and len(back.churn) == len(res.churn)
    assert len(back.touchpoints) == len(res.touchpoints) and len(back.trends) == len(res.trends)


def test_assign_periods_is_the_trends_rule():
    values = pd.Series([f"2018-03-{d:02d}" for d in range(1, 30)] + [None])  # a 28-day span
    found = assign_periods(values)
    assert found.period == "day" and found.label.iloc[0] == "2018-03-01"
    assert pd.isna(found.label.iloc[-1]) and found.note == "ISO or named-month dates"
    responses = pd.DataFrame({"row_id": range(30), "status": "ok", "date": values})
    table, summary = trend_table(responses, pd.DataFrame(columns=["row_id", "theme"]),
                                 {"date": "date"})
    assert summary["period"] == "day"
    assert table["period"].unique().tolist() == found.label.dropna().tolist()
    forced = assign_periods(values, "quarter")
    assert forced.period == "quarter" and set(forced.label.dropna()) == {"2018Q1"}
    weeks = assign_periods(pd.Series(["2018-12-31", "2018-01-01", "2018-06-30"]), "week")
    assert weeks.label.tolist() == ["2019-W01", "2018-W01", "2018-W26"]  # ISO weeks
    with pytest.raises(ValueError, match="drivers.period"):
        assign_periods(values, "fortnight")


def test_parse_dates_counts_unreadable_rows_not_distinct_values():
    values = pd.Series(["soon", "soon", "2018-01-02", "", None], index=[4, 3, 2, 1, 0])
    d, note = parse_dates(values)
    assert "2 value(s) could not be read" in note
    assert d.index.tolist() == [4, 3, 2, 1, 0] and d[2] == pd.Timestamp("2018-01-02")
    assert d.isna().tolist() == [True, True, False, True, True]


def test_change_interval_is_newcombes_for_two_proportions():
    # Newcombe (1998), method 10, example (a): 56/70 - 48/80 = 0.2, CI 0.0524 to 0.3339
    a = Estimate(56 / 70, *wilson_interval(56, 70), 70, 0)
    b = Estimate(48 / 80, *wilson_interval(48, 80), 80, 0)
    assert change_interval(a, b) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    # symmetric intervals (NPS, t): the change is d ± sqrt(h1² + h0²)
    d = change_interval(Estimate(10, 4, 16, 50, 0), Estimate(5, 1, 9, 50, 0))
    assert d == pytest.approx((5 - math.hypot(6, 4), 5 + math.hypot(6, 4)))
    assert all(math.isnan(x) for x in change_interval(Estimate(1, math.nan, math.nan, 1, 0), b))


def _unrelated_themes(seed: int, n: int = 1500, k: int = 40):
    """``k`` themes (shares 1-15 %, random aspect sentiment) independent of the NPS."""
    rng = np.random.default_rng(seed)
    responses = pd.DataFrame({"row_id": range(n), "status": "ok",
                              "nps": rng.choice([10, 8, 0], n, p=[0.35, 0.3, 0.35])})
    rows, themes = np.nonzero(rng.random((n, k)) < np.linspace(0.01, 0.15, k))
    mentions = pd.DataFrame({"row_id": rows, "theme": [f"t{j:02d}" for j in themes],
                             "sentiment": rng.choice(["negative", "neutral", "positive"],
                                                     len(rows))})
    return responses, mentions, {"scores": {"nps": "nps"}}


def test_unrelated_themes_are_rarely_significant():
    # 40 themes x 4 sentiments unrelated to the score: row by row, about 1 in 20 intervals
    # excludes 0; after Benjamini-Hochberg over all rows hardly any row is significant
    excluded = flagged = 0
    for seed in range(4):
        table, _ = driver_table(*_unrelated_themes(seed), bootstrap=400, seed=seed)
        excluded += int(((table["impact_low"] > 0) | (table["impact_high"] < 0)).sum())
        flagged += int(table["significant"].sum())
        assert (table["q_value"] >= table["p_value"] - 1e-12).all()
    assert excluded >= 15 and flagged <= 1


def test_disagreement_summary_uses_the_rows_that_could_disagree():
    r = pd.DataFrame({
        "row_id": range(8),
        "status": ["ok"] * 6 + ["empty text"] * 2,
        "nps": [10, 9, 1, 0, 10, "abc", 10, 0],
        "sentiment": ["negative", "positive", "positive", "negative", "mixed", "negative",
                      None, None],
        "p_negative": [0.9, 0.1, 0.05, 0.9, 0.8, 0.9, np.nan, np.nan],
        "p_positive": [0.05, 0.8, 0.9, 0.05, 0.1, 0.05, np.nan, np.nan]})
    s = disagreement_summary(r, {"scores": {"nps": "nps"}}, threshold=0.7)
    # eligible: rows 0-3 (row 4 mixed, row 5 invalid score, rows 6-7 no text)
    assert (s["n"], s["base"], s["share"]) == (2, 4, 0.5)
    assert s["low"] < 0.5 < s["high"]
    assert s["high_score_negative_text"] == pytest.approx(
        {"n": 1, "base": 2, "share": 0.5, "low": wilson_interval(1, 2)[0],
         "high": wilson_interval(1, 2)[1]})
    assert (s["low_score_positive_text"]["n"], s["low_score_positive_text"]["base"]) == (1, 2)
    assert int(disagreement(r, {"scores": {"nps": "nps"}}).notna().sum()) == s["n"]
    none = disagreement_summary(r, {"scores": {}})
    assert none["n"] == 0 and none["base"] == 0 and none["share"] is None
    # a passive (7-8) can be neither a promoter with negative text nor the reverse: no base
    passive = r.assign(nps=[10, 9, 1, 0, 10, 8, 10, 0], sentiment=r["sentiment"].replace(
        {"mixed": "negative"}))  # fmt: skip
    assert disagreement_summary(passive, {"scores": {"nps": "nps"}})["base"] == 5  # not 6


def test_no_test_against_a_tiny_baseline_and_no_new_theme_without_evidence():
    # day 1: 4 responses and no themes (a partial first day); days 2-4: 300 responses each
    # with 30 themes at 2 % each, nothing changing. Day 2 is not tested against day 1, and a
    # theme absent from days 2-3 that shows 3 times on day 4 is no news by itself.
    rng = np.random.default_rng(3)
    rows = [{"row_id": i, "status": "ok", "date": "2015-02-16"} for i in range(4)]
    mentions = []
    for day in range(3):
        for i in range(300):
            rid = 4 + day * 300 + i
            rows.append({"row_id": rid, "status": "ok", "date": f"2015-02-{17 + day}"})
            mentions += [{"row_id": rid, "theme": f"t{j}"}
                         for j in np.flatnonzero(rng.random(30) < 0.02)]
    mentions += [{"row_id": 4 + 600 + i, "theme": "late"} for i in range(3)]
    table, summary = trend_table(pd.DataFrame(rows), pd.DataFrame(mentions), {"date": "date"},
                                 period="day", min_n=30)
    day2 = table[(table["period"] == "2015-02-17") & (table["kind"] == "theme")]
    assert (day2["baseline_n"] == 4).all() and day2["p_value"].isna().all()
    assert not day2["new"].any() and not day2["emerging"].any()
    late = table[(table["kind"] == "theme") & (table["key"] == "late")].set_index("period")
    assert late.loc["2015-02-19", "baseline_count"] == 0 and late.loc["2015-02-19", "count"] == 3
    assert not late.loc["2015-02-19", "new"] and summary["new"] == []


def test_assess_change_says_when_a_change_cannot_be_read():
    prev = nps([10] * 105 + [8] * 90 + [0] * 105)  # NPS 0, n = 300
    early = nps([10, 9, 10, 9])  # 4 answers on the 3rd of the month
    c = assess_change(early, prev, partial=True, min_n=30)
    assert c["delta"] == 100 and not c["assessed"] and c["not_assessed"] == "partial_small"
    assert c["direction"] is None
    # the same answers in a whole period are assessed on their interval
    assert assess_change(early, prev, partial=False, min_n=30)["assessed"]
    none = assess_change(Estimate(7.0, math.nan, math.nan, 1, 0), Estimate(5, 4.5, 5.5, 40, 0))
    assert not none["assessed"] and none["not_assessed"] == "no_interval"
    assert none["direction"] is None and math.isnan(none["delta_low"])
    up = assess_change(Estimate(60, 50, 70, 100, 0), Estimate(40, 30, 50, 100, 0))
    assert up["assessed"] and up["not_assessed"] is None and up["direction"] == "up"
    assert (up["delta_low"], up["delta_high"]) == pytest.approx((5.8579, 34.1421), abs=1e-4)
    assert assess_change(Estimate(45, 35, 55, 100, 0),
                         Estimate(40, 30, 50, 100, 0))["direction"] == "unclear"
    # no change, but an interval of -60 to +60: not "flat", as unclear as any other
    same = Estimate(100, 40, 100, 3, 0)
    assert assess_change(same, same)["direction"] == "unclear"
    assert assess_change(Estimate(30, 20, 40, 100, 0),
                         Estimate(60, 50, 70, 100, 0))["direction"] == "down"
