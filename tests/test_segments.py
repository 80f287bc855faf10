"""Behavioural segments in a portfolio run (``csm_nb.run.segments``): each engagement's maturity
results name the segments it is in; summary.json and the index list, per segment, the content to send
and the customers to send it to, and nobody else."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest

from csm_nb import cli
from csm_nb.run.segments import segments

FIXTURES = Path(__file__).parent / "fixtures" / "maturity"


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ({}, []),
        ({"a": {"segments": []}, "b": {}}, []),
        (
            {
                "b": {"segments": [{"id": "s", "name": "S", "content": "Guide"}, {"id": "t", "name": "T", "content": None}]},
                "a": {"segments": [{"id": "t", "name": "T", "content": None}]},
            },
            [("t", ["a", "b"]), ("s", ["b"])],  # a comes first, and with it t
        ),
    ],
)
def test_segments_gather_engagements_per_segment_in_the_order_first_met(results: dict, expected: list) -> None:
    assert [(s["id"], [e["id"] for e in s["engagements"]]) for s in segments(results)] == expected


def _segment_rows(index: str) -> list[list[str]]:
    section = re.search(r'<section class="segments">(.*?)</section>', index, flags=re.DOTALL)
    assert section is not None
    rows = re.findall(r"<tr><td>(.*?)</td></tr>", section.group(1), flags=re.DOTALL)
    return [[unescape(cell) for cell in re.split(r"</td><td[^>]*>", row)] for row in rows]


@pytest.mark.slow
def test_a_portfolio_run_lists_each_segment_with_its_content_and_customers(tmp_path: Path) -> None:
    """In April the acceptance customer (Northwind) has not agreed the financial link (b3b partly) and its
    lead conversion is where it was on day one, so it is in the model's segment with its peers who also lack
    b3b; by the end of June it has b3b and a better conversion, and has left the segment."""
    db = tmp_path / "store.sqlite"
    assert cli.main(["--db", str(db), "import", *map(str, sorted(FIXTURES.glob("*.yaml")))]) == 0
    runs = tmp_path / "runs"
    base = ["--db", str(db), "portfolio", "--workbooks", "maturity", "--out", str(runs), "--quiet"]
    assert cli.main([*base, "--as-of", "2026-04-30", "--label", "april"]) == 0
    assert cli.main([*base, "--as-of", "2026-06-30", "--label", "june"]) == 0
    found = {}
    for label in ("april", "june"):
        summary = json.loads((runs / label / "summary.json").read_text(encoding="utf-8"))
        per_engagement = {
            p.parent.name: [s["id"] for s in json.loads(p.read_text(encoding="utf-8"))["segments"]]
            for p in (runs / label).glob("*/maturity.json")
        }
        members = sorted(e for e, ids in per_engagement.items() if "finance-link-missing" in ids)
        listed = {s["id"]: s for s in summary.get("segments", [])}
        if members:
            segment = listed["finance-link-missing"]
            assert [e["id"] for e in segment["engagements"]] == members  # exactly the reports that say so
            assert segment["content"].startswith("Our guide to agreeing the financial link")
            rows = _segment_rows((runs / label / "index.html").read_text(encoding="utf-8"))
            assert rows[0][0] == "Financial link not agreed" and rows[0][2] == str(len(members))
            assert set(rows[0][3].split(", ")) == {segment_entry["customer"] for segment_entry in segment["engagements"]}
        else:
            assert "finance-link-missing" not in listed
        found[label] = members
    assert "northwind-maturity" in found["april"] and "northwind-maturity" not in found["june"]
