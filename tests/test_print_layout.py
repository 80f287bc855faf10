"""Every example's reports print well on A4, measured on the PDFs Chromium prints.

One real ``csm-nb portfolio --workbooks <every workbook> --pdf`` run renders and prints every
report of every example engagement (module-scoped: about 30 s on the 2-core machine). The PDFs
are then read with pypdfium2 (PDFium's own text and raster API, no poppler tools):

* the value report is exactly one A4 page;
* no page but a report's last is more than 40 % empty (blank below its last ink, as a share of
  the text block inside the 12 mm page margins of ``report.css``);
* no printed character is smaller than 8 pt, and each chart's text, worked out from the SVG's
  font sizes and the scale the chart is printed at, is 8 pt or more;
* a heading (h2, h3, a definition term, a workshop question, a table caption) is never the last
  text on its page, and a chart's caption is on the page that shows its title.

What was measured goes to ``tests/output/print_layout.json`` (ignored by git).
"""

from __future__ import annotations

import ctypes
import html
import json
import math
import os
import re
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from conftest import EXAMPLES_DIR

from csm_nb import config
from csm_nb.cli import main
from csm_nb.data.engagement import read_engagement
from csm_nb.errors import NotFoundError
from csm_nb.run.pdf import page_count
from csm_nb.run.registry import applicable_workbooks, workbooks

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OUTPUT = Path(__file__).parent / "output"
PAGE_MARGIN_MM = 12.0  # report.css: @page { size: A4; margin: 12mm ... }
A4_HEIGHT_MM = 297.0
MOST_EMPTY = 0.40
MIN_PT = 8.0
# Chromium keeps font sizes to 1/100 of a CSS pixel: 8 pt (10.667 px) prints as 7.995 pt.
PT_SLACK = 0.01
INK = 250  # a grey level below this (of 255) is ink; paper is 255


# -- rendering and printing, once -----------------------------------------------------------
def chromium_or_skip() -> str:
    try:
        return config.chromium()
    except NotFoundError:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: make test installs Debian's chromium")
        pytest.skip("Chromium is not installed (make test installs it)")


class Report:
    """One printed report: its HTML, its PDF and what was read from the PDF."""

    def __init__(self, html_path: Path) -> None:
        self.html_path = html_path
        self.pdf_path = html_path.with_suffix(".pdf")
        self.name = f"{html_path.parent.name}/{html_path.stem}"
        self.html = html_path.read_text(encoding="utf-8")
        self.pdf = pdfium.PdfDocument(str(self.pdf_path))
        self.pages = [Page(self.pdf[i]) for i in range(len(self.pdf))]


class Page:
    """A printed page: its characters (text, box in points, printed size, bold) and its ink."""

    def __init__(self, page: pdfium.PdfPage) -> None:
        self.height = page.get_height()
        text = page.get_textpage()
        self.text = text
        self.chars: list[tuple[str, tuple[float, float, float, float], float, bool]] = []
        for i in range(text.count_chars()):
            matrix = pdfium_c.FS_MATRIX()
            pdfium_c.FPDFText_GetMatrix(text, i, matrix)
            size = pdfium_c.FPDFText_GetFontSize(text, i) * math.sqrt(abs(matrix.a * matrix.d - matrix.b * matrix.c))
            name = ctypes.create_string_buffer(128)
            flags = ctypes.c_int()
            pdfium_c.FPDFText_GetFontInfo(text, i, name, len(name), flags)
            self.chars.append((text.get_text_range(i, 1), text.get_charbox(i), size, b"Bold" in name.value))
        self.emptiness = emptiness(page)

    def printed(self) -> list[tuple[str, tuple[float, float, float, float], float, bool]]:
        """The characters that put ink on paper (not spaces or line ends)."""
        return [c for c in self.chars if c[0].strip()]

    def find(self, words: str, *, bold: bool | None = None) -> list[list[int]]:
        """Where ``words`` are printed on the page: a list of character indices per occurrence."""
        hits = []
        search = self.text.search(words, match_case=True)
        while (hit := search.get_next()) is not None:
            indices = [i for i in range(hit[0], hit[0] + hit[1]) if self.chars[i][0].strip()]
            if indices and (bold is None or all(self.chars[i][3] == bold for i in indices)):
                hits.append(indices)
        return hits

    def flat_text(self) -> str:
        return "".join(c[0] for c in self.chars if c[0].strip())


