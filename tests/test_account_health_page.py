"""The account health page (csm_nb.pages.account_health) on the fixture engagements and on engagements
built here: what it shows, its results and index headline, the trend and history from a previous
run, a score not known yet, people's text escaped, and its charts laid out for A4."""

from __future__ import annotations

import datetime as dt
import html as html_mod
import json
from pathlib import Path

import pytest
from reading import plain
from test_chart_layout import layout_problems

from csm_nb.data.engagement import read_engagement
from csm_nb.errors import CsmError, InputError
from csm_nb.model import Engagement, Kpi, Measurement
from csm_nb.pages import account_health as page_mod
from csm_nb.render.charts import keep_figures
from csm_nb.render.gauge import band_gauge
from csm_nb.run.service import import_engagements

D = dt.date
FIXTURES = Path(__file__).parent / "fixtures" / "health"
PARTS = ("headline", "headline_figures", "gauge", "components_table", "drivers", "trend_part", "method_note")
RESULT_KEYS = {
    "workbook",
    "engagement",
    "as_of",
    "verdicts",
    "score",
    "band",
    "override",
    "override_reason",
    "phase",
    "components",
    "kpis",
    "drivers",
    "previous",
    "delta",
    "arrow",
    "band_change",
    "history",
    "settings",
    "trigger",
}


def fixture(name: str) -> Engagement:
    return read_engagement(FIXTURES / f"{name}.yaml")


def render(page: page_mod.AccountHealthPage) -> str:
    """The page's HTML as written (escaped)."""
    return plain("".join(str(getattr(page, p)()) for p in PARTS))


def read(page: page_mod.AccountHealthPage) -> str:
    """The page's text as a person reads it (entities back to characters)."""
    return html_mod.unescape(render(page))


def order_to_ship(previous: dict | None = None) -> page_mod.AccountHealthPage:
    return page_mod.page_for(fixture("order-to-ship"), None, as_of=D(2026, 7, 10), previous=previous)


def test_order_to_ship_results() -> None:
    results = order_to_ship().results_json()
    assert set(results) == RESULT_KEYS | {"audience"} and results["audience"] == "internal"
    assert (results["score"], results["band"], results["override"], results["as_of"]) == (72.7, "amber", False, "2026-07-10")
    known = {k: round(c["score"], 1) for k, c in results["components"].items() if c["known"]}
    assert known == {"outcome": 100.0, "leading": 57.2, "money": 47.3}
    assert {k: c["weight"] for k, c in results["components"].items()} == {
        "outcome": 3,
        "leading": 2,
        "money": 2,
        "onboarding": 1,
        "moments": 1,
        "relationship": 1,
        "customer_view": 1,
    }
    assert {k: round(v, 1) for k, v in results["kpis"].items()} == {
        "order-to-ship-days": 100.0,
        "picked-same-day": 100.0,
        "orders-waiting-stock": 14.4,
    }
    assert [d.split(" scores ")[0].rstrip(",") for d in results["drivers"]] == [
        "Open orders waiting on stock, leading KPI",
        "Money",
        "Early indicators",
    ]
    assert "€67,100 against €75,000 estimated (89.5 %)" in results["components"]["money"]["evidence"]
    assert results["previous"] == {"score": None, "band": None, "as_of": None} and results["delta"] is None
    assert results["history"] == [{"as_of": "2026-07-10", "score": 72.7}]
    assert results["trigger"] == {"band": "amber", "drop": 0.0, "score": 72.7}
    json.dumps(results)  # plain JSON


def test_the_report_shows_gauge_components_drivers_and_method() -> None:
    html = read(order_to_ship())
    assert (
        "Needs watching." in html
        and "Health 72.7 of 100, amber, at 10 Jul 2026, from outcomes, early indicators and money." in html
    )
    assert "This is the first run: the change shows from the next one." in html
    assert html.count("<svg") == 1  # the gauge; no history line from one run
    for text in ("Red: under 50", "Amber: 50 to under 75", "Green: 75 and over", "What the score is made of"):
        assert text in html, text
    assert "3 (43%)" in html and "1 (left out)" in html and "What pulls the score down" in html
    assert "19.1 points behind plan, and at the recent rate it misses its deadline" in html


