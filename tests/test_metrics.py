"""Score metrics: worked examples checked by hand, invalid counting, and properties."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxnlp.metrics import (
    Estimate,
    ces,
    csat,
    mean_interval,
    nps,
    rating,
    recommend,
    score_metric,
    score_values,
    segment_summary,
    sentiment_summary,
    summarize,
    wilson_interval,
)
from cxnlp.results import Results

Z95 = 1.959963984540054

# 5 promoters, 3 passives, 2 detractors
TEN = [10, 9, 9, 10, 9, 8, 7, 7, 3, 6]


# --------------------------------------------------------------------------- NPS


def test_nps_worked_example():
    """The reported NPS is the raw one; the interval is Rocks's (2016) adjusted Wald one.

    (Until the statistical review this test pinned the plain Wald interval, 30 ± 48.41.)
    """
    est = nps(pd.Series(TEN))
    assert est.value == pytest.approx(30.0)
    # adjusted: n = 13, p = 5.75/13, d = 2.75/13, centre 100 · 3/13 = 23.08
    # Var = [p + d - (p - d)^2] / 13 = [8.5/13 - (3/13)^2] / 13
    p, d = 5.75 / 13, 2.75 / 13
    half = 100 * Z95 * math.sqrt((p + d - (p - d) ** 2) / 13)
    assert half == pytest.approx(42.1274, abs=1e-3)
    assert est.low == pytest.approx(100 * 3 / 13 - half)
    assert est.high == pytest.approx(100 * 3 / 13 + half)
    assert (round(est.low, 1), round(est.high, 1)) == (-19.1, 65.2)
    assert (est.n, est.n_invalid) == (10, 0)
    assert est.shares == pytest.approx({"promoters": 0.5, "passives": 0.3, "detractors": 0.2})
    assert est.distribution == {
        "0": 0, "1": 0, "2": 0, "3": 1, "4": 0, "5": 0, "6": 1, "7": 2, "8": 1, "9": 3, "10": 2,
    }  # fmt: skip
    assert (est.metric, est.unit, est.method) == ("nps", "points", "adjusted_wald")


def test_nps_boundaries_of_groups():
    est = nps([6, 7, 8, 9])
    assert est.shares == pytest.approx({"promoters": 0.25, "passives": 0.5, "detractors": 0.25})
    assert est.value == pytest.approx(0.0)


def test_nps_counts_invalid_entries():
    # NaN, None, 11, -1, 7.5 and "ten" are invalid; "9" parses.
    est = nps([10, 9, np.nan, None, 11, -1, 7.5, "ten", "9", 0])
    assert est.n == 4
    assert est.n_invalid == 6
    assert est.value == pytest.approx(100 * (3 - 1) / 4)


def test_nps_ci_is_clipped():
    est = nps([10, 10, 9, 0])
    assert est.high <= 100 and est.low >= -100


def test_nps_all_promoters_has_a_real_interval():
    """Thirty promoters: the plain Wald interval was [100, 100] (variance 0); the adjusted
    one is not degenerate, contains the reported 100 and ends at 100."""
    est = nps([10] * 30)
    assert est.value == 100.0
    assert est.high == 100.0
    assert 70 < est.low < 90  # 78.7 by hand: p = 30.75/33, d = 0.75/33
    p, d = 30.75 / 33, 0.75 / 33
    half = 100 * Z95 * math.sqrt((p + d - (p - d) ** 2) / 33)
    assert est.low == pytest.approx(100 * (p - d) - half)
    down = nps([0] * 12)  # and the same at the other end
    assert down.value == down.low == -100.0 and down.high > -100


@pytest.mark.parametrize(("answer", "value"), [(10, 100.0), (0, -100.0), (8, 0.0)])
def test_nps_of_one_answer_is_wide_and_contains_the_answer(answer, value):
    """n = 1: the adjusted centre (25 for a promoter) is widened to take in the raw NPS."""
    est = nps([answer])
    assert est.value == value
    assert -100 <= est.low <= value <= est.high <= 100
    assert est.high - est.low > 100


def test_nps_interval_inputs_edge_counts():
    """Every (P, D) split of n = 1..12 gives a valid interval that contains the NPS."""
    for n in range(1, 13):
        for prom in range(n + 1):
            for det in range(n - prom + 1):
                est = nps([10] * prom + [8] * (n - prom - det) + [0] * det)
                assert -100 <= est.low <= est.value <= est.high <= 100
                assert est.high > est.low


def test_nps_empty_input():
    est = nps([np.nan, None])
    assert est.n == 0 and est.n_invalid == 2
    assert math.isnan(est.value) and math.isnan(est.low) and math.isnan(est.high)
    d = est.to_dict()
    assert d["value"] is None and d["low"] is None
    json.dumps(d, allow_nan=False)


def test_nps_confidence_level_changes_width():
    wide, narrow = nps(TEN, confidence=0.99), nps(TEN, confidence=0.80)
    assert wide.high - wide.low > narrow.high - narrow.low
    with pytest.raises(ValueError, match="confidence"):
        nps(TEN, confidence=95)


# --------------------------------------------------------------------------- Wilson / t


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson score).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_matches_published_values(x, n, low, high):
    lo, hi = wilson_interval(x, n)
    assert lo == pytest.approx(low, abs=1e-4)
    assert hi == pytest.approx(high, abs=1e-4)


def test_wilson_edges():
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 10)[0] == 0.0
    assert all(math.isnan(b) for b in wilson_interval(0, 0))
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_mean_interval_by_hand():
    # mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776445
    mean, low, high = mean_interval([1, 2, 3, 4, 5])
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert (mean, low, high) == pytest.approx((3.0, 3 - half, 3 + half))
    assert math.isnan(mean_interval([4])[1])


def test_bounded_mean_interval_takes_its_spread_with_a_pseudo_answer_at_each_end():
    """On a 1-7 scale, s comes from the answers plus a 1 and a 7; the mean and n do not."""
    x = [7, 6, 6, 5]
    mean, low, high = mean_interval(x, bounds=(1.0, 7.0))
    s = float(np.std([7, 6, 6, 5, 1, 7], ddof=1))
    half = 3.182446305284263 * s / 2  # t(0.975, 3) · s / sqrt(4)
    assert mean == pytest.approx(6.0)
    assert (low, high) == pytest.approx((6 - half, 7.0))  # clipped to the scale
    # unbounded values keep the plain t interval
    assert mean_interval(x)[1] == pytest.approx(6 - 3.182446305284263 * np.std(x, ddof=1) / 2)


def test_forty_identical_ces_answers_have_a_nonzero_interval():
    """Forty CES 7s gave [7, 7]; the interval now has width and still ends at the top."""
    est = ces([7] * 40)
    assert est.value == 7.0 and est.high == 7.0
    assert 6.5 < est.low < 7.0
    one_star = rating([1, 1])
    assert one_star.low == 1.0 and one_star.high > 1.0


# --------------------------------------------------------------------------- other kinds


def test_csat_top2_box():
    est = csat([5, 4, 4, 3, 1, 2, 5, 5, 4, 3])  # 6 of 10 answered 4-5
    assert est.value == pytest.approx(60.0)
    lo, hi = wilson_interval(6, 10)
    assert (est.low, est.high) == pytest.approx((100 * lo, 100 * hi))
    assert est.unit == "percent" and est.method == "wilson"
    assert est.shares == pytest.approx({"satisfied": 0.6, "neutral": 0.2, "dissatisfied": 0.2})
    assert est.components["mean"].value == pytest.approx(3.6)
    assert list(est.distribution) == ["1", "2", "3", "4", "5"]


def test_csat_invalid_and_other_scales():
    est = csat([5, 6, 0, 4.5, np.nan, 4])
    assert (est.n, est.n_invalid) == (2, 4)
    assert csat([10, 9, 8, 1], scale=10).value == pytest.approx(50.0)
    with pytest.raises(ValueError, match="scale"):
        csat([1], scale=1)


def test_ces_mean_and_easy_share():
    est = ces([7, 6, 5, 4, 3, 2, 1, 7, 6, 5])
    assert est.value == pytest.approx(4.6)
    m, lo, hi = mean_interval([7, 6, 5, 4, 3, 2, 1, 7, 6, 5], bounds=(1, 7))
    assert (est.low, est.high) == pytest.approx((lo, hi))
    easy = est.components["easy"]  # 5-7 of 7
    assert easy.value == pytest.approx(60.0)
    assert (easy.low, easy.high) == pytest.approx(tuple(100 * b for b in wilson_interval(6, 10)))
    assert est.shares == pytest.approx({"easy": 0.6, "neutral": 0.1, "difficult": 0.3})
    assert ces([5, 4, 3, 2], scale=5).components["easy"].value == pytest.approx(50.0)


def test_rating_mean_and_distribution():
    est = rating([5, 4, 4, 1, 4.5, 0, 6, None])
    assert (est.n, est.n_invalid) == (5, 3)
    assert est.value == pytest.approx(18.5 / 5)
    assert est.distribution == {"1": 1, "2": 0, "3": 0, "4": 2, "4.5": 1, "5": 1}
    assert est.shares["positive"] == pytest.approx(0.8)


@pytest.mark.parametrize("fn", [nps, csat, ces, rating])
def test_booleans_are_not_scores(fn):
    """``True`` read as 1 was an NPS detractor or a one-star answer: it counts as invalid."""
    est = fn([True, False, 5])
    assert (est.n, est.n_invalid) == (1, 2)
    assert fn(pd.Series([True, False])).n == 0


def test_recommend_yes_share():
    est = recommend(["yes", "No", "Y", True, 0, 1.0, "maybe", None])
    assert (est.n, est.n_invalid) == (6, 2)
    assert est.value == pytest.approx(100 * 4 / 6)
    assert est.distribution == {"yes": 4, "no": 2}
    # a nullable boolean column: NA is no answer, not an error
    answers = pd.Series([True, pd.NA, False, True], dtype="boolean")
    assert score_values(answers, "recommend").tolist()[::2] == [100.0, 0.0]
    assert recommend(answers).n == 3


def test_score_metric_dispatch_and_unknown_kind():
    assert score_metric(TEN, "nps") == nps(TEN)
    assert score_metric([9, 10], "csat", scale=10).value == pytest.approx(100.0)
    with pytest.raises(ValueError, match="Expected one of: nps, csat"):
        score_metric(TEN, "ltr")


def test_estimate_is_frozen_and_serialises():
    est = ces([7, 6, 5])
    with pytest.raises(AttributeError):
        est.value = 1.0  # type: ignore[misc]
    d = est.to_dict()
    assert set(d) >= {"value", "low", "high", "n", "n_invalid"}
    assert d["components"]["easy"]["metric"] == "ces_easy"
    json.dumps(d, allow_nan=False)
    assert isinstance(Estimate(1.0, 0.0, 2.0, 3, 0).to_dict()["n"], int)


# --------------------------------------------------------------------------- properties

nps_answers = st.lists(
    st.one_of(st.integers(0, 10), st.floats(allow_nan=True, allow_infinity=True), st.none()),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(nps_answers, st.floats(0.5, 0.999))
def test_nps_properties(values, confidence):
    est = nps(values, confidence=confidence)
    assert est.n + est.n_invalid == len(values)
    if est.n:
        assert -100 <= est.low <= est.value <= est.high <= 100
        assert sum(est.shares.values()) == pytest.approx(1.0)
        assert sum(est.distribution.values()) == est.n
    else:
        assert math.isnan(est.value)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10), min_size=1, max_size=60), st.randoms())
def test_nps_invariant_to_row_order(values, rnd):
    shuffled = list(values)
    rnd.shuffle(shuffled)
    a, b = nps(values), nps(pd.Series(shuffled, index=range(100, 100 + len(values))))
    assert (a.value, a.low, a.high, a.n) == pytest.approx((b.value, b.low, b.high, b.n))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 500), st.integers(1, 500), st.floats(0.5, 0.999))
def test_wilson_contains_estimate(x, n, confidence):
    x = min(x, n)
    lo, hi = wilson_interval(x, n, confidence)
    assert 0 <= lo <= x / n <= hi <= 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=2, max_size=60))
def test_ces_and_csat_intervals_contain_estimate(values):
    for est in (ces(values), csat(values, scale=7), rating(values, scale=7)):
        assert est.low <= est.value + 1e-9 and est.value <= est.high + 1e-9
    for est in (ces(values), rating(values, scale=7)):  # means stay on the scale
        assert est.low >= 1 and est.high <= 7


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["yes", "no", "Y", "n", 1, 0, True, None, "maybe"]),
                max_size=60))
def test_recommend_counts_and_interval_contains_estimate(values):
    est = recommend(values)
    assert est.n + est.n_invalid == len(values)
    if est.n:
        assert 0 <= est.low <= est.value <= est.high <= 100


def test_mean_interval_clipped_to_scale():
    est = rating([1, 5])  # t(1) interval is about 3 +- 25
    assert (est.low, est.high) == (1.0, 5.0)


def test_sentiment_score_interval_stays_within_its_range():
    """Two analysed rows: the t(1) interval of their mean sentiment score spans about ±11;
    the summary keeps it to [-1, 1] like every score's interval."""
    responses = pd.DataFrame({"status": ["ok", "ok"], "sentiment": ["positive", "negative"],
                              "sentiment_score": [0.9, -0.8]})  # fmt: skip
    mean = sentiment_summary(responses)["mean_score"]
    assert (mean["low"], mean["high"]) == (-1.0, 1.0) and mean["value"] == pytest.approx(0.05)


