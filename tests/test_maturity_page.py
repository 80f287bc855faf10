"""The maturity page in-process (csm_nb.pages.maturity): the acceptance figures from the store with
peers, the parts it draws (escaped, customer-safe), a page judged later, and what applies."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from csm_nb.model import Engagement
from csm_nb.pages import maturity
from csm_nb.run.service import import_engagements

EID = "northwind-maturity"
FIXTURES = Path(__file__).parent / "fixtures" / "maturity"
FILES = [
    FIXTURES / n
    for n in ("five-levels.yaml", "northwind.yaml", "peer-a.yaml", "peer-b.yaml", "peer-c.yaml", "peer-d.yaml", "other-tag.yaml")
]
PARTS = (
    "headline",
    "headline_figures",
    "ladder",
    "index_over_time",
    "gaps",
    "strengths",
    "since_day_one",
    "peers_part",
    "metrics_table",
    "plan_part",
    "segments_part",
)
CUSTOMER_UNSAFE = ("Account health", "health score", "Readiness", "readiness", "Influence", "influence", "Win over")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("maturity") / "store.sqlite"
    import_engagements(FILES, db=path)
    return path


def test_day_one_gives_the_acceptance_figures(db: Path) -> None:
    r = maturity.open_page(EID, db=str(db), as_of="2026-04-30").results()
    assert [round(r["level_shares"][k], 3) for k in "2345"] == [0.833, 0.5, 0.5, 0.0]
    assert (r["level"], r["index"]) == (2, 2.5)
    assert [g["id"] for g in r["gaps"]] == ["b3b", "b3c"] and [s["id"] for s in r["strengths"]] == ["b4a"]
    assert r["peers"]["n"] == 4 and r["peers"]["median"] == 2.5 and r["peers"]["share_below"] == 0.5  # other-tag is no peer
    assert r["day1"] == {"date": "2026-01-15", "level": 2, "index": 2.5}
    assert r["plan"]["target_level"] == 3 and r["plan"]["warnings"] == [] and r["plan"]["on_course"] is False
    assert [s["id"] for s in r["segments"]] == ["finance-link-missing"]
    assert r["metrics"] == [
        {
            "id": "lead-conversion",
            "name": "Lead conversion",
            "unit": "%",
            "direction": "increase",
            "baseline": 4.0,
            "latest": 4.0,
            "target": 5.0,
            "peer_median": (4.2 + 4.8) / 2,  # the four peers' 3.0, 4.2, 4.8 and 6.0
        }
    ]


def test_judged_later_the_customer_is_at_level_3_and_leaves_the_segment(db: Path) -> None:
    r = maturity.open_page(EID, db=str(db), as_of="2026-06-30").results()
    assert (r["level"], r["index"], r["progress"]) == (3, 3.5, 1.0)
    assert r["plan"]["on_course"] is True and r["segments"] == []
    assert r["day1"]["index"] == 2.5 and [h["index"] for h in r["history"]] == [2.5, 3.5]


def test_a_peer_tag_parameter_chooses_other_peers(db: Path) -> None:
    r = maturity.open_page(EID, db=str(db), as_of="2026-04-30", peer_tag="enterprise").results()
    assert (r["peers"]["n"], r["peers"]["median"], r["peers"]["share_below"]) == (1, 1.0, 1.0)


def test_every_part_draws_and_stays_customer_safe(db: Path) -> None:
    page = maturity.open_page(EID, db=str(db), as_of="2026-04-30")
    html = "".join(str(getattr(page, p)()) for p in PARTS)
    text = re.sub(r"<[^>]+>", " ", html).replace("\xa0", " ")
    assert "level 2 (Stated) of 5, index 2.5" in text
    assert html.count("<svg") == 2 and "threshold 80 %" in html
    assert "The financial link agreed with finance" in text and "Financial linkage" in text
    assert "median index 2.5" in text and "50 % of them are below" in text
    assert "Agree the financial link and its sources with finance" in text
    assert not any(word in html for word in CUSTOMER_UNSAFE)


def test_people_text_is_escaped(db: Path) -> None:
    page = maturity.open_page(EID, db=str(db), as_of="2026-04-30")
    page.plan = {**page.plan, "actions": [{"action": "<script>alert(1)</script>", "owner": "A & B"}]}
    html = str(page.plan_part())
    assert "<script>" not in html and "&lt;script&gt;" in html and "A &amp; B" in html


def test_a_two_level_plan_warns(db: Path) -> None:
    page = maturity.open_page(EID, db=str(db), as_of="2026-04-30")
    page.engagement.maturity["plan"]["target_level"] = 4
    page.__post_init__()
    assert any("two levels in one plan" in w for w in page.results()["plan"]["warnings"])
    assert "two levels in one plan" in str(page.plan_part())


def test_applies_and_the_index_headline() -> None:
    assert not maturity.MaturityPage.applies(Engagement("x", "X"))
    assert not maturity.MaturityPage.applies(Engagement("x", "X", maturity={"model": "value-measurement", "assessments": []}))
    assert maturity.MaturityPage.applies(Engagement("x", "X", maturity={"model": "m", "assessments": [{"date": "2026-01-01"}]}))
    h = maturity.MaturityPage.index_headline({"level": 3, "index": 3.5, "day1": {"date": "2026-01-15", "index": 2.5}})
    assert h.figures["maturity_level"] == 3 and h.summary == "Level 3, index 3.5 (+1 since 2026-01-15)."


def test_a_plan_agreed_at_the_last_review_is_judged_from_the_level_held_then(tmp_path: Path) -> None:
    """The example: day 1 at level 1, the November review at level 2, a plan to level 3. The plan is one level
    up from where the customer stood when it was agreed, so no "two levels in one plan" warning; judged after
    the target is reached, it is not refused after the fact either."""
    from conftest import store_with_example

    db = store_with_example(tmp_path / "s.sqlite")
    r = maturity.open_page("employee-engagement", db=str(db), as_of="2026-12-04").results()
    assert (r["day1"]["level"], r["level"], r["index"], r["plan"]["target_level"]) == (1, 2, 2.5, 3)
    assert (r["plan"]["warnings"], r["plan"]["refused"]) == ([], [])
    from csm_nb.data.maturity_model import builtin_maturity_model
    from csm_nb.data.store import Store

    with Store(db) as store:
        e = store.load("employee-engagement")
    e.maturity["assessments"].append(
        {
            "date": "2026-12-01",
            "observed": {**e.maturity["assessments"][-1]["observed"], "kpis-owned-monthly": "yes", "plan-per-kpi": "yes"},
        }
    )
    later = maturity.MaturityPage(e, builtin_maturity_model("value-measurement"), dt.date(2026, 12, 4))
    assert later.now.level == 3 and (later.checks.refused, later.checks.warnings) == ([], [])