def test_a_previous_run_gives_the_trend_history_and_a_second_triangle() -> None:
    previous = {
        "workbook": "account_health",
        "as_of": "2026-06-10",
        "score": 75.8,
        "band": "green",
        "history": [{"as_of": "2026-05-10", "score": 80.0}, {"as_of": "2026-06-10", "score": 75.8}],
    }
    page = order_to_ship(previous)
    results = page.results()
    assert (results["delta"], results["arrow"]) == (-3.1, "down")
    assert results["band_change"] == {"from": "green", "to": "amber"}
    assert results["previous"] == {"score": 75.8, "band": "green", "as_of": "2026-06-10"}
    assert [h["score"] for h in results["history"]] == [80.0, 75.8, 72.7]
    assert results["trigger"] == {"band": "amber", "drop": 3.1, "score": 72.7}
    html = read(page)
    assert "Down 3.1 points since the run of 10 Jun 2026, from green to amber." in html
    assert "The hollow triangle is the previous run's score, 75.8." in html
    assert html.count("<svg") == 2 and "Health score, run by run" in html
    figures = page_mod.AccountHealthPage.index_headline(results).figures
    assert {k: figures[k] for k in ("health", "health_band", "health_delta")} == {
        "health": 72.7,
        "health_band": "amber",
        "health_delta": -3.1,
    }


def test_a_previous_run_judged_later_is_not_compared_with() -> None:
    later = {"workbook": "account_health", "as_of": "2026-08-01", "score": 10.0, "band": "red"}
    results = order_to_ship(later).results()
    assert results["delta"] is None and results["previous"]["score"] is None and len(results["history"]) == 1


