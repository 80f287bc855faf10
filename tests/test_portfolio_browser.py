"""A portfolio run's pages in a real headless Chromium: the index and a sample
of reports open with no network request and no console error, and the
index's links lead to the reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CORRUPT_ENGAGEMENT, PORTFOLIO_SIZE, open_report

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _local_only(requests: list[str]) -> bool:
    return all(url.startswith(("file:", "data:")) for url in requests)


def test_the_index_page_opens_cleanly_and_shows_every_engagement(portfolio_of_40: dict, browser) -> None:
    page, errors, requests = open_report(browser, portfolio_of_40["run_dir"] / "index.html")
    try:
        assert errors == [] and _local_only(requests), (errors, requests)
        assert page.locator("table.portfolio tbody tr:not(.failure-row)").count() == PORTFOLIO_SIZE
        assert page.locator("tr.failure-row").count() == 1
        first = page.locator("table.portfolio tbody tr").first
        assert CORRUPT_ENGAGEMENT in first.inner_text() and "failed" in first.inner_text()
        assert "could not convert string to float" in page.locator(".callout-bad").inner_text()
        assert page.locator("script").count() == 0
    finally:
        page.close()


def test_a_link_on_the_index_opens_the_report(portfolio_of_40: dict, browser) -> None:
    page, errors, requests = open_report(browser, portfolio_of_40["run_dir"] / "index.html")
    try:
        link = page.locator("table.portfolio a", has_text="Customer 005 Ltd")
        link.click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/bench-005/cash_flow.html")
        assert page.locator("h1").inner_text() == "Customer 005 Ltd"
        assert errors == [] and _local_only(requests), (errors, requests)
    finally:
        page.close()


@pytest.mark.parametrize("engagement_id", ["bench-000", "bench-021", "bench-039"])
def test_sampled_reports_open_with_no_network_and_no_console_error(portfolio_of_40: dict, browser, engagement_id: str) -> None:
    report: Path = portfolio_of_40["run_dir"] / engagement_id / "cash_flow.html"
    page, errors, requests = open_report(browser, report)
    try:
        assert errors == [] and _local_only(requests), (errors, requests)
        assert page.locator("figure.chart svg").count() >= 1
        assert page.locator("table.data tbody tr").count() >= 6  # cash flows have 6 to 60 periods
    finally:
        page.close()
