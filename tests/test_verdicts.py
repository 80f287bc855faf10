"""One verdict for each fact (csm_nb.method.verdicts): the rule itself, and the same words in every
report, the engagement index, the portfolio index and summary.json for each example engagement."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_nb.method.verdicts import outcome_basis, overall_verdict, verdicts, worst_status
from csm_nb.vocabulary import KPI_STATUSES, MONEY_VERDICTS, OVERALL_VERDICTS


# -- the rule ---------------------------------------------------------------------------------
@dataclass
class _Kpi:
    id: str
    outcome: str | None
    kind: str | None


@dataclass
class _Tracked:
    """Just what the rule reads of a tracked KPI (csm_nb.method.progress.KpiProgress)."""

    kpi: _Kpi
    status: list[str]
    on_time: bool | None = True

    @property
    def measured(self) -> bool:
        return bool(self.status)


def kp(kind: str | None, status: str | None, *, on_time: bool | None = True, outcome: str = "o1", kid: str = "k") -> _Tracked:
    return _Tracked(_Kpi(kid, outcome, kind), [status] if status else [], on_time if status else None)


@pytest.mark.parametrize(
    ("tracked", "money", "problems", "expected"),
    [
        ([], None, {}, "not_started"),
        ([], "not_started", {}, "not_started"),
        ([kp("lagging", None)], "not_started", {}, "not_started"),
        ([], "on_track", {}, "on_track"),
        ([], "within_band", {}, "attention"),
        ([], "behind", {}, "attention"),
        ([kp("lagging", "on_plan")], None, {}, "on_track"),
        ([kp("lagging", "ahead"), kp("leading", "behind")], "on_track", {}, "attention"),
        ([kp("lagging", "ahead"), kp("leading", "on_plan", on_time=False)], None, {}, "attention"),
        ([kp("lagging", "behind"), kp("leading", "ahead")], "on_track", {}, "off_track"),
        ([kp(None, "behind")], None, {}, "off_track"),  # no kind counts as lagging
        ([kp("lagging", "ahead", on_time=False)], "on_track", {}, "off_track"),
        ([kp("lagging", "on_plan")], "on_track", {"k2": "no baseline"}, "attention"),
        ([kp("lagging", "on_plan")], "behind", {}, "attention"),
    ],
)
def test_overall_verdict_follows_the_documented_rule(tracked, money, problems, expected) -> None:
    assert overall_verdict(tracked=tracked, money=money, problems=problems) == expected


statuses = st.sampled_from(["ahead", "on_plan", "behind", None])


@given(
    st.lists(st.tuples(st.sampled_from(["lagging", "leading", None]), statuses, st.booleans()), max_size=6),
    st.sampled_from([None, "not_started", "on_track", "within_band", "behind"]),
    st.booleans(),
)
def test_overall_verdict_properties(rows, money, has_problem) -> None:
    tracked = [kp(kind, status, on_time=on_time, kid=f"k{i}") for i, (kind, status, on_time) in enumerate(rows)]
    problems = {"kx": "cannot track"} if has_problem else {}
    found = overall_verdict(tracked=tracked, money=money, problems=problems)
    measured = [t for t in tracked if t.measured]
    lagging_bad = any((t.kpi.kind or "lagging") == "lagging" and (t.status[-1] == "behind" or not t.on_time) for t in measured)
    # An outcome's evidence decides "off track"; nothing else can make it so.
    assert (found == "off_track") == (bool(measured or money not in (None, "not_started")) and lagging_bad)
    # "On track" only when nothing at all is behind, late, short of money or untrackable.
    if found == "on_track":
        assert all(t.status[-1] != "behind" and t.on_time for t in measured)
        assert money in (None, "not_started", "on_track") and not problems
    # Adding a money shortfall never makes the verdict better.
    order = ["on_track", "attention", "off_track"]
    worse = overall_verdict(tracked=tracked, money="behind", problems=problems)
    if found in order:
        assert order.index(worse) >= order.index(found)


def test_an_outcome_rests_on_its_lagging_kpis_once_they_are_measured() -> None:
    early = [kp("leading", "behind", kid="lead"), kp("lagging", None, kid="lag")]
    basis, lagging = outcome_basis("o1", early)
    assert ([t.kpi.id for t in basis], lagging) == (["lead"], False)
    later = [kp("leading", "behind", kid="lead"), kp("lagging", "ahead", kid="lag")]
    basis, lagging = outcome_basis("o1", later)
    assert ([t.kpi.id for t in basis], lagging) == (["lag"], True)
    found = verdicts(outcome_ids=["o1", "o2"], tracked=later, money=None, problems={})
    assert found.outcomes == {"o1": "ahead", "o2": None}
    assert found.kpis == {"lead": "behind", "lag": "ahead"}
    assert found.overall == "attention"  # the leading KPI behind is a point to watch
    assert worst_status(["on_plan", "ahead"]) == "on_plan"


# -- the same words everywhere ------------------------------------------------------------------
class _Text(HTMLParser):
    """The text a reader sees (no style, script or title), and each table row's cells."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.rows: list[list[str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in ("style", "script", "title")
        if tag in ("p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "figcaption", "section"):
            self.parts.append(" ")
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)
            if self.rows and self.rows[-1]:
                self.rows[-1][-1] += data


