"""Statistical validity of cxnlp's intervals and flags: seeded Monte-Carlo, old rule vs new.

Every figure comes from a simulation where the truth is known, with the shipped functions
on one side and the rule they replaced, written out inline here, on the other:

1. NPS interval coverage at 95 %: :func:`cxnlp.metrics.nps` (adjusted Wald of Rocks 2016,
   widened to contain the raw NPS) against the old plain Wald interval
   ``NPS ± z·100·sqrt((p + d − (p − d)²)/n)`` clipped to [−100, 100], for true NPS from
   −60 to 94 and n = 5-100 answers: coverage and median width.
2. Mean interval coverage on bounded scales: :func:`cxnlp.metrics.mean_interval` with
   ``bounds`` (a pseudo-answer at each end of the scale) against the plain t interval clipped
   to the scale (the old ``_mean_estimate``), on skewed CES 1-7 and 1-5 rating distributions.
3. Key-driver false flags when no theme is related to the score:
   :func:`cxnlp.drivers.driver_table` on simulated surveys (random NPS answers, 40 themes
   mentioned independently of the score at 0.5-20 %, random aspect sentiment). Old rule: the
   bootstrap interval excludes 0; new rule: ``significant`` (Benjamini-Hochberg ``q ≤ fdr``
   and the interval excludes 0). With the 40 ``any`` rows alone and with the by-sentiment
   rows (up to 160).
4. Spurious emerging and new themes when nothing changes: :func:`cxnlp.drivers.trend_table`
   on dated responses with constant theme rates (12 months, 12 weeks). Old "new" rule:
   absent from the baseline and ``count ≥ min_new`` (``baseline_count == 0 & baseline_n > 0
   & count >= 3``), no test; new rule: emerging (the FDR-controlled test) as well.
5. Optional, when ``$CXNLP_DATA`` holds them: sections 1-2 again with real answer
   distributions as the population (telecom NPS verbatims, Amazon Alexa and clothing review
   ratings), resampled with replacement. Only the score columns are read (no models).

Usage::

    .venv/bin/python benchmarks/stat_checks.py [--reps 2000] [--runs 100] [--bootstrap 400]
                                               [--seed 0] [--no-real]

Tables are Markdown, to paste into the README. A coverage from ``reps`` replicates has a
Monte-Carlo standard error of about sqrt(0.95 · 0.05 / reps) (0.005 at 2,000).
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from collections.abc import Callable, Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd
from _common import DATA, machine

import cxnlp
from cxnlp.drivers import driver_table, trend_table
from cxnlp.metrics import mean_interval, nps

CONFIDENCE = 0.95
Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
NS = (5, 10, 30, 100)

#: (promoter, passive, detractor) probabilities: true NPS 94, 80, 50, 0, 0 (no passives), -60.
NPS_CASES = ((0.95, 0.04, 0.01), (0.85, 0.10, 0.05), (0.60, 0.30, 0.10), (0.35, 0.30, 0.35),
             (0.50, 0.00, 0.50), (0.10, 0.20, 0.70))
#: name, scale, probabilities of the points 1..scale.
MEAN_CASES = (
    ("CES 1-7: 97 % 7s, 3 % 2s", 7, (0, 0.03, 0, 0, 0, 0, 0.97)),
    ("CES 1-7: top-heavy", 7, (0.02, 0.03, 0.04, 0.06, 0.10, 0.25, 0.50)),
    ("rating 1-5: 80 % 5 stars, tail", 5, (0.04, 0.02, 0.04, 0.10, 0.80)),
    ("rating 1-5: J-shaped", 5, (0.15, 0.07, 0.08, 0.15, 0.55)),
    ("rating 1-5: symmetric", 5, (0.10, 0.20, 0.40, 0.20, 0.10)),
)
#: A realistic spread of 0-10 answers (30 % detractors, 27 % passives, 43 % promoters).
NPS_ANSWERS = (0.06, 0.02, 0.03, 0.03, 0.03, 0.06, 0.07, 0.12, 0.15, 0.16, 0.27)
SENTIMENTS = ("negative", "neutral", "positive")


# --------------------------------------------------------------------------- output


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; numbers right-aligned."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    num = [all(_numeric(r[i]) for r in cells) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.rjust(w) if a else v.ljust(w)
                                 for v, w, a in zip(values, widths, num, strict=True)) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if a else ("-" * (w + 2))
                          for w, a in zip(widths, num, strict=True)) + "|"
    return "\n".join([line(headers), rule, *(line(r) for r in cells)])


def _numeric(s: str) -> bool:
    try:
        float(s.rstrip("%"))
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- 1. NPS


def old_nps_interval(P: np.ndarray, D: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The previous ``nps()`` interval: plain Wald on the raw shares, clipped to ±100."""
    p, d = P / n, D / n
    value = 100 * (p - d)
    half = 100 * Z * np.sqrt(np.clip(p + d - (p - d) ** 2, 0, None) / n)
    return np.clip(value - half, -100, 100), np.clip(value + half, -100, 100)


