"""Key drivers, touchpoints and churn reasons on real feedback, through the real pipeline.

1. Telecom NPS verbatims (``nps-verbatims-telecom``: 0-10 ``NPS_SCORE``, journey stage in
   ``SURVEY_SUB_TYPE``, ``CUSTOMER_RESPONSE_DATE``), codeframe ``telecom``: top drivers with
   impacts and bootstrap CIs, the touchpoint table, the churn-reason ranking of detractors,
   trends and emerging themes.
2. US airline tweets (``twitter-us-airline-sentiment``, no score: the outcome is the text
   sentiment score), codeframe ``airline``, on the test split (``tweet_id % 5 == 0``): the
   same tables, plus churn-reason accuracy and macro-F1 on negative tweets whose
   ``negativereason`` maps to the default churn list (``REASON_MAP`` below; "Can't Tell" is
   left out), against the majority class, for each source alone (theme map only, direct
   classifier only) and with the direct classifier zero-shot **and trained** on the train
   split (``tweet_id % 5 != 0``) through ``cxnlp.training.themes.train_churn`` — the path of
   ``cxnlp train churn``. The airline set is evaluate-only: the trained head lives in a
   temporary folder and is never shipped.

    .venv/bin/python benchmarks/drivers.py [--airline-rows 0] [--seed 0]
    .venv/bin/python benchmarks/drivers.py --blend-study   # link.theme_weight, train split only

Topic discovery is switched off (it is benchmarked elsewhere and is the slow part).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
from _common import machine, need_data

import cxnlp
from cxnlp.link import (
    ChurnReasonClassifier,
    assign_churn_reasons,
    churn_reasons_of,
    theme_weight_for,
)

#: Airline complaint reason -> default churn reason. Delays and cancellations are the
#: airline's reliability (product quality/reliability); lost bags were not delivered;
#: damaged bags are product quality; booking problems are a process too hard to use.
REASON_MAP = {
    "Customer Service Issue": "poor_service",
    "Flight Attendant Complaints": "poor_service",
    "longlines": "poor_service",
    "Late Flight": "product_quality",
    "Cancelled Flight": "product_quality",
    "Bad Flight": "product_quality",
    "Damaged Luggage": "product_quality",
    "Lost Luggage": "delivery_problems",
    "Flight Booking Problems": "too_hard_to_use",
}
NO_TOPICS = {"topics.enabled": False}

pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 20)
pd.set_option("display.max_colwidth", 60)


def fmt_ci(v: float, lo: float, hi: float, digits: int = 1) -> str:
    return f"{v:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def show_drivers(res: cxnlp.Results, k: int = 8, digits: int = 1) -> None:
    d = res.drivers
    s = res.metrics["drivers"]
    print(f"outcome {s['outcome']}: overall {s['overall']:.{digits + 1}f} over {s['n']} responses;"
          f" R² of theme indicators {s['r2']:.3f}; {s['bootstrap']} bootstrap resamples; "
          f"{int(d['significant'].sum())} of {int(d['q_value'].notna().sum())} rows significant")
    print("impact = overall score − score of the responses not mentioning the theme")
    any_ = d[d["sentiment"] == "any"].copy()
    any_ = any_.reindex(any_["impact"].abs().sort_values(ascending=False).index).head(k)
    for r in any_.itertuples():
        flag = "*" if r.significant else " "
        small = " (small)" if r.small else ""
        print(f"  {flag} {r.theme:<20} n={r.n:<5} score {r.score:+8.{digits + 1}f} "
              f"vs {r.score_without:+8.{digits + 1}f}  impact "
              f"{fmt_ci(r.impact, r.impact_low, r.impact_high, digits + 1)}  "
              f"q {r.q_value:.3g}  rel.weight {r.relative_weight_pct:5.1f}% of R²{small}")
    neg = d[d["sentiment"] == "negative"].head(3)
    print("  most damaging theme x negative sentiment: " + ", ".join(
        f"{r.theme} {r.impact:+.{digits + 1}f}" for r in neg.itertuples()))


def show_touchpoints(res: cxnlp.Results) -> None:
    t = res.touchpoints.copy()
    cols = ["source", "touchpoint", "responses", "share", "negative", "positive",
            "sentiment_score", "score", "score_low", "score_high", "small"]
    print(t[cols].round(3).to_string(index=False))


def show_churn(res: cxnlp.Results) -> None:
    m = res.metrics["churn"]
    print(f"at risk: {m['at_risk']} responses, {m['with_reason']} with a reason")
    c = res.churn[["rank", "reason", "count", "share", "low", "high", "example"]].copy()
    c["example"] = c["example"].fillna("").str.slice(0, 55)
    print(c.round(3).to_string(index=False))


def show_trends(res: cxnlp.Results) -> None:
    s = res.metrics["trends"]
    print(f"period {s['period']} ({s['n_periods']} periods, {s['first']} .. {s['last']}); "
          f"dates: {s['dates']}")
    t = res.trends
    score = t[t["kind"].isin(["score", "volume"])].pivot_table(
        index="period", columns="kind", values="value", aggfunc="first")
    print(score.round(1).T.to_string())
    em = t[t["emerging"]]
    print(f"emerging (BH q <= fdr) over all periods: {len(em)}; latest period: "
          f"{[e['key'] for e in s['emerging']] or 'none'}; new: "
          f"{[e['key'] for e in s['new']] or 'none'}")
    for r in em.itertuples():
        print(f"  {r.period} {r.key:<18} {r.value:.3f} vs baseline {r.baseline_value:.3f} "
              f"(n={r.n}, q={r.q_value:.4f})")


def telecom() -> None:
    path = need_data("nps-verbatims-telecom", "nps_verbatims.csv")
    t = time.perf_counter()
    res = cxnlp.analyze(path, codeframe="telecom", **NO_TOPICS)
    took = time.perf_counter() - t
    print(f"\n=== telecom NPS verbatims: {len(res.responses)} rows, analyse {took:.0f} s "
          f"(touchpoint column {res.columns.get('touchpoint')!r}) ===")
    nps = res.metrics["scores"]["NPS_SCORE"]
    print(f"NPS {nps['value']:+.1f} [{nps['low']:+.1f}, {nps['high']:+.1f}] n={nps['n']}, "
          f"invalid {nps['n_invalid']}")
    dis = res.metrics["disagreement"]
    hi, lo = dis["high_score_negative_text"], dis["low_score_positive_text"]
    print(f"disagreement: {dis['n']} of {dis['base']} that could disagree ({dis['share']:.1%}); "
          f"promoters with negative text {hi['n']}/{hi['base']}, detractors with positive "
          f"text {lo['n']}/{lo['base']}")
    print("\n-- top drivers (* = significant: BH q <= drivers.fdr over all driver rows)")
    show_drivers(res)
    print("\n-- touchpoints (themes: mention-level; column: SURVEY_SUB_TYPE normalised)")
    show_touchpoints(res)
    print("\n-- churn reasons of detractors (NPS 0-6)")
    show_churn(res)
    print("\n-- trends")
    show_trends(res)
    ex = res.responses[res.responses["disagreement"].notna()].head(3)
    print("\n-- score-text disagreement examples")
    for r in ex.itertuples():
        print(f"  {r.disagreement}: {str(r.text)[:90]!r}")


def airline_split(split: str) -> pd.DataFrame:
    """The airline tweets of one split (``tweet_id % 5 == 0`` is test), with the date."""
    df = pd.read_csv(need_data("twitter-us-airline-sentiment", "Tweets.csv"),
                     dtype={"tweet_id": "int64"})
    test = df["tweet_id"] % 5 == 0
    df = df[test if split == "test" else ~test]
    return df[["tweet_id", "text", "airline", "tweet_created", "negativereason",
               "airline_sentiment"]].reset_index(drop=True)


def train_airline_churn_head(encoder, folder: Path, tr: pd.DataFrame) -> tuple[Path, int]:
    """Train a churn head on the mappable negative tweets of ``tr`` (in ``folder``)."""
    from cxnlp.clean import normalize
    from cxnlp.training.themes import train_churn

    tr = tr[(tr["airline_sentiment"] == "negative") & tr["negativereason"].isin(REASON_MAP)]
    labels = folder / "airline_churn_train.csv"
    pd.DataFrame({"text": tr["text"].map(normalize),
                  "churn_reason": tr["negativereason"].map(REASON_MAP)}).to_csv(labels,
                                                                               index=False)
    head = folder / "churn-airline"
    train_churn(labels, head, encoder=encoder, cv=0)
    return head, len(tr)


def analyze_tweets(encoder, df: pd.DataFrame) -> cxnlp.Results:
    return cxnlp.Analyzer(encoder=encoder).analyze(
        df, codeframe="airline", text_column="text", score_columns={},
        segment_columns=["airline"], id_column="tweet_id", date_column="tweet_created",
        **NO_TOPICS)


def churn_scorer(res: cxnlp.Results):
    """The evaluated tweets (negative, mappable, flagged at risk) and a scorer of predictions."""
    from sklearn.metrics import f1_score

    r = res.responses
    gold = r["negativereason"].map(REASON_MAP)
    ev = r[gold.notna() & (r["airline_sentiment"] == "negative") & r["churn_reason"].notna()]
    g = gold[ev.index]
    classes = sorted(g.unique())

    def score(pred: pd.Series) -> tuple[float, float]:
        f1 = f1_score(g, pred.fillna("none"), labels=classes, average="macro", zero_division=0)
        return float((pred == g).mean()), float(f1)

    return ev, g, classes, score


def churn_predictions(res: cxnlp.Results, classifier, theme_weight: float, ev) -> pd.Series:
    r = res.responses
    cf = cxnlp.Codeframe.load("airline")
    theme_reason = {th.id: th.churn_reason for th in cf.themes if th.churn_reason}
    out = assign_churn_reasons(r, res.mentions, r["at_risk"], theme_reason,
                               list(churn_reasons_of(cf)), sentences=res.sentences,
                               classifier=classifier, theme_weight=theme_weight,
                               min_confidence=cxnlp.load_config().link.min_reason_confidence)
    return out.loc[ev.index, "churn_reason"]


def blend_study() -> None:
    """``link.theme_weight`` for a trained churn head, looked at on the train split only.

    The head is trained on a seeded random 75 % of the train tweets and scored on the other
    25 % (tweet ids are Twitter snowflakes: their low bits are not random, so no modulo rule),
    for each blend weight.
    """
    import numpy as np

    from cxnlp.encode import Encoder

    encoder = Encoder()
    tr = airline_split("train")
    dev = np.random.default_rng(0).random(len(tr)) < 0.25
    res = analyze_tweets(encoder, tr[dev].reset_index(drop=True))
    ev, _, _, score = churn_scorer(res)
    with tempfile.TemporaryDirectory() as tmp:
        head, n = train_airline_churn_head(encoder, Path(tmp), tr[~dev])
        trained = ChurnReasonClassifier.load(head, encoder)
    print(f"\n=== link.theme_weight with a trained churn head: trained on {n} train-split "
          f"tweets, scored on {len(ev)} others of the train split ===")
    for w in (0.0, 0.25, 0.5, 0.75, 1.0):
        acc, f1 = score(churn_predictions(res, trained, w, ev))
        print(f"  theme_weight {w:<4}  accuracy {acc:.3f}  macro-F1 {f1:.3f}")


def airline(rows: int, seed: int) -> None:
    from sklearn.metrics import f1_score

    from cxnlp.encode import Encoder

    df = airline_split("test")
    if rows and rows < len(df):
        df = df.sample(rows, random_state=seed).sort_index()
    encoder = Encoder()
    t = time.perf_counter()
    res = analyze_tweets(encoder, df)
    took = time.perf_counter() - t
    print(f"\n=== airline tweets, test split: {len(res.responses)} rows, "
          f"analyse {took:.0f} s ===")
    print("\n-- top drivers of text sentiment (no score column)")
    show_drivers(res, digits=2)
    print("\n-- touchpoints")
    show_touchpoints(res)
    print("\n-- churn reasons (at risk = negative text, since there is no score or churn column)")
    show_churn(res)
    print("\n-- trends")
    show_trends(res)

    r = res.responses
    ev, g, classes, scores = churn_scorer(res)
    majority = g.value_counts(normalize=True)
    mappable = int((r["negativereason"].map(REASON_MAP).notna()
                    & (r["airline_sentiment"] == "negative")).sum())
    print(f"\n-- churn-reason accuracy / macro-F1 on {len(ev)} negative test tweets with a "
          f"mappable reason (flagged at risk by the pipeline; {mappable} such tweets)")

    def score(pred: pd.Series) -> str:
        return "accuracy {:.3f}  macro-F1 {:.3f}".format(*scores(pred))

    print(f"  {'majority class (' + majority.index[0] + ')':<46} accuracy "
          f"{majority.iloc[0]:.3f}  macro-F1 "
          f"{f1_score(g, [majority.index[0]] * len(g), labels=classes, average='macro'):.3f}")
    zero = ChurnReasonClassifier(churn_reasons_of(cxnlp.Codeframe.load("airline")), encoder)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        head, n_train = train_airline_churn_head(encoder, Path(tmp), airline_split("train"))
        trained = ChurnReasonClassifier.load(head, encoder)
        print(f"  (trained head: {n_train} train-split tweets, {time.perf_counter() - t:.0f} s, "
              "temporary folder, not shipped)")
    variants = (("theme map only", 1.0, None),
                ("direct zero-shot only", 0.0, zero),
                ("theme map + zero-shot (default, w=0.5)", 0.5, zero),
                ("direct trained only", 0.0, trained),
                ("theme map + trained (w=0.5)", 0.5, trained),
                ("theme map + trained (default, w=0.25)", theme_weight_for(trained), trained))
    preds = {}
    for name, w, c in variants:
        preds[name] = churn_predictions(res, c, w, ev)
        print(f"  {name:<46} {score(preds[name])}")
    same = (preds["theme map + zero-shot (default, w=0.5)"] == ev["churn_reason"]).mean()
    print(f"  (the default row reproduces the pipeline's own churn_reason on {same:.1%} of them)")
    print("\n  confusion, theme map + trained, default (rows: gold reason via REASON_MAP, columns: "
          "predicted)")
    print(pd.crosstab(ev["negativereason"],
                      preds["theme map + trained (default, w=0.25)"]).to_string())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--airline-rows", type=int, default=0,
                    help="test-split tweets sampled (0 = all 2,901)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--blend-study", action="store_true",
                    help="only: link.theme_weight for a trained churn head, on the train split")
    args = ap.parse_args()
    print(machine())
    if args.blend_study:
        blend_study()
        return
    telecom()
    airline(args.airline_rows, args.seed)


if __name__ == "__main__":
    main()
