"""HTML report and plots: sections, self-containment, escaping, edge cases."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from cxnlp.metrics import summarize
from cxnlp.plotting import (
    figure_description,
    plot_scores,
    plot_sentiment,
    plot_sentiment_by,
)
from cxnlp.report import render_html, write_html
from cxnlp.results import Results

XSS = "<script>alert(1)</script>"

SENTIMENTS = ["positive", "negative", "neutral", "positive", None, "mixed",
              "neutral", "negative", "positive", "neutral", "positive", "negative"]  # fmt: skip


def _probs(label: str | None) -> tuple[float, float, float]:
    return {
        "negative": (0.8, 0.15, 0.05),
        "neutral": (0.1, 0.8, 0.1),
        "positive": (0.05, 0.1, 0.85),
        "mixed": (0.45, 0.1, 0.45),
        None: (np.nan, np.nan, np.nan),
    }[label]


def make_results(**overrides) -> Results:
    texts = ["Great service, fast delivery!", "Terrible. Never again.", "It was ok.",
             f"{XSS} love it", "", "Good food but slow staff", "Fine", "Awful support",
             "Amazing", "meh", "Loved the app", "Broken on arrival"]  # fmt: skip
    p = np.array([_probs(s) for s in SENTIMENTS])
    responses = pd.DataFrame(
        {
            "row_id": range(12),
            "status": ["ok"] * 4 + ["empty text"] + ["ok"] * 7,
            "region": [
                "North",
                "South",
                "North",
                "East",
                None,
                "South",
                "North",
                "South",
                "East",
                "North",
                "South",
                XSS,
            ],  # fmt: skip
            "ltr": [10, 2, 7, 9, 8, 6, np.nan, 0, 10, 7, 9, 3.0],
            "text": texts,
            "sentiment": SENTIMENTS,
            "p_negative": p[:, 0],
            "p_neutral": p[:, 1],
            "p_positive": p[:, 2],
        }
    )
    responses["sentiment_score"] = responses["p_positive"] - responses["p_negative"]
    cols = {"text": ["text"], "scores": {"ltr": "nps"}, "date": None,
            "segments": ["region"], "id": None}  # fmt: skip
    manifest = {
        "input_hash": "sha256:deadbeef",
        "models": {"encoder": "all-MiniLM-L6-v2"},
        "config": {"io": {"text_column": "text"}},
        "run_date": "2025-01-31 10:00",
    }
    kwargs = {"responses": responses, "columns": cols, "manifest": manifest}
    kwargs.update(overrides)
    r = Results(**kwargs)
    r.metrics = summarize(r)
    return r


def external_refs(html: str) -> list[str]:
    """src/href attributes of tags that would load something from the network."""
    tags = re.findall(r"<(?:script|link|img|iframe|source|video|audio|embed|object)\b[^>]*>",
                      html, flags=re.IGNORECASE)  # fmt: skip
    refs = [t for t in tags if re.search(r"\b(?:src|href|data)\s*=", t, flags=re.IGNORECASE)]
    refs += re.findall(r"@import|url\(\s*['\"]?https?:", html)
    return refs


@pytest.fixture(scope="module")
def report() -> str:
    return render_html(make_results(), title="Q1 feedback")


def test_external_refs_helper_catches_remote_assets():
    assert external_refs('<script src="https://cdn.plot.ly/plotly.js"></script>')
    assert external_refs('<link rel="stylesheet" href="https://fonts.example/x.css">')
    assert external_refs("<style>@import 'x.css';</style>")
    assert not external_refs("<script>var u = 'https://plot.ly';</script>")


def test_sections_present(report):
    for section in ("headline", "sentiment", "scores", "segments", "verbatims",
                    "data-quality", "manifest"):  # fmt: skip
        assert f'<section id="{section}"' in report
    assert "<title>Q1 feedback</title>" in report
    assert "12 rows" in report and "11 analysed" in report and "2025-01-31 10:00" in report
    assert "Net Promoter Score" in report and "95% CI" in report
    assert "Sentiment by region" in report
    assert "<details>" in report and "sha256:deadbeef" in report
    assert "empty text" in report


def test_self_contained(report):
    assert external_refs(report) == []
    # plotly.js once, then the filters' JSON data island and their script
    assert report.count("<script") - report.count('class="plotly-graph-div"') == 3
    assert report.count('<script type="application/json"') == 1
    assert "cdn.plot.ly" not in report.split("<script>", 1)[0]  # nothing in the head but the js
    assert '<meta name="viewport"' in report
    assert len(report) > 1_000_000  # plotly.js is inlined, not linked


def test_user_text_is_escaped(report):
    assert XSS not in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt; love it" in report


def test_charts_have_text_alternatives(report):
    labels = re.findall(r'role="img" aria-label="([^"]+)"', report)
    assert len(labels) == 3
    assert any("positive 4 (36%)" in lab for lab in labels)
    assert report.count("<figcaption>") == 3


def test_verbatims_most_confident_first(report):
    positive = report.split("<h3>positive", 1)[1].split("</ol>", 1)[0]
    assert positive.count("<li") == 4
    assert "Loved the app" in positive


def test_write_html(tmp_path):
    path = write_html(make_results(), tmp_path / "out" / "report.html")
    assert path.is_file()
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")


def test_report_without_score_columns():
    r = make_results()
    r = make_results(columns={**r.columns, "scores": {}, "segments": []})
    html = render_html(r)
    assert 'id="scores"' not in html and 'id="segments"' not in html
    assert "No score columns" in html
    assert external_refs(html) == []


def test_report_when_every_row_failed():
    r = make_results()
    r.responses["status"] = "empty text"
    for col in ("sentiment", "p_negative", "p_neutral", "p_positive", "sentiment_score"):
        r.responses[col] = np.nan
    r.metrics = {}  # forces a recompute
    html = render_html(r)
    assert "No responses were analysed" in html
    assert "No analysed responses to quote" in html
    assert 'id="data-quality"' in html and "100.0%" in html
    assert html.count('class="plotly-graph-div"') == 1  # only the score chart


def test_report_without_manifest_or_segments():
    r = make_results(manifest={})
    html = render_html(r)
    assert "No manifest was recorded" in html


# --------------------------------------------------------------------------- plots


def test_plots_return_figures_with_descriptions():
    r = make_results()
    for fig in (plot_sentiment(r), plot_scores(r), plot_sentiment_by(r, "region")):
        assert isinstance(fig, go.Figure)
        assert figure_description(fig)
    nps_fig = plot_scores(r, "ltr")
    assert [t.name.split(" ")[0] for t in nps_fig.data] == ["detractors", "passives", "promoters"]
    seg = plot_sentiment_by(r, "region")
    assert all("<script>" not in str(y) for t in seg.data for y in t.y)
    # a dozen responses: every bar is under drivers.min_n (30) and says so beside its n
    assert all(", few responses)" in str(y) for y in seg.data[0].y)
    assert "Few responses: fewer than 30 analysed responses (drivers.min_n)." in (
        figure_description(seg))
    r.manifest = {**(r.manifest or {}), "config": {"drivers": {"min_n": 1}}}
    assert not any("few" in str(y) for y in plot_sentiment_by(r, "region").data[0].y)


def test_plot_errors_are_actionable():
    r = make_results()
    with pytest.raises(ValueError, match="score columns: ltr"):
        plot_scores(r, "nope")
    # no score column is a condition of the data, said in the figure like the other plots
    none = figure_description(plot_scores(make_results(columns={"scores": {}})))
    assert "no score column" in none and "io.score_columns" in none
    with pytest.raises(ValueError, match="not in responses"):
        plot_sentiment_by(r, "nope")


# --------------------------------------------------------------------------- full report

DATES = ["2025-01-05", "2025-01-20", "2025-02-03", "2025-02-10", "2025-02-11", "2025-02-14",
         "2025-03-01", "2025-03-02", "2025-03-09", "2025-03-15", "2025-03-20",
         "2025-03-28"]  # fmt: skip


def make_mentions(r: Results) -> pd.DataFrame:
    """Mentions whose start/end point into responses.text (the XSS row quotes 'love it')."""
    rows = []
    for rid, text, theme, sent in [(0, "Great service, fast delivery!", "delivery", "positive"),
                                   (1, "Terrible. Never again.", "service", "negative"),
                                   (3, f"{XSS} love it", "product", "positive"),
                                   (5, "Good food but slow staff", "service", "negative"),
                                   (7, "Awful support", "service", "negative"),
                                   (11, "Broken on arrival", "delivery", "negative")]:  # fmt: skip
        span = {"delivery": "fast delivery", "service": text.split(".")[0], "product": "love it",
                }.get(theme, text)  # fmt: skip
        if rid == 5:
            span = "slow staff"
        if rid in (7, 11):
            span = text
        start = text.index(span)
        rows.append({"row_id": rid, "theme": theme, "parent": None, "confidence": 0.9 - rid / 100,
                     "sentiment": sent, "sentiment_score": 0.8 if sent == "positive" else -0.7,
                     "start": start, "end": start + len(span), "evidence": span})  # fmt: skip
    return pd.DataFrame(rows)


def make_full() -> Results:
    r = make_results()
    r.responses["date"] = DATES
    r.responses["pii"] = [["email"], [], ["phone", "email"], [], [], [], [], [], [], [], [], []]
    r.responses["notes"] = [""] * 6 + ["invalid nps value '11' in 'ltr'"] + [""] * 5
    r.columns = {**r.columns, "date": "date"}
    r.mentions = make_mentions(r)
    themes = ["delivery", "service", "product"]
    r.drivers = pd.DataFrame({"theme": themes, "n": [2, 3, 1], "impact": [4.0, -12.5, 1.0],
                              "impact_low": [-1.0, -20.0, -3.0], "impact_high": [9.0, -5.0, 5.0],
                              "significant": [False, True, False]})  # fmt: skip
    r.touchpoints = pd.DataFrame(
        {
            "touchpoint": ["purchase", "delivery", "support"],
            "order": [0, 1, 2],
            "n": [4, 2, 3],
            "sentiment_score": [0.4, -0.1, -0.6],
            "ltr": [30.0, 0.0, -50.0],
        }
    )
    r.churn = pd.DataFrame({"churn_reason": ["poor_service", "delivery_problems"], "n": [3, 1],
                            "share": [0.75, 0.25], "share_low": [0.3, 0.05],
                            "share_high": [0.95, 0.7]})  # fmt: skip
    r.trends = pd.DataFrame({"period": ["2025-02", "2025-03", "2025-02", "2025-03"],
                             "theme": ["service", "service", "delivery", "delivery"],
                             "share": [0.2, 0.5, 0.3, 0.1], "n": [1, 3, 1, 1],
                             "emerging": [False, True, False, False]})  # fmt: skip
    r.topics = pd.DataFrame(
        {
            "topic": [-1, 0, 1],
            "label": ["outliers", "parking, car park", "gift cards"],
            "size": [3, 5, 2],
            "matched_theme": [None, None, "product"],
        }
    )
    r.metrics = summarize(r)
    return r


@pytest.fixture(scope="module")
def full() -> Results:
    return make_full()


@pytest.fixture(scope="module")
def full_report(full) -> str:
    return render_html(full, title="Full")


SECTIONS = ("headline", "sentiment", "themes", "drivers", "journey", "churn", "emerging",
            "topics", "disagreements", "theme-verbatims", "verbatims", "data-quality",
            "manifest")  # fmt: skip


def section(html: str, sid: str) -> str:
    return html.split(f'<section id="{sid}"', 1)[1].split("</section>", 1)[0]


def test_every_section_renders_from_a_small_results(full_report):
    for sid in SECTIONS:
        assert f'<section id="{sid}"' in full_report, sid
    assert "Not available" not in full_report
    assert external_refs(full_report) == []
    assert XSS not in full_report


def test_headline_change_vs_previous_period(full_report):
    head = section(full_report, "headline")
    assert "vs 2025-02" in head and "2025-03" in head
    assert 'class="change' in head


def test_drivers_section_uses_impact(full_report):
    sec = section(full_report, "drivers")
    assert "volume × impact" in sec and "-12.50" in sec and "Impact" in sec
    assert "An impact is an association, not what fixing the theme would gain" in sec


def test_significance_is_the_fdr_controlled_one_and_the_caption_says_so():
    r = make_full()
    sec = section(render_html(r), "drivers")
    assert ">Significant</th>" in sec and "Significant: the interval excludes 0" in sec
    r.drivers["p_value"], r.drivers["q_value"] = [0.5, 0.001, np.nan], [0.5, 0.003, np.nan]
    sec = section(render_html(r), "drivers")
    assert ("Significant: q ≤ 0.05 after Benjamini-Hochberg over all 2 driver rows tested "
            "(themes × sentiments, drivers.csv), and the interval excludes 0") in sec
    table = sec.split("<table", 1)[1]
    assert table.count(">yes<") == 1 and table.count(">no<") == 2


def test_sentiment_shares_say_they_are_the_models_labels(full_report):
    assert "cover sampling only, not the model's own mistakes" in section(
        full_report, "sentiment"
    )
    assert 'href="#sentiment-model"' in section(full_report, "headline")


def test_journey_in_order_with_scores(full_report):
    sec = section(full_report, "journey")
    assert sec.index("purchase") < sec.index("support")
    assert "Derived from the codeframe" not in sec


def test_churn_emerging_topics_sections(full_report):
    assert "poor service" in section(full_report, "churn")
    em = section(full_report, "emerging")
    assert "Theme trends" in em and "emerging" in em.lower()
    topics = section(full_report, "topics")
    assert "parking, car park" in topics and "not in codeframe" in topics
    assert "outliers" not in topics.split("<table", 1)[0]  # outlier topic left out of the chart


def test_evidence_span_highlighted_and_escaped(full_report):
    sec = section(full_report, "theme-verbatims")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>love it</mark>" in sec
    assert "Good food but <mark>slow staff</mark>" in sec
    assert "<script" not in sec


def test_disagreements_rule(full_report):
    sec = section(full_report, "disagreements")
    # row 3: NPS 9 with a positive text is fine; row 11: NPS 3, negative: fine -> none flagged
    assert "No score–text disagreements" in sec or "<table" in sec


def test_data_quality_pii_invalid_scores(full_report):
    sec = section(full_report, "data-quality")
    assert 'id="pii"' in sec and '>email</td><td class="num">2<' in sec
    assert 'id="invalid-scores"' in sec and "&#39;11&#39;" in sec
    assert "Languages: not detected" in sec


def test_filters_segment_and_period(full_report):
    assert 'id="filter-segment"' in full_report and 'id="filter-period"' in full_report
    assert '<option value="2025-03">2025-03</option>' in full_report
    assert 'data-segment="South"' in full_report
    data = full_report.split('id="cx-filter-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data  # JSON island cannot close its script tag


def test_missing_tables_say_why():
    r = make_results()
    r.mentions = make_mentions(r)
    html = render_html(r)
    for sid in ("churn", "topics", "emerging"):
        assert "Not available" in section(html, sid), sid
    assert "mean aspect sentiment" in section(html, "drivers")
    assert "Not available" in section(html, "journey")  # no codeframe, no touchpoints
    assert "no date column" in section(html, "headline")


def test_report_without_themes():
    html = render_html(make_results())
    assert "no theme mentions" in section(html, "themes")
    assert 'id="cx-fig-drivers"' not in html


def test_new_plots_return_figures_with_descriptions(full):
    from cxnlp.plotting import (
        plot_churn,
        plot_drivers,
        plot_journey,
        plot_theme_trends,
        plot_themes,
        plot_topics,
    )

    bare = make_results()
    for fn in (plot_drivers, plot_journey, plot_theme_trends, plot_sentiment, plot_topics,
               plot_themes, plot_churn):  # fmt: skip
        fig = fn(full)
        assert isinstance(fig, go.Figure) and figure_description(fig), fn.__name__
        empty = fn(bare)  # robust to missing tables
        assert isinstance(empty, go.Figure) and figure_description(empty), fn.__name__
    assert "impact" in figure_description(plot_drivers(full))
    assert "Not available" in figure_description(plot_topics(bare))
    trends = plot_theme_trends(full)
    assert {t.name for t in trends.data} == {"service", "delivery"}
    # dates over two periods but no theme mentions: the figure gives that reason
    themeless = make_full()
    themeless.mentions, themeless.trends = themeless.mentions.iloc[:0], None
    assert "no theme mentions" in figure_description(plot_theme_trends(themeless))


# --------------------------------------------------------------------------- xlsx


def test_excel_report_opens_with_openpyxl(tmp_path, full):
    import openpyxl

    from cxnlp import views

    full.responses.loc[3, "text"] = '=HYPERLINK("http://x","y") love it'
    full.mentions.loc[full.mentions["row_id"] == 3, ["start", "end"]] = [
        len(full.responses.loc[3, "text"]) - 7,
        len(full.responses.loc[3, "text"]),
    ]
    path = full.to_excel(tmp_path / "report.xlsx")
    wb = openpyxl.load_workbook(path)
    assert {"summary", "themes", "drivers", "touchpoints", "churn", "verbatims",
            "trends", "topics"} <= set(wb.sheetnames)  # fmt: skip
    summary = {row[0].value: row[1].value for row in wb["summary"].iter_rows(min_row=3)
               if row[0].value}  # fmt: skip
    assert summary["Rows read"] == 12
    assert summary["Input SHA-256"] == "sha256:deadbeef"
    # the workbook gives the significance rule as the HTML caption does
    assert summary["Significant (drivers)"] == views.significance_rule(full)
    assert summary["Significant (drivers)"].startswith("Significant: the interval excludes 0")
    themes = wb["themes"]
    assert [c.value for c in themes[1]][:3] == ["theme", "label", "parent"]
    assert themes["E2"].number_format == "0.0%"
    charted = {"summary", "themes", "drivers", "touchpoints", "churn", "topics"}
    assert {ws.title for ws in wb if ws._charts} == charted  # native charts, read back
    with zipfile.ZipFile(path) as z:
        xml = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(xml) == len(charted)
    assert sum("<c:scatterChart>" in x for x in xml) == 1  # the driver matrix
    drivers = wb["drivers"]
    assert drivers.freeze_panes == "A2" and drivers.auto_filter.ref
    assert [c.value for c in drivers["A"][1:4]] == ["delivery", "service", "product"]
    impact = [c.value for c in drivers[1]].index("impact")
    scales = {str(r.sqref): r.rules[0].colorScale for r in drivers.conditional_formatting}
    col = openpyxl.utils.get_column_letter(impact + 1)
    assert scales[f"{col}2:{col}4"].cfvo[1].val == 0  # red below zero, green above
    assert wb["touchpoints"].conditional_formatting  # mean sentiment coloured the same way
    assert wb["summary"]["B3"].value == 12 and wb["summary"]["B3"].number_format == "#,##0"
    assert wb["touchpoints"]["A2"].value == "purchase"  # journey order
    verb = [c.value for c in wb["verbatims"][1]]
    assert verb[:2] == ["theme", "row_id"] and "evidence" in verb
    texts = [c.value for row in wb["verbatims"].iter_rows() for c in row]
    inj = [t for t in texts if isinstance(t, str) and "HYPERLINK" in t]
    assert inj and all(t.startswith("'=") for t in inj)
    assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)


def test_excel_skips_absent_tables(tmp_path):
    import openpyxl

    path = make_results().to_excel(tmp_path / "r.xlsx")
    names = openpyxl.load_workbook(path).sheetnames
    assert names[0] == "summary"
    assert not {"drivers", "churn", "topics", "themes"} & set(names)


def test_save_writes_report_xlsx(tmp_path, full):
    written = full.save(tmp_path / "out")
    assert written["report.xlsx"].is_file() and written["report.html"].is_file()


def test_renders_the_linking_and_drivers_schemas(tmp_path):
    """Tables shaped as cxnlp.link / cxnlp.drivers / cxnlp.topics document them."""
    r = make_full()
    r.drivers = pd.DataFrame({
        "theme": ["service", "service", "delivery"], "label": ["Service"] * 2 + ["Delivery"],
        "sentiment": ["any", "negative", "any"], "n": [3, 3, 2], "impact": [-20.0, -25.0, 5.0],
        "impact_low": [-30.0, -40.0, -2.0], "impact_high": [-8.0, -10.0, 12.0],
        "significant": [True, True, False], "outcome": ["nps"] * 3,
    })  # fmt: skip
    r.trends = pd.DataFrame({
        "period": ["2025-02", "2025-03", "2025-02", "2025-03", "2025-03"],
        "kind": ["theme", "theme", "theme", "theme", "volume"],
        "key": ["service", "service", "delivery", "delivery", "responses"],
        "n": [4, 6, 4, 6, 6], "count": [1, 4, 2, 1, 6], "value": [0.25, 0.67, 0.5, 0.17, 6],
        "p_value": [None, 0.01, None, 0.9, None], "q_value": [None, 0.02, None, 0.9, None],
        "emerging": [False, True, False, False, False], "new": [False] * 5,
    })  # fmt: skip
    r.churn = pd.DataFrame({"rank": [1, 2], "reason": ["poor_service", "price_value"],
                            "label": ["Poor service", "Price / value"], "count": [3, 0],
                            "n": [3, 3], "share": [1.0, 0.0], "low": [0.44, 0.0],
                            "high": [1.0, 0.56], "example": ["Awful support", None],
                            "small": [True, True]})  # fmt: skip
    r.touchpoints = pd.DataFrame({
        "source": ["themes", "themes", "column"], "touchpoint": ["delivery", "support", "order"],
        "order": [1, 2, 0], "responses": [2, 3, 12], "sentiment_score": [0.1, -0.6, 0.0],
        "score_metric": ["nps"] * 3, "score": [0.0, -33.0, 10.0],
    })  # fmt: skip
    html = render_html(r)
    assert "Not available" not in html
    service = section(html, "drivers").split("<td>service", 1)[1].split("</tr>", 1)[0]
    # the theme-level impact, then the impact of its negative mentions in their own column
    assert service.index("-20.00") < service.index("-25.00")
    assert "Impact of negative mentions" in section(html, "drivers")
    assert "Poor service" in section(html, "churn")
    em = section(html, "emerging")
    assert "Theme trends" in em and "0.02" in em
    journey = section(html, "journey")
    table = journey.split("<table", 1)[1]
    assert "order" in table and "support" not in table  # the export column wins
    assert "The touchpoints the themes link to (delivery, support) are in touchpoints.csv" in (
        journey
    )  # and the stages left out are named
    # the journey counts responses under that name, beside the sentence-level mentions, as
    # touchpoints.csv does (the Excel sheet once called responses "mentions")
    r.touchpoints["mentions"] = [5, 7, 30]
    from cxnlp import views

    assert views.journey(r)[["responses", "mentions"]].values.tolist() == [[12, 30]]
    import openpyxl

    sheet = openpyxl.load_workbook(r.to_excel(tmp_path / "tp.xlsx"))["touchpoints"]
    tp = [[c.value for c in row] for row in sheet.iter_rows()]
    assert {"responses", "mentions"} <= set(tp[0]) and tp[1][tp[0].index("responses")] == 12
    from cxnlp.plotting import plot_churn, plot_theme_trends

    assert "Poor service 100%" in figure_description(plot_churn(r))
    assert {t.name for t in plot_theme_trends(r).data} == {"service", "delivery"}
    drivers = openpyxl.load_workbook(r.to_excel(tmp_path / "r.xlsx"))["drivers"]
    sentiment = [c.value for c in drivers["C"][1:]]  # overall rows first: the matrix plots them
    assert [c.value for c in drivers[1]][2] == "sentiment"
    assert sentiment == ["any", "any", "negative"]


def test_notebooks_are_generated_and_output_free():
    """The .ipynb files are what notebooks/make_notebooks.py writes: no outputs in git."""
    import importlib.util

    import nbformat

    root = Path(__file__).parents[1] / "notebooks"
    spec = importlib.util.spec_from_file_location("make_notebooks", root / "make_notebooks.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    assert len(make.NOTEBOOKS) == 4
    for name, cells in make.NOTEBOOKS.items():
        nb = nbformat.read(root / f"{name}.ipynb", as_version=4)
        assert nb == make.build(name, cells), "regenerate: python notebooks/make_notebooks.py"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), name


# --------------------------------------------------------------------------- periods: one rule


def dated_results(
    dates, *, period: str = "auto", min_n: int = 30, trends: bool = True, scores=None
) -> Results:
    """Results over ``dates`` with an NPS column; ``trends`` runs the trends stage as
    ``apply_corpus_stages`` does (its table and ``metrics["trends"]``)."""
    from cxnlp.drivers import trend_table

    n = len(dates)
    scores = [(10, 9, 7, 3, 0, 10, 8)[i % 7] for i in range(n)] if scores is None else scores
    responses = pd.DataFrame({"row_id": range(n), "status": "ok", "text": "fine",
                              "nps": scores, "date": list(dates), "sentiment": "neutral",
                              "p_negative": 0.1, "p_neutral": 0.8, "p_positive": 0.1})  # fmt: skip
    cols = {"text": ["text"], "scores": {"nps": "nps"}, "date": "date", "segments": []}
    manifest = {"config": {"drivers": {"period": period, "min_n": min_n}}}
    r = Results(responses=responses, columns=cols, manifest=manifest)
    r.metrics = summarize(r)
    if trends:
        r.trends, r.metrics["trends"] = trend_table(responses, r.mentions, cols, period=period,
                                                    min_n=min_n)  # fmt: skip
    return r


def _days(start: str, days: int, per_day: int = 1) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(start, periods=days)
            for _ in range(per_day)]  # fmt: skip


def _filter_unit(html: str) -> str:
    return re.search(r'<label for="filter-period">(.*?)</label>', html).group(1)


def _period_options(html: str) -> list[str]:
    select = html.split('id="filter-period"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([^"]+)">', select)


def test_28_day_span_gives_daily_periods_in_trends_and_report():
    r = dated_results(_days("2025-03-01", 29, per_day=2))  # 28 days between first and last
    trend_periods = sorted(r.trends["period"].unique())
    assert r.metrics["trends"]["period"] == "day" and len(trend_periods) == 29
    html = render_html(r)
    assert _filter_unit(html) == "Day"
    assert _period_options(html) == trend_periods
    assert "vs 2025-03-28 (" in section(html, "headline")
    assert "2025-03-29: " in section(html, "headline")


def test_report_periods_follow_the_documented_rule_without_a_trends_stage():
    """A Results built by hand (no trends table or metrics) still gets the trends' periods:
    day up to 31 days, week up to 26 weeks, month up to 3 years, else quarter."""
    from cxnlp import views

    for days, unit in ((29, "day"), (120, "week"), (900, "month"), (1200, "quarter")):
        r = dated_results(_days("2020-01-01", days), trends=False)
        assert views.periods(r).attrs["freq"] == unit, days
        assert _filter_unit(render_html(r)) == unit.capitalize()


def test_drivers_period_quarter_changes_the_headline_comparison():
    dates = _days("2024-10-01", 182)  # 181 days: weekly when left to the span
    auto = dated_results(dates)
    assert auto.metrics["trends"]["period"] == "week"
    assert "vs 2025-W13 (" in section(render_html(auto), "headline")
    quarter = dated_results(dates, period="quarter")
    assert quarter.metrics["trends"]["period"] == "quarter"
    html = render_html(quarter)
    assert "vs 2024Q4 (" in section(html, "headline") and "2025Q1: " in section(html, "headline")
    assert _filter_unit(html) == "Quarter" and _period_options(html) == ["2024Q4", "2025Q1"]
    # the setting alone (a run without the trends stage's metrics) gives the same periods
    configured = dated_results(dates, period="quarter", trends=False)
    assert section(render_html(configured), "headline") == section(html, "headline")


def test_headline_change_is_the_trends_scores_with_an_interval():
    from cxnlp import views

    r = dated_results(_days("2025-01-01", 90, per_day=3))
    change = views.headline_changes(r)["nps"]
    scores = r.trends[r.trends["kind"] == "score"].set_index("period")
    assert change["period_unit"] == "week"
    cur, prev = scores.loc[change["period"]], scores.loc[change["previous_period"]]
    assert [change[k] for k in ("value", "low", "high", "n")] == pytest.approx(
        [cur["value"], cur["low"], cur["high"], cur["n"]]
    )
    assert [change[k] for k in ("previous", "previous_low", "previous_high", "previous_n")] == (
        pytest.approx([prev["value"], prev["low"], prev["high"], prev["n"]])
    )
    assert change["period"] == scores.index.max()  # the latest two of the trends' periods
    assert change["delta_low"] <= change["delta"] <= change["delta_high"]
    head = section(render_html(r), "headline")
    low, high = change["delta_low"], change["delta_high"]
    # the latest week is partial and has fewer than drivers.min_n scores: no direction
    assert f"(95% CI {low:+.0f} to {high:+.0f}): not assessed (a partial week with few" in head
    assert 'class="change unclear"' in head


def test_a_change_without_an_interval_shows_no_direction():
    from cxnlp import views
    from cxnlp.drivers import assess_change
    from cxnlp.metrics import Estimate

    def verdict(current: Estimate, partial: bool = False) -> str | None:
        c = assess_change(current, Estimate(40, 30, 50, 100, 0), partial=partial, min_n=30)
        return views.change_verdict({**c, "period_unit": "month"})

    no_interval = Estimate(41, float("nan"), float("nan"), 1, 0)
    assert verdict(no_interval) == "no interval (too few responses)"
    assert verdict(Estimate(60, 50, 70, 100, 0)) is None  # a clear rise
    assert verdict(Estimate(45, 35, 55, 100, 0)).startswith("not a clear change")
    small_partial = Estimate(60, 50, 70, 4, 0)
    assert verdict(small_partial, partial=True).startswith("not assessed (a partial month")
    assert verdict(small_partial) is None  # the same in a whole month is read on its interval


def test_small_period_in_the_headline_change_is_flagged():
    # 40 answers in February, 5 in March: March is under drivers.min_n = 30
    dates = ["2025-02-10"] * 40 + ["2025-03-03"] * 5
    r = dated_results(dates, period="month")
    head = section(render_html(r), "headline")
    assert "Few responses (n &lt; 30, drivers.min_n) in 2025-03: read the change" in head
    assert 'class="detail small"' in head
    # a small *previous* period is flagged as well
    r = dated_results(["2025-02-10"] * 5 + ["2025-03-03"] * 40, period="month")
    assert "drivers.min_n) in 2025-02: " in section(render_html(r), "headline")
    # drivers.min_n is the run's setting
    r = dated_results(dates, period="month", min_n=5)
    assert "Few responses" not in section(render_html(r), "headline")


def test_headline_from_disk_matches_the_run(tmp_path):
    from cxnlp import views

    r = dated_results(_days("2025-03-01", 20), period="week")
    r.save(tmp_path, report=False)
    back = Results.load(tmp_path)
    assert views.period_rule(back) == "week"
    assert section(render_html(back), "headline") == section(render_html(r), "headline")


def test_single_period_says_why_there_is_no_change():
    html = render_html(dated_results(["2025-03-03"] * 12))
    assert "the dates cover a single day" in section(html, "headline")
    html = render_html(dated_results(["not a date"] * 12))
    assert "could be read" in section(html, "headline")


def test_segment_filter_lists_the_largest_values_in_natural_order():
    """Hundreds of stores: the filter lists the 60 largest (saying so), numbers sorted as
    numbers (2 before 10)."""
    from cxnlp.report.html import _filter_values

    stores = pd.Series([f"Store {i:03d}" for i in range(300)] + ["Store 299"] * 5)
    values, total = _filter_values(stores)
    assert total == 300 and len(values) == 60 and "Store 299" in values
    assert _filter_values(pd.Series(["10", "2", "1.5", "2", None]))[0] == ["1.5", "2", "10"]
    r = make_results()
    r.responses["region"] = [str(i) for i in range(len(r.responses))]
    html = render_html(r)
    assert "largest of" not in html  # all 12 listed
    r.responses = pd.concat([r.responses] * 6, ignore_index=True)
    r.responses["row_id"] = range(len(r.responses))
    r.responses["region"] = [f"shop {i}" for i in range(len(r.responses))]
    assert "the 60 largest of 72 values" in render_html(r)


# --------------------------------------------------------------------------- reviewer findings


def _emerging_results() -> Results:
    """Trends as cxnlp.drivers writes them: rises flagged in 2025-01 and 2025-03, the latest."""
    r = make_full()
    r.trends = pd.DataFrame({
        "period": ["2025-01", "2025-03", "2025-03", "2025-03"],
        "period_start": pd.to_datetime(["2025-01-01", "2025-03-01", "2025-03-01", "2025-03-01"]),
        "kind": ["theme", "topic", "theme", "volume"],
        "key": ["delivery", "1", "service", "responses"],
        "n": [40, 60, 60, 60], "count": [26.0, 41.0, 5.0, 60.0], "value": [0.65, 0.68, 0.08, 60],
        "baseline_value": [0.1, 0.01, 0.07, np.nan], "p_value": [1e-5, 2e-6, 0.4, np.nan],
        "q_value": [2e-4, 4e-5, 0.6, np.nan], "emerging": [True, True, False, False],
        "new": [False, True, False, False],
    })  # fmt: skip
    r.metrics["trends"] = {"period": "month", "emerging": [{"kind": "topic", "key": "1"}]}
    return r


def test_emerging_table_is_the_latest_periods_with_labels_and_formats():
    from cxnlp import views

    r = _emerging_results()
    em = views.emerging_themes(r)
    assert list(zip(em["kind"], em["key"], strict=True)) == [("topic", "1")]
    assert em.attrs["period"] == "2025-03" and em.attrs["earlier"] == 1
    sec = section(render_html(r), "emerging")
    table = sec.split("<table", 1)[1]
    assert "emerging in 2025-03, the latest month" in sec
    assert ("New: emerging, absent from the baseline and in at least 3 responses; months whose "
            "baseline has fewer") in sec
    old_run = _emerging_results()  # written before those rules: the caption does not claim them
    old_run.metrics = {**old_run.metrics, "schema_version": 1}
    assert "New: emerging" not in section(render_html(old_run), "emerging")
    assert "2025-01" not in table and "Delivery" not in table and "delivery" not in table
    assert "Topic 1: gift cards" in table  # the topic's label, not its id
    assert ">41<" in table and "41.00" not in table  # a count, not a float
    assert "&lt;0.001" in table and ">0.00<" not in table  # p-values readable


def test_emerging_note_when_the_latest_period_has_no_rise():
    """A theme that rose in an earlier month only: metrics.json's trends.emerging is empty,
    and the report says so in one line instead of listing the old rise."""
    from cxnlp import views
    from cxnlp.drivers import trend_table

    months = ["2025-01-15", "2025-02-15", "2025-03-15", "2025-04-15"]
    hits = [2, 40, 10, 10]  # billing mentions of 100 responses a month: a rise in February
    responses = pd.DataFrame({"row_id": range(400), "status": "ok", "text": "x",
                              "date": [d for d in months for _ in range(100)]})  # fmt: skip
    ids = [m * 100 + i for m, k in enumerate(hits) for i in range(k)]
    mentions = pd.DataFrame({"row_id": ids, "theme": "billing"})
    cols = {"text": ["text"], "scores": {}, "date": "date", "segments": []}
    r = Results(responses=responses, mentions=mentions, columns=cols, manifest={})
    r.metrics = summarize(r)
    r.trends, r.metrics["trends"] = trend_table(responses, mentions, cols, period="month")
    assert r.metrics["trends"]["emerging"] == [] and r.trends["emerging"].any()
    assert views.emerging_themes(r).empty
    # without metrics.json's list the table's flag in the latest period gives the same answer
    del r.metrics["trends"]
    assert views.emerging_themes(r).empty
    sec = section(render_html(r), "emerging")
    assert "<table" not in sec
    assert "No theme or topic rose significantly in 2025-04, the latest month." in sec
    assert "1 rise(s) flagged in earlier months" in sec


def test_excel_emerging_sheet_and_trends_labels(tmp_path):
    import openpyxl

    wb = openpyxl.load_workbook(_emerging_results().to_excel(tmp_path / "r.xlsx"))
    em = [[c.value for c in row] for row in wb["emerging"].iter_rows()]
    assert len(em) == 2 and em[1][:4] == ["2025-03", "topic", "1", "Topic 1: gift cards"]
    head = em[0]
    assert wb["emerging"].cell(2, head.index("count") + 1).number_format == "#,##0"
    assert "<0.001" in wb["emerging"].cell(2, head.index("p_value") + 1).number_format
    trends = [c.value for c in wb["trends"][1]]
    assert trends[trends.index("key") + 1] == "label"
    assert wb["trends"].cell(2, trends.index("label") + 1).value == "delivery"
    summary = {row[0].value: row[1].value for row in wb["summary"].iter_rows() if row[0].value}
    assert summary["Emerging in 2025-03 (latest period)"] == "Topic 1: gift cards"


def test_disagreements_wording_is_neutral():
    r = make_full()
    r.responses["disagreement"] = [None] * 8 + ["promoter score (10) with negative text"] + [
        None] * 3  # fmt: skip
    sec = section(render_html(r), "disagreements")
    assert "<table" in sec and "Amazing" in sec
    assert "mislead" not in sec
    assert "Score and text disagree: read these to see which is right" in sec


def test_impact_is_labelled_with_the_outcome_unit(full):
    from cxnlp.plotting import plot_drivers

    assert plot_drivers(full).layout.yaxis.title.text == "Impact on NPS (NPS points)"
    sec = section(render_html(full), "drivers")
    assert "Impact (NPS points)" in sec and "impact on NPS" in sec
    rated = make_full()
    rated.drivers["outcome"] = "rating_mean"
    assert plot_drivers(rated).layout.yaxis.title.text == (
        "Impact on the mean rating (rating points)"
    )
    rated.drivers["outcome"] = "csat_top2"
    assert "(percentage points)" in plot_drivers(rated).layout.yaxis.title.text


def test_journey_caption_signs_nps_but_not_a_mean_rating():
    from cxnlp.plotting import plot_journey

    r = make_full()
    r.touchpoints = pd.DataFrame({"touchpoint": ["purchase", "support"], "order": [0, 1],
                                  "responses": [4, 3], "sentiment_score": [0.4, -0.6],
                                  "score_metric": "rating_mean", "score": [4.2, 2.5]})  # fmt: skip
    fig = plot_journey(r)
    desc = figure_description(fig)
    assert "score 4.20" in desc and "score 2.50" in desc and "+4.2" not in desc
    assert "score (mean rating)" in [t.name for t in fig.data]  # not the id rating_mean
    r.touchpoints["score_metric"], r.touchpoints["score"] = "nps", [12.0, -30.0]
    desc = figure_description(plot_journey(r))
    assert "score +12.0" in desc and "score -30.0" in desc


def test_small_shares_read_as_under_one_percent():
    from cxnlp.plotting import plot_themes, share_text

    assert [share_text(x) for x in (0.004, 0.0, 0.5, 0.996, 1.0)] == [
        "<1%", "0%", "50%", ">99%", "100%"]  # fmt: skip
    assert share_text(0.0004, 1) == "<0.1%" and share_text(None) == "–"
    r = make_full()
    many = pd.concat([r.responses] * 100, ignore_index=True)
    many["row_id"] = range(len(many))
    r.responses = many  # the 6 mentions are now a sliver of 1,100 analysed responses
    desc = figure_description(plot_themes(r))
    assert "2 responses (<1% of analysed)" in desc and "(0% of analysed)" not in desc


def test_churn_shares_state_their_base():
    from cxnlp.plotting import plot_churn

    r = make_full()
    r.churn = pd.DataFrame({"rank": [1, 2, 3], "reason": ["poor_service", "price", "moved"],
                            "label": ["Poor service", "Price", "Moved"], "count": [799, 200, 1],
                            "n": 1000, "share": [0.799, 0.2, 0.001]})  # fmt: skip
    sec = section(render_html(r), "churn")
    assert "Shares are of the 1,000 at-risk responses that have a churn reason" in sec
    desc = figure_description(plot_churn(r))
    assert "of the 1,000 at-risk responses with a churn reason" in desc and "Moved <1%" in desc
    r.metrics["churn"] = {"at_risk": 1500, "with_reason": 1000}
    assert "the 1,000 at-risk" in section(render_html(r), "churn")


def test_ambiguous_dates_say_how_they_were_read(tmp_path):
    import openpyxl

    dates = [f"{m:02d}/{d:02d}/2025" for m in (1, 2, 3) for d in (2, 5, 9, 11)]  # all <= 12
    r = dated_results(dates)
    assert "ambiguous" in r.metrics["trends"]["dates"]
    head = section(render_html(r), "headline")
    assert ("Dates like 01/02/2025 were read month first (every day and month is 12 or "
            "less); set drivers.dayfirst: true if they are day first.") in head  # fmt: skip
    # a Results without the trends stage reads the same note from the same parse
    assert "were read month first" in section(render_html(dated_results(dates, trends=False)),
                                              "headline")  # fmt: skip
    summary = openpyxl.load_workbook(r.to_excel(tmp_path / "r.xlsx"))["summary"]
    assert any("read month first" in str(row[1].value) for row in summary.iter_rows())
    # unambiguous dates: no note
    assert 'id="date-note"' not in render_html(dated_results(_days("2025-01-01", 60)))


# --------------------------------------------------------------------------- report review E


def _rated_drivers(k: int = 18) -> Results:
    """``k`` themes on a mean-rating outcome: impacts of thousandths, the one positive theme
    (ease_of_use) the largest in size, t10 and t11 under drivers.min_n."""
    r = make_full()
    themes = [f"t{i:02d}" for i in range(k - 1)] + ["ease_of_use"]
    r.mentions = pd.DataFrame({"row_id": [i % 12 for i in range(k)], "theme": themes,
                               "sentiment": "negative", "sentiment_score": -0.5,
                               "confidence": 0.9})  # fmt: skip
    impact = [-0.001 * (i + 1) for i in range(k - 1)] + [0.049]
    r.drivers = pd.DataFrame({
        "theme": themes, "sentiment": "any", "n": [5 if t in ("t10", "t11") else 100
                                                    for t in themes],
        "impact": impact, "impact_low": [v - 0.01 for v in impact],
        "impact_high": [v + 0.01 for v in impact], "outcome": "rating_mean",
        "small": [t in ("t10", "t11") for t in themes],
    })  # fmt: skip
    return r


def _impact_rows(html: str) -> list[str]:
    table = section(html, "drivers").split("<table", 1)[1]
    return re.findall(r"<tr><td>([^<]+)</td>", table)


def test_impact_table_keeps_the_largest_impacts_of_both_signs():
    html = render_html(_rated_drivers())
    rows = _impact_rows(html)
    assert len(rows) == 15 and rows[-1] == "ease_of_use"  # the largest |impact| is kept
    assert rows[0] == "t16" and not {"t00", "t01", "t02"} & set(rows)  # the smallest go
    caption = section(html, "drivers").split("<caption", 1)[1].split("</caption>", 1)[0]
    assert "Shown: the largest impacts, either way (15 of 18 shown)" in caption


def test_small_impacts_get_the_decimals_they_need():
    from cxnlp.plotting import plot_drivers, signed_text, value_digits

    table = section(render_html(_rated_drivers()), "drivers").split("<table", 1)[1]
    assert ">+0.049<" in table and ">-0.016<" in table
    assert ">-0.00<" not in table and ">+0.00<" not in table
    assert value_digits([-11.7, 7.7]) == 2 and value_digits([0.049, -0.04]) == 3
    assert value_digits([0.004]) == 4
    assert "%{y:+.3f}" in plot_drivers(_rated_drivers()).data[0].hovertemplate
    # never "-0": a value that rounds to zero gets more decimals, or reads 0
    assert [
        signed_text(x, d) for x, d in ((-0.13, 0), (0.0004, 2), (0.0, 0), (-1e-9, 2), (3.2, 0))
    ] == ["-0.1", "+0.0004", "0", "0.00", "+3"]


def test_small_drivers_are_flagged_in_the_table_and_the_matrix():
    from cxnlp.plotting import plot_drivers

    r = _rated_drivers()
    sec = section(render_html(r), "drivers")
    rows = _impact_rows(render_html(r))
    assert "t10 (few responses)" in rows and "t11 (few responses)" in rows
    assert "t12" in rows  # not small: no marker
    assert "“few responses”: fewer than 30 responses (drivers.min_n), read with care" in sec
    fig = plot_drivers(r)
    symbols = dict(zip(fig.data[0].text, fig.data[0].marker.symbol, strict=True))
    assert symbols["t10 (few)"] == "circle-open" and symbols["t12"] == "circle"
    assert "open circles" in fig.layout.xaxis.title.text
    desc = figure_description(fig)
    assert "t10: 1 response (few: n &lt; 30)" not in desc  # plain text, not escaped
    assert "t10: 1 response (few: n < 30), impact -0.011" in desc  # and "1 response"
    assert "1 responses" not in desc
    # a drivers table without the flag: n under drivers.min_n marks the theme the same way
    r.drivers = r.drivers.drop(columns="small")
    assert "t10 (few responses)" in _impact_rows(render_html(r))


def test_driver_matrix_volume_axis_reads_as_round_numbers():
    from cxnlp.plotting import _log_ticks, plot_drivers

    assert _log_ticks(pd.Series([56, 751])) == [50, 100, 200, 500, 1000]
    assert _log_ticks(pd.Series([3, 9])) == [2, 3, 5, 7, 10]
    axis = plot_drivers(make_full()).layout.xaxis
    assert axis.type == "log" and list(axis.tickvals) == [1, 2, 5]
    assert list(axis.ticktext) == ["1", "2", "5"]
    big = plot_drivers(_rated_drivers())
    assert all("," in t for v, t in zip(big.layout.xaxis.tickvals, big.layout.xaxis.ticktext,
                                        strict=True) if v >= 1000)  # fmt: skip


_SCORES_FEB = [(10, 9, 7, 3, 0, 10, 8)[i % 7] for i in range(40)]
_SCORES_MAR = [(10, 9, 7, 3, 10, 10, 8)[i % 7] for i in range(40)]


def test_a_change_whose_interval_includes_0_is_not_a_green_rise():
    from cxnlp import views

    r = dated_results(["2025-02-10"] * 40 + ["2025-03-28"] * 40, period="month",
                      scores=_SCORES_FEB + _SCORES_MAR)  # fmt: skip
    c = views.headline_changes(r)["nps"]
    assert c["delta"] > 0 and c["delta_low"] < 0 < c["delta_high"]
    head = section(render_html(r), "headline")
    assert 'class="change unclear"' in head and "▲" not in head and "change up" not in head
    assert "(95% CI -5 to +62): not a clear change (the interval includes 0) vs 2025-02" in head
    assert "is a partial" not in head  # March data run to the 28th of 31
    # a change clear of 0 is still a rise
    clear = dated_results(["2025-02-10"] * 40 + ["2025-03-28"] * 40, period="month",
                          scores=[0] * 40 + [10] * 40)  # fmt: skip
    head = section(render_html(clear), "headline")
    assert 'class="change up"' in head and "▲" in head and "not a clear change" not in head


def test_a_partial_latest_period_is_named_beside_the_change():
    dates = _days("2025-02-01", 28) + _days("2025-03-01", 10)  # March stops on the 10th
    head = section(render_html(dated_results(dates, period="month", min_n=5)), "headline")
    assert ("2025-03 is a partial month: its data end on 2025-03-10 (the month ends "
            "2025-03-31).") in head  # fmt: skip
    whole = dated_results(_days("2025-02-01", 28) + _days("2025-03-01", 31), period="month")
    assert "partial" not in section(render_html(whole), "headline")


def test_filters_say_which_sections_they_change(full_report):
    form = full_report.split('<form id="filters"', 1)[1].split("</form>", 1)[0]
    assert ("Filters the sentiment chart, the disagreements and the verbatims; other sections "
            "(headline scores, themes, impact, journey, churn, trends) show all "
            "responses.") in form  # fmt: skip
    script = full_report.split('id="cx-filter-data"', 1)[1]
    assert "figcaption" in script and "(filtered: " in script  # the caption follows the bars


def _flagged(n: int = 30, probs: bool = True) -> Results:
    r = dated_results(_days("2025-01-01", n))
    p = [0.70 + i / 100 for i in range(n)]
    r.responses["p_negative"] = p
    r.responses["disagreement"] = [f"promoter score (10) with negative text (p={v:.2f})"
                                   for v in p]  # fmt: skip
    if not probs:
        r.responses = r.responses.drop(columns=["p_negative", "p_positive"])
    return r


def test_flagged_disagreements_say_how_many_and_come_clearest_first(tmp_path):
    import openpyxl

    from cxnlp import views

    for probs in (True, False):  # the text model's confidence, else the p= its reason quotes
        dis = views.disagreements(_flagged(probs=probs))
        assert dis.attrs["total"] == 30 and len(dis) == 20
        assert dis["row_id"].tolist()[:3] == [29, 28, 27]
    sec = section(render_html(_flagged()), "disagreements")
    assert "30 responses whose score and text point opposite ways (flagged by" in sec
    assert "the clearest 20 of 30 shown" in sec
    assert "(all 30 in responses.csv, column disagreement)" in sec
    assert "all shown" in section(render_html(_flagged(12)), "disagreements")
    # the base: only rows with analysed text and a valid score could disagree, each side its own
    r = _flagged()
    side = {"n": 30, "base": 400, "share": 0.075, "low": 0.05, "high": 0.1}
    none = {"n": 0, "base": 200, "share": 0.0, "low": 0.0, "high": 0.02}
    r.metrics = {**(r.metrics or {}), "disagreement": {
        "n": 30, "base": 600, "share": 0.05, "low": 0.035, "high": 0.07,
        "high_score_negative_text": side, "low_score_positive_text": none}}  # fmt: skip
    assert ("That is 5.0% of the 600 responses that could disagree (a high or low score, text "
            "analysed and not mixed): 30 of 400 high scores with negative text (7.5%), 0 of "
            "200 low scores with positive text (0.0%).") in section(render_html(r), "disagreements")
    book = openpyxl.load_workbook(r.to_excel(tmp_path / "r.xlsx"))
    rows = {row[0].value: row[1].value for row in book["summary"].iter_rows() if row[0].value}
    assert rows["Score–text disagreements"].startswith("That is 5.0% of the 600 responses")
    r.metrics["disagreement"]["n"] = 29  # counts from another run: no base quoted
    assert "That is" not in section(render_html(r), "disagreements")
    # an empty flag column in a run without scores (airline tweets): there was nothing to
    # compare, not "no disagreement found"
    r = make_results(columns={"text": ["text"], "scores": {}, "segments": []})
    r.responses["disagreement"] = None
    sec = section(render_html(r), "disagreements")
    assert "Not available: needs a score column" in sec and "found" not in sec


def test_excel_summary_change_has_interval_n_periods_and_the_html_labels(tmp_path):
    import openpyxl

    r = dated_results(["2025-02-10"] * 40 + ["2025-03-28"] * 40, period="month",
                      scores=_SCORES_FEB + _SCORES_MAR)  # fmt: skip
    sheet = openpyxl.load_workbook(r.to_excel(tmp_path / "r.xlsx"))["summary"]
    summary = {row[0].value: row[1].value for row in sheet.iter_rows() if row[0].value}
    label = "Net Promoter Score (nps)"  # the HTML card's title, not "NPS (nps)"
    assert label in summary and not any(str(k).startswith("NPS (") for k in summary)
    head = f"{label}: change, 2025-03 vs 2025-02"
    assert summary[head] == pytest.approx(30.0)
    assert summary[f"{head}, 95% CI low"] < 0 < summary[f"{head}, 95% CI high"]
    assert summary[f"{label}: 2025-02 n"] == 40 and summary[f"{label}: 2025-03 n"] == 40
    assert summary[f"{head}: reads as"] == "not a clear change (the interval includes 0)"
    assert "Would recommend (yes)" in _recommend_summary(tmp_path)


def _recommend_summary(tmp_path) -> dict:
    import openpyxl

    r = make_results()
    r.responses["yes"] = ["yes", "no"] * 6
    r.columns = {**r.columns, "scores": {"yes": "recommend"}}
    r.metrics = summarize(r)
    sheet = openpyxl.load_workbook(r.to_excel(tmp_path / "rec.xlsx"))["summary"]
    return {row[0].value: row[1].value for row in sheet.iter_rows() if row[0].value}


def test_journey_from_a_touchpoint_column_shows_response_sentiment():
    from cxnlp.plotting import plot_journey

    r = make_full()
    r.touchpoints = pd.DataFrame({
        "source": ["themes", "themes", "column", "column", "column"],
        "touchpoint": ["delivery", "support", "order", "boarding", "billing"],
        "order": [1, 2, 0, 1, 2], "responses": [2, 3, 12, 0, 1],
        "sentiment_score": [0.1, -0.6, 0.0, np.nan, -0.2],
    })  # fmt: skip
    fig = plot_journey(r)
    assert fig.layout.yaxis.title.text == "Mean response sentiment"
    assert list(fig.data[0].x) == ["order", "billing"]  # no bar for a stage nobody reached
    desc = figure_description(fig)
    assert "order: response sentiment" in desc
    assert "billing: response sentiment -0.20, 1 response." in desc
    sec = section(render_html(r), "journey")
    assert "sentiment is that of the whole response" in sec
    assert "No response reached boarding." in sec
    assert plot_journey(make_full()).layout.yaxis.title.text == "Mean aspect sentiment"


def test_churn_caption_says_who_counted_as_at_risk(tmp_path):
    import openpyxl

    r = make_full()
    r.responses["at_risk"] = [None, "detractor (NPS 2)", None, None, None, "detractor (NPS 6)",
                              None, "detractor (NPS 0)", None, None, None, None]  # fmt: skip
    sec = section(render_html(r), "churn")
    assert "At risk: the 3 responses with a detractor NPS (0-6). Shares are of" in sec
    r.responses["at_risk"] = (
        ["churn column 'Churned'"] * 2 + ["negative text (no score or churn column)"] + [None] * 9
    )
    assert ("At risk: the 3 responses with churn column &#39;Churned&#39; (2) or negative text "
            "(no score or churn column) (1).") in section(render_html(r), "churn")  # fmt: skip
    sheet = openpyxl.load_workbook(r.to_excel(tmp_path / "r.xlsx"))["summary"]
    summary = {row[0].value: row[1].value for row in sheet.iter_rows() if row[0].value}
    assert summary["At risk (churn)"].startswith("the 3 responses with churn column")
    r.responses = r.responses.drop(columns="at_risk")
    assert "At risk: a churn column, a low score, or negative text" in section(
        render_html(r), "churn"
    )