def new_nps_interval(counts: np.ndarray, cache: dict) -> tuple[np.ndarray, np.ndarray]:
    """``cxnlp.metrics.nps`` bounds for each row of (promoters, passives, detractors) counts,
    called once per distinct row (the interval depends on the counts only)."""
    uniq, inv = np.unique(counts, axis=0, return_inverse=True)
    lo, hi = np.empty(len(uniq)), np.empty(len(uniq))
    for i, (P, A, D) in enumerate(uniq.tolist()):
        if (P, A, D) not in cache:
            est = nps([10] * P + [8] * A + [0] * D, CONFIDENCE)
            cache[(P, A, D)] = (est.low, est.high)
        lo[i], hi[i] = cache[(P, A, D)]
    inv = inv.ravel()
    return lo[inv], hi[inv]


def nps_coverage(rng: np.random.Generator, probs: Sequence[float], n: int, reps: int,
                 cache: dict) -> dict[str, float]:
    counts = rng.multinomial(n, probs, size=reps)
    truth = 100 * (probs[0] - probs[2])
    olo, ohi = old_nps_interval(counts[:, 0], counts[:, 2], n)
    nlo, nhi = new_nps_interval(counts, cache)
    eps = 1e-9
    return {
        "old": float(((olo <= truth + eps) & (truth - eps <= ohi)).mean()),
        "new": float(((nlo <= truth + eps) & (truth - eps <= nhi)).mean()),
        "w_old": float(np.median(ohi - olo)), "w_new": float(np.median(nhi - nlo)),
        "zero_old": float((ohi - olo == 0).mean()),
    }


def section_nps(rng: np.random.Generator, reps: int,
                cases: Sequence[tuple[str, Sequence[float]]] | None = None) -> list[dict]:
    cache: dict = {}
    cases = cases or [(f"{100 * (p[0] - p[2]):+.0f} ({p[0]:.2f}/{p[1]:.2f}/{p[2]:.2f})", p)
                      for p in NPS_CASES]
    rows, out = [], []
    for name, probs in cases:
        for n in NS:
            c = nps_coverage(rng, probs, n, reps, cache)
            out.append({"case": name, "n": n, **c})
            rows.append([name, n, f"{c['old']:.3f}", f"{c['new']:.3f}", f"{c['w_old']:.1f}",
                         f"{c['w_new']:.1f}", f"{c['zero_old']:.3f}"])
    print(md_table(["true NPS (P/Pa/D)", "n", "coverage old", "coverage new",
                    "median width old", "median width new", "old zero-width share"], rows))
    return out


# --------------------------------------------------------------------------- 2. means


def mean_coverage(rng: np.random.Generator, scale: int, probs: Sequence[float], n: int,
                  reps: int) -> dict[str, float]:
    points = np.arange(1, scale + 1, dtype=float)
    probs = np.asarray(probs, float) / np.sum(probs)
    truth = float(points @ probs)
    counts = rng.multinomial(n, probs, size=reps)
    uniq, inv = np.unique(counts, axis=0, return_inverse=True)
    bounds = (1.0, float(scale))
    old = np.empty((len(uniq), 2))
    new = np.empty((len(uniq), 2))
    for i, c in enumerate(uniq):
        x = np.repeat(points, c)
        _, lo, hi = mean_interval(x, CONFIDENCE)  # plain t; the old code clipped it
        old[i] = max(lo, bounds[0]), min(hi, bounds[1])
        new[i] = mean_interval(x, CONFIDENCE, bounds=bounds)[1:]
    inv = inv.ravel()
    old, new = old[inv], new[inv]
    eps = 1e-9

    def cover(b: np.ndarray) -> float:
        return float(((b[:, 0] <= truth + eps) & (truth - eps <= b[:, 1])).mean())

    return {"truth": truth, "old": cover(old), "new": cover(new),
            "w_old": float(np.median(old[:, 1] - old[:, 0])),
            "w_new": float(np.median(new[:, 1] - new[:, 0])),
            "zero_old": float((old[:, 1] - old[:, 0] == 0).mean())}