# --------------------------------------------------------------------------- summarize


def _results() -> Results:
    responses = pd.DataFrame(
        {
            "row_id": range(6),
            "status": ["ok", "ok", "ok", "empty text", "ok", "ok"],
            "store": ["A", "A", "B", "B", None, "A"],
            "ltr": [10.0, 9.0, 3.0, 8.0, np.nan, 7.0],
            "sat": [5.0, 4.0, 1.0, 5.0, 3.0, np.nan],
            "text": ["great", "good", "bad", "", "fine", "good but slow"],
            "sentiment": ["positive", "positive", "negative", np.nan, "neutral", "mixed"],
            "p_negative": [0.1, 0.1, 0.8, np.nan, 0.2, 0.45],
            "p_neutral": [0.1, 0.2, 0.1, np.nan, 0.7, 0.1],
            "p_positive": [0.8, 0.7, 0.1, np.nan, 0.1, 0.45],
        }
    )
    responses["sentiment_score"] = responses["p_positive"] - responses["p_negative"]
    cols = {"text": ["text"], "scores": {"ltr": "nps", "sat": "csat"}, "date": None,
            "segments": ["store"], "id": None}  # fmt: skip
    return Results(responses=responses, columns=cols)


def test_summarize_payload():
    m = summarize(_results())
    json.dumps(m, allow_nan=False)  # plain JSON, no NaN
    assert m["rows"] == 6
    assert m["status_counts"] == {"ok": 5, "empty text": 1}
    s = m["sentiment"]
    assert s["n"] == 5
    assert s["counts"] == {"negative": 1, "neutral": 1, "positive": 2, "mixed": 1}
    assert s["shares"]["positive"] == pytest.approx(0.4)
    # Scores use every row, including the one whose comment was empty.
    ltr = m["scores"]["ltr"]
    assert (ltr["kind"], ltr["n"], ltr["n_invalid"]) == ("nps", 5, 1)
    assert ltr["value"] == pytest.approx(100 * (2 - 1) / 5)
    assert m["scores"]["sat"]["value"] == pytest.approx(60.0)
    seg = m["segments"]["store"]
    assert list(seg) == ["A", "B", "(missing)"]
    assert seg["A"]["rows"] == 3 and seg["A"]["scores"]["ltr"]["n"] == 3
    # small cells are flagged, never hidden
    assert seg["A"]["small"] == 1 and summarize(_results(), min_n=3)["segments"]["store"]["A"][
        "small"] == 0
    # each estimate has its own flag, from its own n
    a = summarize(_results(), min_n=3)["segments"]["store"]["A"]
    assert a["sentiment"]["small"] == 0 and a["scores"]["ltr"]["small"] == 0
    assert a["scores"]["sat"]["n"] == 2 and a["scores"]["sat"]["small"] == 1