def _parse(path: Path) -> _Text:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def seen(path: Path) -> str:
    return re.sub(r"\s+", " ", "".join(_parse(path).parts).replace("\xa0", " "))


def row_of(path: Path, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell starts with ``first_cell``."""
    return next(r for r in _parse(path).rows if r and r[0].strip().startswith(first_cell))


def without(text: str, phrase: str) -> str:
    """The text with every ``phrase`` taken out, so a longer verdict is not found inside another."""
    return re.sub(re.escape(phrase), "", text, flags=re.IGNORECASE)


@pytest.fixture(scope="module")
def portfolio_of_examples(rendered_examples, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The examples run as a portfolio of every workbook: its run folder (index.html, summary.json)."""
    from csm_nb.run.portfolio import run_portfolio

    out = tmp_path_factory.mktemp("verdict-portfolio")
    run_portfolio(db=rendered_examples["db"], out=out, label="all", workbooks=["cash_flow", "progress"])
    return out / "all"


@pytest.mark.parametrize("engagement_id", ["ad-campaign", "employee-engagement", "order-to-ship"])
def test_every_report_the_indexes_and_summary_use_the_same_verdict_words(
    rendered_examples, portfolio_of_examples: Path, engagement_id: str
) -> None:
    folder = rendered_examples["out"] / engagement_id
    results = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")}
    assert {"value_report", "cash_flow", "engagement_brief"} <= set(results)
    # Computed once: every results file carries the same verdicts.
    found = {name: r["verdicts"] for name, r in results.items()}
    first = found["value_report"]
    assert all(v == first for v in found.values()), found
    assert results["value_report"]["overall"] == first["overall"]
    assert results["cash_flow"]["verdict"] == first["money"]
    assert {o["id"]: o["status"] for o in results["value_report"]["outcomes"]} == first["outcomes"]

    overall, money = OVERALL_VERDICTS[first["overall"]], MONEY_VERDICTS[first["money"]]
    texts = {p.stem: seen(p) for p in folder.glob("*.html")}
    # The value report opens with the overall verdict; the cash flow and value report give the money's.
    assert overall.title in texts["value_report"]
    assert money.words in texts["value_report"].lower()
    assert money.words in texts["cash_flow"].lower()
    for name, text in texts.items():
        others = [v for k, v in OVERALL_VERDICTS.items() if k != first["overall"]]
        assert not [v.title for v in others if v.title in text], name  # no other overall verdict anywhere
        rest = without(text, money.in_sentence) if money.phrase else text
        rest = without(rest, money.words)
        wrong = [v.words for k, v in MONEY_VERDICTS.items() if k != first["money"] and v.words in rest.lower()]
        assert not wrong, (name, wrong)
    # Each KPI's status: the same words in the progress report's and the value report's rows.
    for kpi_id, status in first["kpis"].items():
        if status is None:
            continue
        name = results["value_report"]["kpis"][kpi_id]["name"]
        for report in ("progress", "value_report"):
            cells = [c.strip() for c in row_of(folder / f"{report}.html", name)]
            said = [c for c in cells if c in [v.words for v in KPI_STATUSES.values()]]
            assert said == [KPI_STATUSES[status].words], (report, kpi_id, cells)

    # The engagement's index, the portfolio's index (which ran other workbooks) and summary.json agree.
    assert overall.words in seen(folder / "index.html").lower()
    summary = json.loads((portfolio_of_examples / "summary.json").read_text(encoding="utf-8"))
    entry = next(e for e in summary["engagements"] if e["engagement_id"] == engagement_id)
    assert entry["verdicts"] == {
        "overall": first["overall"],
        "overall_words": overall.words,
        "money": first["money"],
        "money_words": money.words,
    }
    index = seen(portfolio_of_examples / "index.html")
    row = re.search(re.escape(entry["customer"]) + r".{0,600}", index)
    assert row and overall.words in row.group(0).lower()
