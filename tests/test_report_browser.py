"""The HTML report in a real headless Chromium: loads offline, no console errors, no network
requests, key sections present, filters work, fits 1280 px and a 390 x 844 phone without
horizontal overflow, every chart has a text alternative; screenshots.

Needs Debian's ``chromium`` (``.ci/run`` installs it) and ``websocket-client`` (dev extra).
Screenshots go to ``out/test-screenshots/`` (or ``$CXNLP_SCREENSHOTS``) for a person to look at.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from chromium import Chromium, find_chromium
from test_report import SECTIONS, make_full

from cxnlp.report import write_html

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Chromium is not installed: apt-get install -y chromium (.ci/run does this)",
    ),
]
SHOTS = Path(
    os.environ.get("CXNLP_SCREENSHOTS", Path(__file__).parents[1] / "out" / "test-screenshots")
)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def report_url(tmp_path_factory) -> str:
    path = write_html(make_full(), tmp_path_factory.mktemp("report") / "report.html",
                      title="Browser check")  # fmt: skip
    return path.resolve().as_uri()


@pytest.fixture(scope="module")
def browser():
    pytest.importorskip("websocket", reason="websocket-client is not installed (dev extra)")
    with Chromium(CHROMIUM) as b:
        yield b


def allowed(url: str, page: str) -> bool:
    return url == page or url.startswith("data:") or url == "about:blank"


#: A desktop window and a phone (iPhone 12-15 viewport, touch, 3x pixel ratio emulated as 1x).
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_report_loads_offline_without_errors(browser, report_url, device):
    width, height = VIEWPORTS[device]
    browser.load(report_url, width=width, height=height, settle=0.5)
    assert browser.console_errors() == []
    requests = browser.requests()
    assert report_url in requests
    assert [u for u in requests if not allowed(u, report_url)] == []
    ids = browser.evaluate("Array.from(document.querySelectorAll('section[id]')).map(s => s.id)")
    assert set(SECTIONS) <= set(ids)
    charts = browser.evaluate("document.querySelectorAll('.js-plotly-plot .main-svg').length")
    assert charts >= 8  # every figure rendered by the inlined plotly.js
    assert browser.evaluate("document.querySelectorAll('mark').length") > 0
    assert browser.evaluate("innerWidth") == width
    doc, body = browser.evaluate(
        "[document.documentElement.scrollWidth, document.body.scrollWidth]"
    )
    assert max(doc, body) <= width + 1, f"page is {max(doc, body)}px wide in {width}px"
    wide = browser.evaluate(
        "Array.from(document.querySelectorAll('section, .js-plotly-plot'))"
        f".filter(e => e.getBoundingClientRect().right > {width} + 1)"
        ".map(e => e.id || e.className)"
    )
    assert wide == [], f"elements overflow the {width}px viewport: {wide}"
    # chart titles are page text that wraps (plotly clipped them and let legends overlap)
    titles = browser.evaluate("""Array.from(document.querySelectorAll('.chart')).map(f => {
        const t = f.querySelector('.chart-title');
        return [!!t, f.querySelectorAll('.gtitle').length, !t || t.scrollWidth <= t.clientWidth];
      })""")
    assert len(titles) >= 8 and all(t[1:] == [0, True] for t in titles), titles
    assert sum(t[0] for t in titles) >= 6, titles
    toolbars = browser.evaluate(
        "Array.from(document.querySelectorAll('.chart .modebar-container'))"
        ".map(m => getComputedStyle(m).display)"
    )
    assert toolbars and all((d == "none") == (device == "phone") for d in toolbars), toolbars
    shot = browser.screenshot(SHOTS / f"report-{device}-{width}.png", max_height=4000)
    assert png_size(shot)[0] == width


def test_charts_have_text_alternatives_in_the_browser(browser, report_url):
    """Every rendered chart sits in a figure with an aria-label and a visible caption."""
    browser.load(report_url, width=1280, height=900, settle=0.3)
    bad = browser.evaluate("""Array.from(document.querySelectorAll('.js-plotly-plot')).filter(p => {
        const fig = p.closest('figure'), img = p.closest('[role=img]');
        const cap = fig && fig.querySelector('figcaption');
        return !(img && img.getAttribute('aria-label').length > 20 && cap &&
                 cap.textContent.trim().length > 20);
      }).map(p => p.id)""")
    assert bad == []


def test_filters_hide_rows_and_update_the_chart(browser, report_url):
    browser.load(report_url, width=1280, height=900, settle=0.3)
    before = browser.evaluate(
        "document.getElementById('cx-fig-sentiment').data[0].y.reduce((a, b) => a + b, 0)"
    )
    state = browser.evaluate("""(() => {
      const s = document.getElementById('filter-segment');
      s.value = 'South'; s.dispatchEvent(new Event('change'));
      const items = Array.from(document.querySelectorAll('.filterable'));
      return {hidden: items.filter(e => e.hidden).length, total: items.length,
              wrong: items.filter(e => !e.hidden && e.dataset.segment !== 'South').length,
              status: document.getElementById('filter-status').textContent,
              y: document.getElementById('cx-fig-sentiment').data[0].y,
              caption: document.querySelector('#sentiment figcaption').textContent,
              label: document.querySelector('#sentiment [role=img]').getAttribute('aria-label'),
              scope: document.getElementById('filter-scope').getBoundingClientRect().height};
    })()""")
    assert 0 < state["hidden"] < state["total"] and state["wrong"] == 0
    assert state["status"].startswith("Filtered")
    assert 0 < sum(state["y"]) < before
    # the caption follows the filtered bars; the scope of the filter is visible beside it
    n = sum(state["y"])
    assert state["caption"].startswith(f"Sentiment of {n} analysed responses (filtered: region")
    assert state["label"] == state["caption"] and state["scope"] > 0
    back = browser.evaluate("""(() => {
      const s = document.getElementById('filter-segment');
      s.value = ''; s.dispatchEvent(new Event('change'));
      return document.querySelector('#sentiment figcaption').textContent;
    })()""")
    assert back.startswith(f"Sentiment of {before} analysed responses:")
    browser.evaluate("""(() => {
      const p = document.getElementById('filter-period');
      p.value = '2025-03'; p.dispatchEvent(new Event('change'));
    })()""")
    assert browser.console_errors() == []


def test_long_names_and_values_still_fit_a_phone(browser, tmp_path):
    """A snake_case segment column name and unbreakable segment values (URLs, ids) wrap in the
    filter label, chart captions and verbatim lines instead of widening the page."""
    r = make_full()
    name = "landing_page_url_as_recorded_in_the_crm_export"
    r.responses = r.responses.rename(columns={"region": name})
    r.responses[name] = [("B" * 280, "C" * 250, "short")[i % 3] for i in range(len(r.responses))]
    r.columns = {**r.columns, "segments": [name]}
    url = write_html(r, tmp_path / "long.html").resolve().as_uri()
    for width, height in VIEWPORTS.values():
        browser.load(url, width=width, height=height, settle=0.3)
        assert browser.console_errors() == []
        wide = browser.evaluate("document.documentElement.scrollWidth")
        assert wide <= width + 1, f"page is {wide}px wide in {width}px"