def test_segment_with_many_rows_but_few_scores_is_small_for_that_score():
    """Review finding 8: 200 rows, 10 analysed comments and 6 valid NPS answers were
    flagged not small. The row flag keeps its meaning; sentiment and NPS carry their own."""
    level_a = pd.DataFrame({
        "seg": "A",
        "status": ["ok"] * 10 + ["empty text"] * 190,
        "sentiment": ["negative"] * 10 + [None] * 190,
        "sentiment_score": [-0.8] * 10 + [np.nan] * 190,
        "nps": [10.0] * 6 + [np.nan] * 194,
    })
    level_b = pd.DataFrame({"seg": "B", "status": "ok", "sentiment": "positive",
                            "sentiment_score": 0.5, "nps": np.tile(np.arange(11.0), 4)})
    out = segment_summary(pd.concat([level_a, level_b]), "seg", {"nps": "nps"}, min_n=30)
    a, b = out["A"], out["B"]
    assert (a["rows"], a["small"]) == (200, 0)
    assert (a["sentiment"]["n"], a["sentiment"]["small"]) == (10, 1)
    assert (a["scores"]["nps"]["n"], a["scores"]["nps"]["small"]) == (6, 1)
    assert a["scores"]["nps"]["low"] < 100  # and its interval is no longer [100, 100]
    assert (b["rows"], b["small"], b["sentiment"]["small"], b["scores"]["nps"]["small"]) == (
        44, 0, 0, 0)