def section_means(rng: np.random.Generator, reps: int,
                  cases: Sequence[tuple[str, int, Sequence[float]]] = MEAN_CASES) -> list[dict]:
    rows, out = [], []
    for name, scale, probs in cases:
        for n in NS:
            c = mean_coverage(rng, scale, probs, n, reps)
            out.append({"case": name, "n": n, **c})
            rows.append([name, f"{c['truth']:.3f}", n, f"{c['old']:.3f}", f"{c['new']:.3f}",
                         f"{c['w_old']:.2f}", f"{c['w_new']:.2f}", f"{c['zero_old']:.3f}"])
    print(md_table(["distribution", "true mean", "n", "coverage old (t)",
                    "coverage new (bounds)", "median width old", "median width new",
                    "old zero-width share"], rows))
    return out


# --------------------------------------------------------------------------- 3. drivers


def unrelated_survey(rng: np.random.Generator, n: int, k: int,
                     rates: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` NPS responses and ``k`` themes mentioned independently of the score."""
    responses = pd.DataFrame({
        "row_id": np.arange(n), "status": "ok",
        "sentiment_score": rng.uniform(-1, 1, n).round(3),
        "nps": rng.choice(11, n, p=NPS_ANSWERS)})
    rows, themes = np.nonzero(rng.random((n, k)) < rates)
    mentions = pd.DataFrame({"row_id": rows, "theme": [f"t{j:02d}" for j in themes],
                             "sentiment": rng.choice(SENTIMENTS, len(rows), p=(0.4, 0.2, 0.4)),
                             "confidence": 0.9})
    return responses, mentions


def section_drivers(rng: np.random.Generator, runs: int, bootstrap: int, n: int = 2000,
                    k: int = 40, fdr: float = 0.05) -> dict[str, dict[str, float]]:
    rates = np.geomspace(0.005, 0.20, k)
    cols = {"scores": {"nps": "nps"}}
    tally: dict[str, dict[str, list[int]]] = {
        c: {"rows": [], "old": [], "new": []}
        for c in ("40 themes, any rows", "by sentiment: all rows", "by sentiment: any rows")}
    for run in range(runs):
        responses, mentions = unrelated_survey(rng, n, k, rates)
        seed = int(rng.integers(2**31))
        kw = {"bootstrap": bootstrap, "seed": seed, "confidence": CONFIDENCE, "fdr": fdr}
        any_only, _ = driver_table(responses, mentions, cols, None, by_sentiment=False, **kw)
        full, _ = driver_table(responses, mentions, cols, None, by_sentiment=True, **kw)
        for name, t in (("40 themes, any rows", any_only), ("by sentiment: all rows", full),
                        ("by sentiment: any rows", full[full["sentiment"] == "any"])):
            old = (t["impact_low"] > 0) | (t["impact_high"] < 0)
            tally[name]["rows"].append(len(t))
            tally[name]["old"].append(int(old.sum()))
            tally[name]["new"].append(int(t["significant"].sum()))
        if run == 0:
            print(f"(first run: {len(full)} rows by sentiment; mentioners per theme "
                  f"{int(any_only['n'].min())}-{int(any_only['n'].max())}; per theme x "
                  f"sentiment {int(full['n'].min())}-{int(full['n'].max())})\n")
    rows, out = [], {}
    for name, t in tally.items():
        r, o, w = (np.asarray(t[c], float) for c in ("rows", "old", "new"))
        out[name] = {"rows": r.mean(), "old": o.mean(), "new": w.mean(),
                     "any_old": (o > 0).mean(), "any_new": (w > 0).mean()}
        rows.append([name, f"{r.mean():.0f}", f"{o.mean():.2f}", f"{w.mean():.3f}",
                     f"{(o / r).mean():.3f}", f"{(o > 0).mean():.2f}", f"{(w > 0).mean():.2f}"])
    print(md_table(["table", "rows tested", "false flags/run old (CI excl. 0)",
                    "false flags/run new (significant)", "old flags per row",
                    "runs with >=1 old", "runs with >=1 new"], rows))
    print("\n('by sentiment: any rows' counts the 40 any rows of the by-sentiment table, whose "
          "BH step runs over all its rows.)")
    return out


# --------------------------------------------------------------------------- 4. trends


def constant_trends(rng: np.random.Generator, periods: int, per_period: int,
                    rates: np.ndarray, period: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Dated responses whose theme rates never change."""
    n = periods * per_period
    which = np.repeat(np.arange(periods), per_period)
    if period == "month":
        dates = [f"2023-{p + 1:02d}-{d:02d}" for p, d in zip(which, rng.integers(1, 29, n),
                                                             strict=True)]
    else:  # weeks starting Monday 2024-01-01
        start = np.datetime64("2024-01-01") + 7 * which + rng.integers(0, 7, n)
        dates = [str(d) for d in start]
    responses = pd.DataFrame({"row_id": np.arange(n), "status": "ok", "date": dates,
                              "nps": rng.choice(11, n, p=NPS_ANSWERS)})
    rows, themes = np.nonzero(rng.random((n, len(rates))) < rates)
    mentions = pd.DataFrame({"row_id": rows, "theme": [f"t{j:02d}" for j in themes],
                             "sentiment": rng.choice(SENTIMENTS, len(rows))})
    return responses, mentions


def section_trends(rng: np.random.Generator, runs: int, k: int = 30, fdr: float = 0.05,
                   min_new: int = 3) -> list[dict]:
    rates = np.geomspace(0.002, 0.10, k)
    configs = (("12 months x 300", 12, 300, "month"), ("12 weeks x 80", 12, 80, "week"))
    rows, out = [], []
    for name, periods, per_period, period in configs:
        counts: dict[str, list[int]] = {c: [] for c in ("emerging", "new", "old_new",
                                                        "last_emerging", "last_new",
                                                        "last_old_new", "tests")}
        for _ in range(runs):
            r, m = constant_trends(rng, periods, per_period, rates, period)
            table, summary = trend_table(r, m, {"date": "date", "scores": {"nps": "nps"}},
                                         period=period, fdr=fdr, min_new=min_new)
            assert summary["n_periods"] == periods, summary
            t = table[table["kind"] == "theme"]
            old_new = ((t["baseline_count"] == 0) & (t["baseline_n"] > 0)
                       & (t["count"] >= min_new))
            last = t["period"] == t["period"].max()
            counts["tests"].append(int(t["p_value"].notna().sum()))
            counts["emerging"].append(int(t["emerging"].sum()))
            counts["new"].append(int(t["new"].sum()))
            counts["old_new"].append(int(old_new.sum()))
            counts["last_emerging"].append(len(summary["emerging"]))
            counts["last_new"].append(len(summary["new"]))
            counts["last_old_new"].append(int((old_new & last).sum()))
        a = {c: np.asarray(v, float) for c, v in counts.items()}
        out.append({"config": name, **{c: v.mean() for c, v in a.items()}})
        rows.append([name, f"{a['tests'].mean():.0f}", f"{a['emerging'].mean():.3f}",
                     f"{(a['emerging'] > 0).mean():.2f}", f"{a['old_new'].mean():.2f}",
                     f"{(a['old_new'] > 0).mean():.2f}", f"{a['new'].mean():.3f}",
                     f"{(a['new'] > 0).mean():.2f}", f"{(a['last_old_new'] > 0).mean():.2f}",
                     f"{(a['last_new'] > 0).mean():.2f}",
                     f"{(a['last_emerging'] > 0).mean():.2f}"])
    print(md_table(["periods x responses", "tests/run", "emerging/run", "runs >=1 emerging",
                    "old new/run", "runs >=1 old new", "new/run", "runs >=1 new",
                    "latest period: runs >=1 old new", "latest: >=1 new",
                    "latest: >=1 emerging"], rows))
    return out


# --------------------------------------------------------------------------- 5. real data


def _shares(values: pd.Series, points: Sequence[int]) -> tuple[list[float], int]:
    """Share of each scale point among the valid answers, and their number."""
    v = pd.to_numeric(values, errors="coerce").dropna()
    v = v[v.isin(points)]
    return v.value_counts(normalize=True).reindex(points, fill_value=0.0).tolist(), len(v)


def section_real(rng: np.random.Generator, reps: int) -> bool:
    found = False
    tel = DATA / "nps-verbatims-telecom" / "nps_verbatims.csv"
    if tel.exists():
        found = True
        p, n = _shares(pd.read_csv(tel)["NPS_SCORE"], list(range(11)))
        probs = (sum(p[9:]), sum(p[7:9]), sum(p[:7]))
        print(f"\ntelecom NPS verbatims: {n} valid answers, NPS {100 * (probs[0] - probs[2]):+.1f}"
              " taken as the truth; samples of n drawn with replacement\n")
        section_nps(rng, reps, [("telecom " + f"{100 * (probs[0] - probs[2]):+.1f}", probs)])
    cases = []
    alexa = DATA / "amazon-alexa-reviews" / "amazon_alexa.tsv"
    if alexa.exists():
        p, n = _shares(pd.read_csv(alexa, sep="\t")["rating"], [1, 2, 3, 4, 5])
        cases.append((f"Alexa ratings (N={n})", 5, p))
    cloth = DATA / "womens-ecommerce-clothing-reviews" / "Womens Clothing E-Commerce Reviews.csv"
    if cloth.exists():
        p, n = _shares(pd.read_csv(cloth, usecols=["Rating"])["Rating"], [1, 2, 3, 4, 5])
        cases.append((f"clothing ratings (N={n})", 5, p))
    if cases:
        found = True
        print("\nreal 1-5 ratings, the full set's mean taken as the truth\n")
        section_means(rng, reps, cases)
    return found


# --------------------------------------------------------------------------- main


def timed(name: str, fn: Callable[[], object], times: dict[str, float]) -> object:
    t = time.perf_counter()
    out = fn()
    times[name] = time.perf_counter() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=2000,
                    help="Monte-Carlo replicates per interval cell (sections 1, 2, 5)")
    ap.add_argument("--runs", type=int, default=100,
                    help="simulated surveys per configuration (sections 3, 4)")
    ap.add_argument("--bootstrap", type=int, default=400,
                    help="bootstrap resamples of driver_table (the shipped default is 1000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-real", action="store_true", help="skip section 5 (real data)")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"cxnlp {cxnlp.__version__}; {machine()}; Python {platform.python_version()} on "
          f"{platform.platform()}")
    print(f"seed {args.seed}; {args.reps} replicates per interval cell (Monte-Carlo SE of a 95 % "
          f"coverage ≈ {math.sqrt(0.95 * 0.05 / args.reps):.3f}); {args.runs} runs per "
          f"driver/trend configuration; driver bootstrap {args.bootstrap}; confidence "
          f"{CONFIDENCE}; fdr 0.05")
    times: dict[str, float] = {}

    print("\n## 1. NPS interval coverage (95 %): old plain Wald vs adjusted Wald (Rocks 2016)\n")
    timed("1. NPS intervals", lambda: section_nps(rng, args.reps), times)
    print("\nold = NPS ± z·100·sqrt((p+d−(p−d)²)/n) clipped to ±100; new = cxnlp.metrics.nps "
          "(adjusted Wald, widened to contain the raw NPS). Coverage counts the truth inside "
          "the closed interval.")

    print("\n## 2. Mean interval coverage (95 %) on bounded scales: plain t vs pseudo-answers\n")
    timed("2. mean intervals", lambda: section_means(rng, args.reps), times)
    print("\nold = mean_interval(x) (plain t) clipped to the scale, as the old _mean_estimate; "
          "new = mean_interval(x, bounds=(1, scale)).")

    print(f"\n## 3. Key-driver false flags, no theme related to the score ({args.runs} runs of "
          f"2,000 NPS responses, 40 themes at 0.5-20 %, bootstrap {args.bootstrap})\n")
    timed("3. drivers", lambda: section_drivers(rng, args.runs, args.bootstrap), times)
    print("\nold = bootstrap interval excludes 0 (impact_low > 0 or impact_high < 0); new = "
          "driver_table's significant (BH q ≤ 0.05 over all rows of the table and the "
          "interval excludes 0). Every flag here is false.")

    print(f"\n## 4. Spurious emerging / new themes, constant theme rates ({args.runs} runs; "
          "30 themes at 0.2-10 %; baseline 3 periods, min_n 30, min_new 3)\n")
    timed("4. trends", lambda: section_trends(rng, args.runs), times)
    print("\nold new = baseline_count == 0 & baseline_n > 0 & count >= 3 (no test); new = "
          "trend_table's new (emerging, i.e. BH q ≤ 0.05 over all theme x period tests, and "
          "absent from the baseline). Every flag here is false.")

    if not args.no_real:
        print(f"\n## 5. Real answer distributions ({DATA})")
        t = time.perf_counter()
        if not section_real(rng, args.reps):
            print("skipped: no data sets found (set CXNLP_DATA)")
        times["5. real data"] = time.perf_counter() - t

    print("\n## timings\n")
    print(md_table(["section", "seconds"], [[k, f"{v:.1f}"] for k, v in times.items()]
                   + [["total", f"{sum(times.values()):.1f}"]]))


if __name__ == "__main__":
    main()
