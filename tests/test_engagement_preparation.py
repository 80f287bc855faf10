"""The engagement-preparation method's three documented outcomes as a fixture
(``tests/fixtures/engagement_preparation.yaml``): it imports with ``csm-nb import``, and real ``progress``
and ``value_report`` runs give each KPI the status its path (or ceiling) says, read from the results files.

By hand (start 1 January 2019):

* service score, yearly, 60 -> 69 (+15 %) over 24 months: 64.5 after a year is (64.5 - 60) / 9 = 50 % of
  the way against a plan of 12 / 24 = 50 %: on plan;
* material per unit, monthly, 1.25 -> 1.0 kg (-20 %) by end December 2020 (23 + 30/31 months):
  month 6 at 1.2 is 20 % against 25.0 % planned (behind), month 12 at 1.125 is 50 % against 50.07 %
  (on plan), month 14 at 1.09 is 64 % against 58.4 % (ahead);
* months between releases, at most 6 from the start: 5 (within), 7 (breached), 5 (within).

Judged at 15 May 2020 the material figure for March 2020 (due 1 April, 10 days' grace) is overdue;
judged at 15 November 2019 the latest release gap is the breach, so the engagement is off track.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from csm_nb import cli
from csm_nb.data.store import Store

FIXTURE = Path(__file__).parent / "fixtures" / "engagement_preparation.yaml"
EID = "prep-2019"
MONTHS_TO_DEADLINE = 23 + 30 / 31  # 1 January 2019 to 31 December 2020


def test_it_imports_with_csm_nb_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "store.sqlite"
    assert cli.main(["--db", str(db), "import", str(FIXTURE)]) == 0
    assert capsys.readouterr().out.startswith(f"created {EID} (revision 1)")
    with Store.existing(str(db)) as store:
        e = store.load(EID)
    kpis = {k.id: k for k in e.kpis}
    assert {k: (v.target_type, v.deadline, v.capability) for k, v in kpis.items()} == {
        "service-score": (None, "24 months", "After-sales service"),
        "material-per-unit": (None, "end December 2020", "Making Product X"),
        "months-between-releases": ("stay_below", "immediate", "Releasing Software Y"),
    }
    assert [o.deadline for o in e.outcomes] == ["24 months", "end December 2020", "immediate"]
    assert len(e.measurements) == 9
    # The same file again changes nothing.
    assert cli.main(["--db", str(db), "import", str(FIXTURE)]) == 0
    assert capsys.readouterr().out.startswith(f"unchanged {EID} (revision 1)")


# -- real runs ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], dict]:
    """``csm-nb run`` of progress and value_report at two dates: (workbook, as_of) -> the results file."""
    base = tmp_path_factory.mktemp("engagement-preparation")
    db = str(base / "store.sqlite")
    assert cli.main(["--db", db, "import", str(FIXTURE)]) == 0
    found = {}
    for as_of in ("2019-11-15", "2020-05-15"):
        out = base / as_of
        for workbook in ("progress", "value_report"):
            code = cli.main(["run", workbook, "--engagement", EID, "--as-of", as_of, "--db", db, "--out", str(out)])
            assert code == 0
            found[workbook, as_of] = json.loads((out / EID / f"{workbook}.json").read_text(encoding="utf-8"))
            found[workbook, as_of]["html"] = (out / EID / f"{workbook}.html").read_text(encoding="utf-8")
    return found


@pytest.mark.slow
def test_progress_statuses_per_path_and_ceiling(runs) -> None:
    kpis = runs["progress", "2020-05-15"]["kpis"]
    service, material, releases = kpis["service-score"], kpis["material-per-unit"], kpis["months-between-releases"]
    assert (service["progress"], service["planned"], service["status"]) == ([0.0, 0.5], [0.0, 0.5], ["on_plan", "on_plan"])
    assert material["plan_periods"] == pytest.approx(MONTHS_TO_DEADLINE)
    assert material["progress"] == pytest.approx([0.0, 0.2, 0.5, 0.64])
    assert material["planned"] == pytest.approx([0.0, 6 / MONTHS_TO_DEADLINE, 12 / MONTHS_TO_DEADLINE, 14 / MONTHS_TO_DEADLINE])
    assert material["status"] == ["on_plan", "behind", "on_plan", "ahead"]
    assert (material["deadline"], material["target_type"]) == ("2020-12-31", "reach")
    # The ceiling: breached at the measurement of 7 months, within at the latest; no plan, no progress.
    assert releases["values"] == [5.0, 7.0, 5.0]
    assert releases["limit_status"] == ["within", "breached", "within"]
    assert releases["status"] == ["on_plan", "behind", "on_plan"]
    assert (releases["target_type"], releases["plan"], releases["progress"]) == ("stay_below", [], [None, None, None])
    assert releases["on_time"] is None
    # Stale: the March 2020 material figure was due 1 April; at 15 May it is overdue.
    assert runs["progress", "2020-05-15"]["measurement_overdue"] == ["material-per-unit"]
    assert (material["next_due"], material["overdue_from"], material["period"]) == ("2020-04-01", "2020-04-12", "March 2020")
    html = runs["progress", "2020-05-15"]["html"]
    assert "within the ceiling of 6 months" in html and "measurement overdue" in html


@pytest.mark.slow
def test_the_breach_as_the_latest_measurement(runs) -> None:
    kpis = runs["progress", "2019-11-15"]["kpis"]
    assert kpis["months-between-releases"]["limit_status"] == ["within", "breached"]
    assert kpis["material-per-unit"]["status"] == ["on_plan", "behind"]  # months 0 and 6 by then
    verdicts = runs["value_report", "2019-11-15"]["verdicts"]
    assert verdicts["overall"] == "off_track" and verdicts["outcomes"]["release-speed"] == "behind"
    actions = runs["value_report", "2019-11-15"]["actions"]
    assert "Agree corrective actions: Months between releases: 7 months, above the ceiling of 6 months." in actions
    # The month-6 figure (1 July 2019) was the last: the July figure was due 1 August, overdue from 12 August.
    assert "Ask Tomas Reyes for Material per unit of Product X's July 2019 figure (due 1 August 2019, now overdue)." in actions


@pytest.mark.slow
def test_the_value_report_reads_each_outcome(runs) -> None:
    r = runs["value_report", "2020-05-15"]
    assert {o["id"]: o["status"] for o in r["outcomes"]} == {
        "service-quality": "on_plan",
        "wastage-product-x": "ahead",
        "release-speed": "on_plan",
    }
    releases = next(o for o in r["outcomes"] if o["id"] == "release-speed")
    assert releases["basis"] == "measured by Months between releases: 5 months, within the ceiling of 6 months"
    assert r["overall"] == "on_track"
    assert (r["kpis"]["months-between-releases"]["limit"], r["kpis"]["months-between-releases"]["limit_status"]) == (
        6.0,
        "within",
    )
    assert (
        "Ask Tomas Reyes for Material per unit of Product X's March 2020 figure (due 1 April 2020, now overdue)." in r["actions"]
    )
    assert "Months between releases: 5 months, within the ceiling of 6 months" in r["html"]