def test_summarize_accepts_a_frame_and_reports_missing_columns():
    r = _results()
    assert summarize(r.responses, r.columns) == summarize(r)
    with pytest.raises(KeyError, match="nope"):
        summarize(r.responses, {"scores": {"nope": "nps"}})


def test_summarize_all_rows_failed():
    r = _results()
    r.responses["status"] = "empty text"
    m = summarize(r)
    assert m["sentiment"]["n"] == 0
    assert m["sentiment"]["shares"]["positive"] is None
    json.dumps(m, allow_nan=False)


def test_rows_without_a_theme_count_as_analysed():
    """A response no codeframe theme matched (``no theme``) was analysed all the same: the
    sentiment mix, the report's analysed count and its sentiment chart do not depend on the
    codeframe."""
    from cxnlp.plotting import plot_sentiment, plot_sentiment_by
    from cxnlp.report.html import render_html

    tagged, untagged = _results(), _results()
    untagged.responses.loc[[0, 2, 4], "status"] = "no theme"
    assert summarize(untagged)["sentiment"] == summarize(tagged)["sentiment"]
    for plot in (plot_sentiment, lambda r: plot_sentiment_by(r, "store")):
        assert plot(untagged).to_json() == plot(tagged).to_json()
    assert "5 analysed" in render_html(untagged)
