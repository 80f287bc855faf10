"""Capabilities linked to KPIs: ``initiative.capabilities[].outputs`` and ``kpis[].capability``; the brief lists
each capability's outputs and the KPIs that measure it, and names the changed capabilities no KPI measures."""

from __future__ import annotations

from pathlib import Path

import pytest

from csm_nb.method.kpis import kpis_by_capability, unmeasured_changes
from csm_nb.model import Kpi
from csm_nb.pages import engagement_brief
from csm_nb.run.service import import_engagements

FIXTURE = Path(__file__).parent / "fixtures" / "engagement_preparation.yaml"
EID = "prep-2019"

CAPS = [
    {"name": "Releasing Software Y", "change": "improve"},
    {"name": "Scrap reporting", "change": "create"},
    {"name": "Paper order forms", "change": "retire"},
    {"name": "Taking new orders", "change": "keep"},
    {"name": "Invoicing"},  # no change marked: not in the list of changes
]


@pytest.mark.parametrize(
    ("kpis", "unmeasured"),
    [
        ([], ["Releasing Software Y", "Scrap reporting", "Paper order forms"]),
        ([Kpi("r", capability="Releasing Software Y")], ["Scrap reporting", "Paper order forms"]),
        ([Kpi("t", capability="Taking new orders")], ["Releasing Software Y", "Scrap reporting", "Paper order forms"]),
        (
            [
                Kpi("r", capability="Releasing Software Y"),
                Kpi("s", capability="Scrap reporting"),
                Kpi("p", capability="Paper order forms"),
            ],
            [],
        ),
    ],
)
def test_changed_capabilities_without_a_kpi(kpis, unmeasured):
    assert unmeasured_changes(CAPS, kpis) == unmeasured


def test_each_capability_lists_the_kpis_that_measure_it_in_register_order():
    kpis = [
        Kpi("b", capability="Scrap reporting"),
        Kpi("a", capability="Releasing Software Y"),
        Kpi("c", capability="Scrap reporting"),
    ]
    found = {name: [k.id for k in ks] for name, ks in kpis_by_capability(CAPS, kpis).items()}
    assert found == {
        "Releasing Software Y": ["a"],
        "Scrap reporting": ["b", "c"],
        "Paper order forms": [],
        "Taking new orders": [],
        "Invoicing": [],
    }


@pytest.fixture
def brief(tmp_path: Path) -> engagement_brief.EngagementBriefPage:
    db = tmp_path / "store.sqlite"
    import_engagements([FIXTURE], db=db)
    # A results path means a headless run: the one-page brief, not the forms.
    return engagement_brief.open_page(EID, db=str(db), results_path=str(tmp_path / "brief.json"), as_of="2020-03-31")


def test_the_brief_lists_outputs_and_measuring_kpis(brief: engagement_brief.EngagementBriefPage):
    html = str(brief.capabilities_report())
    assert "Outputs" in html and "Measured by" in html
    assert "Upgrades of Software Y shipped to customers" in html and "Months between releases" in html
    assert "No KPI measures: Scrap reporting." in html  # created, with no KPI; "Taking new orders" is kept
    r = brief.results()
    assert {c["name"]: c["kpis"] for c in r["capabilities"]} == {
        "After-sales service": ["service-score"],
        "Making Product X": ["material-per-unit"],
        "Releasing Software Y": ["months-between-releases"],
        "Scrap reporting": [],
        "Taking new orders": [],
    }
    assert r["unmeasured_capabilities"] == ["Scrap reporting"]


def test_the_brief_escapes_capability_names(brief: engagement_brief.EngagementBriefPage):
    caps = brief.engagement.initiative["capabilities"]
    caps.append({"name": "<b>Bold</b> & co", "change": "create", "outputs": "<script>x</script>"})
    html = str(brief.capabilities_report())
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "No KPI measures: Scrap reporting, &lt;b&gt;Bold&lt;/b&gt; &amp; co." in html