def emptiness(page: pdfium.PdfPage) -> float:
    """The share of the page's text block below its lowest ink (0 = filled to the bottom margin)."""
    pixels = page.render(scale=36 / 72, grayscale=True).to_numpy()
    grey = pixels if pixels.ndim == 2 else pixels[..., 0]
    rows = [y for y in range(grey.shape[0]) if grey[y].min() < INK]
    height = grey.shape[0]
    top = height * PAGE_MARGIN_MM / A4_HEIGHT_MM
    bottom = height - top
    lowest = (rows[-1] + 1) if rows else top
    return max(0.0, min(1.0, (bottom - lowest) / (bottom - top)))


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Report]]:
    """Every example imported into a fresh store, then one ``csm-nb portfolio --pdf`` run of every
    workbook; returns ``{engagement id: {workbook id: Report}}``."""
    chromium_or_skip()
    base = tmp_path_factory.mktemp("print-layout")
    db, out = base / "store.sqlite", base / "runs"
    examples = sorted(EXAMPLES_DIR.glob("*.yaml"))
    assert main(["--db", str(db), "import", *map(str, examples)]) == 0
    command = ["--db", str(db), "portfolio", "--workbooks", ",".join(workbooks()), "--pdf"]
    assert main([*command, "--out", str(out), "--label", "print", "--quiet"]) == 0
    reports: dict[str, dict[str, Report]] = {}
    for page in sorted((out / "print").glob("*/*.html")):
        if page.name != "index.html":
            reports.setdefault(page.parent.name, {})[page.stem] = Report(page)
    return reports


@pytest.fixture(scope="module")
def measured(printed: dict[str, dict[str, Report]]) -> dict:
    """What is written to tests/output/print_layout.json, filled in by the tests below."""
    found: dict = {
        name: {wb: {"pages": len(r.pages), "emptiness": [round(p.emptiness, 3) for p in r.pages]} for wb, r in reports.items()}
        for name, reports in printed.items()
    }
    yield found
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "print_layout.json").write_text(json.dumps(found, indent=2) + "\n")


# -- what the reports' HTML says is there ------------------------------------------------------
HEADING = re.compile(r"<(h2|h3|dt|caption)\b[^>]*>(.*?)</\1>|<p class=\"qa-q\"[^>]*>\s*<b>(.*?)</b>", re.S | re.I)
FIGURE = re.compile(r"<figure class=\"chart\"[^>]*>(.*?)</figure>", re.S | re.I)
SVG_TEXT = re.compile(r"<text\b([^>]*)>(.*?)</text>", re.S | re.I)
VIEW_BOX = re.compile(r"viewbox=\"[\d.\s-]+?\s([\d.]+)\s[\d.]+\"", re.I)
CAPTION = re.compile(r"<figcaption[^>]*>(.*?)</figcaption>", re.S | re.I)


