"""The pay report page in a real browser: a chart of hours and one chart per currency for
each grouping (never two currencies on one axis), and the figures in plain view below.

Figures: the table in tests/payroll/test_selectors_reports.py (USD and EUR workers over
W45 and W46). Each page is saved as a screenshot.
"""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_flows import sign_in
from tests.payroll.test_selectors_reports import W45, W46, build_figures

GROUPINGS = {"period": "per week", "project": "per project", "team": "per team"}
# Every chart's datasets: [(label, axis title)], so a second currency on one axis shows.
CHARTS = """
[...document.querySelectorAll("canvas[data-chart]")].map((canvas) => {
  const chart = Chart.getChart(canvas);
  return [canvas.id, chart.data.datasets.map((set) => set.label), chart.options.scales.y.title.text];
})
"""


@pytest.fixture
def site(transactional_db, live_server, world) -> str:
    build_figures(world)
    return live_server.url


def test_each_grouping_charts_hours_and_each_currency_apart_with_its_figures_shown(
    page: Page, site, world, shot
):
    # given finance on the reports page for W45 and W46 (USD and EUR)
    sign_in(page, site, "finance")
    page.goto(f"{site}/reports/?period_from={W45}&period_to={W46}")

    # then every grouping draws three charts: hours, EUR and USD, one series each
    charts = {chart_id: (labels, axis) for chart_id, labels, axis in page.evaluate(CHARTS)}
    for group_by, title in GROUPINGS.items():
        assert charts[f"chart-{group_by}-hours"] == (["Hours"], "hours")
        for currency in ("EUR", "USD"):
            assert charts[f"chart-{group_by}-amount-{currency}"] == ([f"Amount ({currency})"], currency)
            chart = page.get_by_role("img", name=f"Bar chart of the amount in {currency} {title}")
            expect(chart).to_be_visible()
            assert chart.evaluate("canvas => canvas.height") > 0
        expect(page.get_by_role("img", name=f"Bar chart of the hours {title}")).to_be_visible()
    assert len(charts) == 9

    # and the figures are in view, not folded, with a total per currency
    assert page.locator("details").count() == 0
    weeks = page.get_by_role("table", name="Figures per week")
    expect(weeks).to_be_visible()
    expect(weeks.locator("tbody tr")).to_have_text(
        [
            f"{W45}EUR2:00:002.000.0020.00",
            f"{W45}USD4:00:004.000.0070.00",
            f"{W46}USD1:30:001.505.0027.50",
        ]
    )
    expect(weeks.locator("tfoot tr")).to_have_text(
        ["TotalEUR2:00:002.000.0020.00", "TotalUSD5:30:005.505.0097.50"]
    )
    projects = page.get_by_role("table", name="Figures per project")
    expect(projects.locator("tfoot tr")).to_have_text(
        ["TotalEUR2:00:002.000.0020.00", "TotalUSD5:30:005.500.0092.50"]  # adjustments have no project
    )
    expect(page.get_by_role("table", name="Figures per team")).to_be_visible()
    shot("finance-reports-charts")

    # and on a phone the charts stack and the page does not scroll sideways
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#chart-team-amount-USD")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot("finance-reports-charts-phone")
