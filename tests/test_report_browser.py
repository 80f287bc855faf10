"""The value reports and index pages in real headless Chromium at A4 print
size: they render, log no console errors, request nothing but the file itself,
show the key figures, and print to a PDF of at most two pages."""

from __future__ import annotations

import json
import re

import pytest
from conftest import open_report
from reading import plain

pytestmark = [pytest.mark.browser, pytest.mark.slow]


# Figures a reader must find on each printed value report (from the example files).
KEY_FIGURES = {
    "order-to-ship": ["Northwind Homewares", "Order-to-ship time", "72 %", "-€45,400", "Month 8", "behind plan"],
    "employee-engagement": ["Helios Care Services", "Clients served per month", "39 %", "Month 7"],
    "ad-campaign": ["Brightline Outdoor Gear", "$59,673", "Week 9", "KPIs: none agreed."],
}


def pdf_pages(pdf: bytes) -> int:
    """Page objects in a PDF (``/Type /Page``, not ``/Pages``)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.mark.parametrize("engagement_id", sorted(KEY_FIGURES))
def test_value_report_prints_on_a4(browser, rendered_examples, engagement_id):
    path = rendered_examples["out"] / engagement_id / "value_report.html"
    page, errors, requests = open_report(browser, path, print_media=True)
    try:
        text = plain(page.inner_text("body"))
        for figure in KEY_FIGURES[engagement_id]:
            assert figure in text, f"{figure!r} missing from the printed {engagement_id} value report"
        assert errors == []
        assert requests == [path.resolve().as_uri()]
        # Nothing overflows the A4 width (794 CSS pixels at 96 dpi).
        assert page.evaluate("document.documentElement.scrollWidth") <= 794
        # Every chart is drawn and has an accessible name.
        assert page.locator("figure.chart svg[role=img] title").count() >= 1
        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF") and 1 <= pdf_pages(pdf) <= 2
    finally:
        page.close()


def test_value_report_key_figures_agree_with_its_results_file(browser, rendered_examples):
    folder = rendered_examples["out"] / "order-to-ship"
    results = json.loads((folder / "value_report.json").read_text())
    page, errors, _ = open_report(browser, folder / "value_report.html")
    try:
        text = plain(page.inner_text("main"))
        kpi = results["kpis"]["order-to-ship-days"]
        assert f"{kpi['progress'] * 100:.0f} %" in text and f"{kpi['planned'] * 100:.0f} %" in text
        for action in results["actions"]:
            assert action in text
        assert errors == []
    finally:
        page.close()


@pytest.mark.parametrize("engagement_id", sorted(KEY_FIGURES))
def test_index_page_links_open_in_the_browser(browser, rendered_examples, engagement_id):
    index = rendered_examples["out"] / engagement_id / "index.html"
    page, errors, requests = open_report(browser, index)
    try:
        links = page.locator("main a")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        # The customer's index links every customer report, the value report first, and no internal one.
        results = rendered_examples["reports"][engagement_id].results
        customer = [r for r in results if json.loads(r.outputs[".json"].read_text(encoding="utf-8"))["audience"] == "customer"]
        assert hrefs[0] == "value_report.html" and sorted(hrefs) == sorted(f"{r.workbook}.html" for r in customer)
        assert len(customer) < len(results)  # every example has internal reports too
        assert errors == [] and requests == [index.resolve().as_uri()]
        page.click("text=Value report")
        page.wait_for_load_state("load")
        assert page.url.endswith(f"/{engagement_id}/value_report.html")
        assert KEY_FIGURES[engagement_id][0] in page.inner_text("h1")
    finally:
        page.close()