def test_reading_the_previous_results(tmp_path: Path) -> None:
    good = tmp_path / "account_health.json"
    good.write_text(json.dumps({"workbook": "account_health", "score": 70.0}), encoding="utf-8")
    other = tmp_path / "value_report.json"
    other.write_text(json.dumps({"workbook": "value_report", "score": 70.0}), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert page_mod.read_previous(good) == {"workbook": "account_health", "score": 70.0}
    for path in (other, broken, tmp_path / "missing.json", ""):
        assert page_mod.read_previous(path) is None


@pytest.mark.parametrize(
    ("name", "as_of", "score", "band"),
    [("employee-engagement", D(2027, 4, 5), 60.0, "amber"), ("ad-campaign", D(2026, 6, 1), 100.0, "green")],
)
def test_the_other_fixtures(name: str, as_of: dt.date, score: float, band: str) -> None:
    page = page_mod.page_for(fixture(name), None, as_of=as_of)
    assert (page.results()["score"], page.results()["band"]) == (score, band)
    assert page_mod.applies(fixture(name))


def test_nothing_known_says_so_and_never_shows_0() -> None:
    e = Engagement("blank", "Blank Ltd", kpis=[Kpi("k", kind="lagging", baseline=0, target=1, deadline="10 months")])
    assert not page_mod.applies(e)
    page = page_mod.page_for(e, None, as_of=D(2027, 4, 5))
    results = page.results()
    assert (results["score"], results["band"], results["kpis"], results["drivers"], results["trigger"]) == (
        None,
        None,
        {},
        [],
        None,
    )
    html = read(page)
    assert "Health not known yet." in html and "Not known yet" in html and "0.0" not in html
    headline = page_mod.AccountHealthPage.index_headline(results)
    assert "health" not in headline.figures and headline.summary.startswith("Health not known yet")


def test_text_from_people_is_escaped() -> None:
    e = Engagement(
        "esc",
        "<script>alert(1)</script> & Co",
        kpis=[
            Kpi(
                "k",
                name="<b>Orders</b>",
                kind="lagging",
                baseline=0,
                target=100,
                start="2027-01-01",
                deadline="10 months",
                frequency="monthly",
            )
        ],
        measurements=[Measurement("k", 0, 0), Measurement("k", 3, 5)],
    )
    html = render(page_mod.page_for(e, None, as_of=D(2027, 4, 5)))
    assert "<b>Orders</b>" not in html and "&lt;b&gt;Orders&lt;/b&gt;" in html
    e.measurements = []  # nothing known: the callout names the customer
    html = render(page_mod.page_for(e, None, as_of=D(2027, 4, 5)))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html


def test_bad_settings_are_refused_in_one_line() -> None:
    with pytest.raises(InputError, match=r"^parameter tolerance: expected"):
        page_mod.page_for(fixture("order-to-ship"), None, as_of=D(2026, 7, 10), tolerance=2)
    e = fixture("order-to-ship")
    e.health = {"bands": {"red": 90, "green": 80}}
    with pytest.raises(CsmError, match=r"health\.bands: expected red at or below green") as info:
        page_mod.page_for(e, None, as_of=D(2026, 7, 10))
    assert "\n" not in str(info.value)
    assert page_mod.applies(e)  # the page is run, and says what is wrong


def test_the_index_headline_of_empty_results_is_empty() -> None:
    headline = page_mod.AccountHealthPage.index_headline({})
    assert headline.figures == {} and headline.summary == ""


def test_open_page_reads_the_store_and_the_previous_results(tmp_path: Path) -> None:
    db = tmp_path / "store.sqlite"
    import_engagements([FIXTURES / "employee-engagement.yaml"], db=db)
    previous = tmp_path / "account_health.json"
    previous.write_text(
        json.dumps({"workbook": "account_health", "as_of": "2027-03-05", "score": 58.5, "band": "amber"}), encoding="utf-8"
    )
    page = page_mod.open_page("employee-engagement", db=str(db), as_of="2027-04-05", previous_results_path=str(previous))
    results = page.results()
    assert (results["score"], results["delta"], results["arrow"], results["band_change"]) == (60.0, 1.5, "up", None)
    with pytest.raises(InputError, match="previous_results_path"):
        page_mod.open_page("employee-engagement", db=str(db), previous_results_path=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "previous",
    [
        None,
        {
            "workbook": "account_health",
            "as_of": "2026-06-10",
            "score": 75.8,
            "band": "green",
            "history": [{"as_of": "2026-05-10", "score": None}, {"as_of": "2026-06-10", "score": 75.8}],
        },
    ],
)
def test_the_charts_read_on_a4(previous: dict | None) -> None:
    page = order_to_ship(previous)
    with keep_figures() as kept:
        page.gauge()
        page.trend_part()
    assert len(kept) == (2 if previous else 1)
    for chart, fig in kept:
        assert layout_problems(chart, fig) == [], chart.title


@pytest.mark.parametrize(
    "options",
    [
        {"score": 0.0},
        {"score": 100.0, "previous": 99.5},
        {"score": None},
        {"score": 3.0, "previous": 97.0},
        {"score": 52.0, "bands": {"red": 48, "green": 55}},  # a narrow amber band: its name only
        {"score": 60.0, "bands": {"red": 0, "green": 100}},  # amber only
        {"score": 74.9, "previous": 75.0, "width": 460},  # half width
    ],
)
def test_the_gauge_reads_on_a4_at_its_edges(options: dict) -> None:
    with keep_figures() as kept:
        chart = band_gauge(title="Health score, 5 Apr 2027", **options)
    assert layout_problems(*kept[0]) == []
    score = options["score"]
    assert (f"{score:.1f}" in chart.svg) if score is not None else ("Not known yet" in chart.svg)
    assert chart.svg.count('class="previous"') == (1 if "previous" in options else 0)
