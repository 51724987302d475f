"""HTML report and plots: sections, self-containment, escaping, edge cases."""

from __future__ import annotations

import re

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
    assert report.count("<script") - report.count('class="plotly-graph-div"') == 1  # plotly.js once
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
    assert positive.count("<li>") == 4
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


def test_plot_errors_are_actionable():
    r = make_results()
    with pytest.raises(ValueError, match="score columns: ltr"):
        plot_scores(r, "nope")
    with pytest.raises(ValueError, match="io.score_columns"):
        plot_scores(make_results(columns={"scores": {}}))
    with pytest.raises(ValueError, match="not in responses"):
        plot_sentiment_by(r, "nope")