def plain(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def headings(markup: str) -> list[str]:
    return [text for m in HEADING.finditer(markup) if (text := plain(m.group(2) if m.group(2) is not None else m.group(3)))]


def charts(markup: str) -> list[dict]:
    """Each chart: its title's first line, the font sizes of its texts (SVG px) and its caption."""
    out = []
    for figure in FIGURE.finditer(markup):
        body = figure.group(1)
        texts = []
        for attrs, inner in SVG_TEXT.findall(body):
            size = re.search(r"font-size:\s*([\d.]+)px", attrs)
            if size and plain(inner):
                texts.append((plain(inner), float(size.group(1)), "font-weight: 700" in attrs or "bold" in attrs))
        bold = [t for t in texts if t[2]]
        caption = CAPTION.search(body)
        out.append(
            {
                "title": max(bold, key=lambda t: t[1])[0] if bold else "",
                "title_px": max(bold, key=lambda t: t[1])[1] if bold else 0.0,
                "smallest_px": min(t[1] for t in texts) if texts else 0.0,
                "view_box_width": float(VIEW_BOX.search(body).group(1)) if VIEW_BOX.search(body) else 0.0,
                "caption": plain(caption.group(1)) if caption else "",
            }
        )
    return out


# -- the tests -----------------------------------------------------------------------------------------
def test_every_report_of_every_example_is_printed(printed: dict[str, dict[str, Report]]) -> None:
    expected = {}
    for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
        engagement = read_engagement(path)
        expected[engagement.id] = sorted(applicable_workbooks(engagement))
    assert {name: sorted(reports) for name, reports in printed.items()} == expected
    assert sum(len(w) for w in expected.values()) >= 15  # three examples, from 3 to 7 reports each
    for reports in printed.values():
        for report in reports.values():
            assert report.pdf_path.read_bytes()[:5] == b"%PDF-"
            assert page_count(report.pdf_path) == len(report.pages) >= 1
            width, height = report.pdf[0].get_size()
            assert (round(width), round(height)) == (595, 842)  # A4 in points


def test_the_value_report_is_one_page(printed: dict[str, dict[str, Report]], measured: dict) -> None:
    pages = {name: len(reports["value_report"].pages) for name, reports in printed.items()}
    assert pages == dict.fromkeys(printed, 1)


def test_no_page_but_the_last_is_more_than_40_percent_empty(printed: dict[str, dict[str, Report]], measured: dict) -> None:
    too_empty = {
        report.name: {i + 1: round(page.emptiness, 2) for i, page in enumerate(report.pages[:-1]) if page.emptiness > MOST_EMPTY}
        for reports in printed.values()
        for report in reports.values()
    }
    assert {name: pages for name, pages in too_empty.items() if pages} == {}
    # The measure sees blank paper: a one-line last page counts as nearly empty, a full page as nearly full.
    last_pages = [r.pages[-1].emptiness for reports in printed.values() for r in reports.values()]
    all_pages = [p.emptiness for reports in printed.values() for r in reports.values() for p in r.pages]
    assert max(last_pages) > 0.5 and min(all_pages) < 0.1


def test_no_printed_text_is_smaller_than_8_pt(printed: dict[str, dict[str, Report]], measured: dict) -> None:
    small = {}
    for name, reports in printed.items():
        for workbook, report in reports.items():
            sizes = [(size, char) for page in report.pages for char, _, size, _ in page.printed()]
            assert len(sizes) > 200, f"{report.name}: the PDF has hardly any text"
            smallest = min(sizes)
            measured[name][workbook]["smallest_text_pt"] = round(smallest[0], 2)
            if smallest[0] < MIN_PT - PT_SLACK:
                small[report.name] = f"{smallest[1]!r} at {smallest[0]:.2f} pt"
    assert small == {}


def test_chart_text_prints_at_8_pt_or_more(printed: dict[str, dict[str, Report]], measured: dict) -> None:
    """Printed size = SVG font size x the scale the chart is printed at. The scale is read off the
    chart's title line as printed (its size in points over its SVG size), the smallest text is
    the SVG's; a chart whose title is not in the PDF as text fails."""
    problems, seen = {}, 0
    for name, reports in printed.items():
        for workbook, report in reports.items():
            smallest = []
            for chart in charts(report.html):
                assert chart["title"] and chart["view_box_width"] > 0, f"{report.name}: a chart without a title or viewBox"
                scales = [
                    page.chars[hit[0]][2] / chart["title_px"]
                    for page in report.pages
                    for hit in page.find(chart["title"], bold=True)
                ]
                if not scales:
                    problems[f"{report.name}: {chart['title']!r}"] = "title not printed as text"
                    continue
                seen += 1
                printed_pt = chart["smallest_px"] * min(scales)
                smallest.append(printed_pt)
                if printed_pt < MIN_PT - PT_SLACK:
                    problems[f"{report.name}: {chart['title']!r}"] = (
                        f"{chart['smallest_px']:g} px text prints at {printed_pt:.2f} pt"
                    )
            if smallest:
                measured[name][workbook]["smallest_chart_text_pt"] = round(min(smallest), 2)
    assert problems == {}
    assert seen >= 10  # the examples draw cash-flow, tornado, bar and KPI charts


def test_headings_are_never_alone_at_the_foot_of_a_page(printed: dict[str, dict[str, Report]]) -> None:
    alone, seen = [], 0
    for reports in printed.values():
        for report in reports.values():
            for text in set(headings(report.html)):
                key = " ".join(text.split()[:4])  # a long heading wraps; its first words are on its first line
                for number, page in enumerate(report.pages, start=1):
                    ink = page.printed()
                    for hit in page.find(key, bold=True):
                        seen += 1
                        bottom = min(page.chars[i][1][1] for i in hit)  # PDF y grows upwards
                        if number < len(report.pages) and not any(box[3] < bottom - 1 for _, box, _, _ in ink):
                            alone.append(f"{report.name} page {number}: {text!r}")
    assert alone == []
    assert seen >= 100  # the headings were found in the PDFs, so the check looked at them


def test_charts_are_printed_with_their_captions(printed: dict[str, dict[str, Report]]) -> None:
    split, seen = [], 0
    for reports in printed.values():
        for report in reports.values():
            flat = [page.flat_text() for page in report.pages]
            for chart in charts(report.html):
                if not chart["caption"]:
                    continue
                caption = "".join(chart["caption"].split())
                title = "".join(chart["title"].split())
                pages = [i for i, text in enumerate(flat) if caption in text]
                assert pages, f"{report.name}: the caption {chart['caption'][:60]!r} is not in the PDF"
                seen += 1
                split += [f"{report.name} page {i + 1}: {chart['caption'][:50]!r}" for i in pages if title not in flat[i]]
    assert split == []
    assert seen >= 10
