"""The page contract, the workbook registry, the one engine behind ``run``/``report``/``portfolio``,
the portfolio summary as a table (summary.csv) and the error tree.

The one slow test renders the advertising example twice, once with ``csm-nb report`` and once
with ``csm-nb portfolio``, and compares what a reader gets.
"""

from __future__ import annotations

import ast
import asyncio
import csv
import inspect
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import csm_nb
from csm_nb import cli, errors
from csm_nb.pages.base import Page, money_figures
from csm_nb.render.index import Headline
from csm_nb.run import engine, portfolio, registry
from csm_nb.run.parameters import declared_parameters, parameter_help, workbook_notebook
from csm_nb.run.service import import_engagements

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(csm_nb.__file__).parent


# -- the registry and the page contract ---------------------------------------------------------
def test_the_registry_lists_every_workbook_in_order_with_its_notebook_and_page() -> None:
    assert [e.id for e in registry.WORKBOOKS] == [
        "engagement_brief",
        "outcome_discovery",
        "kpi_workshop",
        "financial_linkage",
        "cash_flow",
        "progress",
        "value_report",
        "engagement_plan",
        "account_health",
        "stakeholder_map",
        "success_plan",
        "renewal_prep",
        "csm_activities",
        "maturity",
        "customer_jobs",
        "customer_pulse",
    ]
    assert list(registry.workbooks()) == [e.id for e in registry.WORKBOOKS]  # nothing else in workbooks/
    for number, entry in enumerate(registry.WORKBOOKS, start=1):
        assert entry.notebook == f"{number:02d}_{entry.id}.ipynb" and (ROOT / "workbooks" / entry.notebook).is_file()
        assert entry.page is not None and entry.page.WORKBOOK == entry.id and entry.title == entry.page.TITLE


@pytest.mark.parametrize("entry", registry.WORKBOOKS, ids=lambda e: e.id)
def test_a_page_never_creates_a_store_at_a_mistyped_path(entry, tmp_path: Path) -> None:
    """What papermill with a mistyped ``-p db`` did: an empty store made, then "no engagement"."""
    missing = tmp_path / "tpyo" / "store.sqlite"
    with pytest.raises(errors.NotFoundError) as info:
        entry.page.open("ad-campaign", db=str(missing))
    assert str(missing) in str(info.value) and "csm-nb import" in str(info.value)
    assert not missing.exists() and not missing.parent.exists()


@pytest.mark.parametrize("entry", registry.WORKBOOKS, ids=lambda e: e.id)
def test_every_page_follows_the_contract(entry) -> None:
    page = entry.page
    assert issubclass(page, Page) and not inspect.isabstract(page)
    assert page.AUDIENCE in ("customer", "internal") and page.TITLE and page.TITLE[0].isupper()
    # One save_results for all: no page (nor a class between it and Page) has its own.
    assert [c.__name__ for c in page.__mro__ if "save_results" in vars(c)] == ["Page"]
    assert callable(page.applies) and callable(page.open)
    assert isinstance(page.index_headline({}), Headline)
    # The page's module names the page, and nothing else finds it.
    assert inspect.getmodule(page).__name__ == f"csm_nb.pages.{entry.id}"


@pytest.mark.parametrize("entry", registry.WORKBOOKS, ids=lambda e: e.id)
def test_every_workbook_takes_as_of_in_its_parameters_and_its_page(entry) -> None:
    """``as_of = ""`` with its help in the notebook's parameters cell, passed to ``open_page``, which takes it."""
    workbook = registry.get_workbook(entry.id)
    assert declared_parameters(workbook)["as_of"] == ""
    help_text = parameter_help(workbook, "as_of")
    assert "judged at" in help_text and help_text.endswith("empty means today")
    opening = "".join(c.source for c in workbook_notebook(workbook).cells if "open_page(" in c.source)
    assert "as_of=as_of" in opening
    signature = inspect.signature(inspect.getmodule(entry.page).open_page)
    assert signature.parameters["as_of"].default == ""


def test_only_the_value_report_leads_the_index() -> None:
    assert [e.id for e in registry.WORKBOOKS if e.page.LEADS_INDEX] == ["value_report"]


def test_no_orchestrator_names_a_workbook_or_imports_a_page() -> None:
    """The index pages and the portfolio ask a page through the contract; they never branch on a workbook id."""
    ids = {e.id for e in registry.WORKBOOKS}
    for module in ("render/index.py", "run/portfolio.py", "run/service.py", "run/engine.py"):
        source = (PACKAGE / module).read_text(encoding="utf-8")
        tree = ast.parse(source)
        compared = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Compare)
            for c in [n.left, *n.comparators]
            if isinstance(c, ast.Constant) and c.value in ids
        ]
        assert not compared, f"{module} compares with a workbook id"
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        }
        assert not {m for m in imported if m and (m.startswith("csm_nb.pages") or m == "importlib")}, module


def test_a_notebook_outside_the_registry_still_runs_as_a_workbook_without_a_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSM_NB_WORKBOOKS", str(ROOT / "tests" / "fixtures" / "workbooks"))
    found = registry.workbooks()
    assert list(found) == ["tiny_report"] and found["tiny_report"].page is None
    assert found["tiny_report"].title == "Tiny report"
    code = registry.warm_up_code(["tiny_report", "cash_flow"]).splitlines()
    assert [line for line in code if "csm_nb.pages" in line] == ["import csm_nb.pages.cash_flow"]
    assert registry.warm_up_code(["tiny_report"]) == "import csm_nb.run.kernel"


# -- headlines ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ({}, {}),
        ({"overall": "attention"}, {}),
        (
            {"profit_est": 10.0, "profit_act": None, "net_roi_est": 0.1},
            {"profit": 10.0, "roi": 0.1, "roi_kind": "net_roi", "estimated": True},
        ),
        (
            {
                "profit_est": 10.0,
                "profit_act": -5.0,
                "headline_roi": "return_on_cost",
                "return_on_cost_act": 0.9,
                "payback_period_act": None,
            },
            {"profit": -5.0, "roi": 0.9, "roi_kind": "return_on_cost", "estimated": False},
        ),
        (
            {"financial": {"profit_est": 3.0, "roi_est": 0.2, "payback_period_est": "Month 2"}},
            {"profit": 3.0, "roi": 0.2, "roi_kind": "net_roi", "payback": "Month 2", "estimated": True},
        ),
    ],
)
def test_money_figures(results: dict, expected: dict) -> None:
    assert money_figures(results) == expected


@given(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)), st.floats(allow_nan=False, allow_infinity=False))
def test_money_figures_use_actuals_exactly_when_they_are_known(actual: float | None, estimate: float) -> None:
    figures = money_figures({"profit_est": estimate, "profit_act": actual})
    assert figures["estimated"] is (actual is None)
    assert figures["profit"] == (estimate if actual is None else actual)


def test_a_headline_survives_the_summary_json() -> None:
    head = Headline(verdict="attention", tone="warn", words="needs attention", summary="2 actions", figures={"profit": 1.5})
    assert Headline.from_json(json.loads(json.dumps(head.as_json()))) == head
    assert Headline.from_json(None) == Headline() == Headline.from_json({})


# -- parameters through papermill's inspection -------------------------------------------------------------
@pytest.mark.parametrize(
    ("workbook", "name", "starts"),
    [
        ("cash_flow", "discount_rate", "discount rate per period for NPV and IRR"),
        ("cash_flow", "headline_roi", "which return leads"),
        ("value_report", "previous_results_path", ""),
        ("cash_flow", "no_such_parameter", ""),
    ],
)
def test_parameter_help_is_papermills_comment_without_its_help_prefix(workbook: str, name: str, starts: str) -> None:
    text = parameter_help(registry.get_workbook(workbook), name)
    assert not text.startswith("help") and text.startswith(starts)
    if starts:
        assert len(text) > len(starts)


# -- one engine: report and portfolio share the path -------------------------------------------------------
@pytest.fixture
def ad_campaign(tmp_path: Path) -> Path:
    db = tmp_path / "store.sqlite"
    import_engagements([ROOT / "examples" / "ad-campaign.yaml"], db=db)
    return db


def _spy_on_run_jobs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    calls: list[tuple[str, list[str]]] = []
    real = engine.run_jobs

    async def spy(engagement, jobs, **options):
        calls.append((engagement.id, [j.workbook.id for j in jobs]))
        return await real(engagement, jobs, **options)

    monkeypatch.setattr(engine, "run_jobs", spy)
    return calls


def test_report_and_portfolio_go_through_run_jobs_and_load_the_engagement_once(
    ad_campaign: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without kernels: ``run_job`` is replaced, so what is checked is who calls what, and how often."""
    loads: list[str] = []
    real_load = engine.Store.load

    def counting_load(self, engagement_id):
        loads.append(engagement_id)
        return real_load(self, engagement_id)

    async def fake_run_job(engagement, job, *, kernels, out_dir, db_file, cell_timeout):
        await asyncio.sleep(0)
        raise errors.RunError(f"not run: {job.workbook.id}")

    class NoKernels:
        start_times: list[float] = []
        fork = False
        cpu: dict[str, float] = {}

        def __init__(self, **options): ...

        async def __aenter__(self):
            return self

        async def __aexit__(self, *exc): ...

    calls = _spy_on_run_jobs(monkeypatch)
    monkeypatch.setattr(engine, "run_job", fake_run_job)
    monkeypatch.setattr(engine, "KernelPool", NoKernels)
    monkeypatch.setattr(portfolio, "KernelPool", NoKernels)
    monkeypatch.setattr(engine, "preload", lambda: None)
    monkeypatch.setattr(portfolio, "preload", lambda: None)
    monkeypatch.setattr(engine.Store, "load", counting_load)

    assert cli.main(["--db", str(ad_campaign), "report", "--engagement", "ad-campaign", "--out", str(tmp_path / "r")]) == 1
    applicable = ["engagement_brief", "cash_flow", "value_report", "engagement_plan", "account_health", "stakeholder_map"]
    applicable += ["success_plan", "renewal_prep", "csm_activities"]
    assert calls == [("ad-campaign", applicable)]
    assert loads == ["ad-campaign"]  # once for the engagement, not once a workbook
    calls.clear()
    loads.clear()
    assert (
        cli.main(
            [
                "--db",
                str(ad_campaign),
                "portfolio",
                "--engagement",
                "ad-campaign",
                "--out",
                str(tmp_path / "p"),
                "--workbooks",
                "engagement_brief,cash_flow,value_report",
                "--quiet",
            ]
        )
        == 3
    )
    assert calls == [("ad-campaign", ["engagement_brief", "cash_flow", "value_report"])]  # the workbooks asked for
    assert loads == ["ad-campaign"]


def _visible(page: str) -> str:
    body = re.search(r'<main class="report">(.*)</main>', page, flags=re.DOTALL).group(1)
    body = re.sub(r'href="data:[^"]*"', "", body)  # the .xlsx download carries its own timestamp
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


@pytest.mark.slow
def test_report_and_portfolio_give_the_same_reports_through_the_same_path(
    ad_campaign: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    calls = _spy_on_run_jobs(monkeypatch)
    workbooks = ["engagement_brief", "cash_flow", "value_report", "engagement_plan", "account_health", "stakeholder_map"]
    workbooks += ["success_plan", "renewal_prep", "csm_activities"]
    assert cli.main(["--db", str(ad_campaign), "report", "--engagement", "ad-campaign", "--out", str(tmp_path / "r")]) == 0
    assert (
        cli.main(
            [
                "--db",
                str(ad_campaign),
                "portfolio",
                "--engagement",
                "ad-campaign",
                "--out",
                str(tmp_path / "p"),
                "--label",
                "m",
                "--workbooks",
                ",".join(workbooks),
                "--quiet",
            ]
        )
        == 0
    )
    assert calls == [("ad-campaign", workbooks)] * 2
    reported, portfolio_run = tmp_path / "r" / "ad-campaign", tmp_path / "p" / "m" / "ad-campaign"
    for wid in workbooks:
        assert json.loads((reported / f"{wid}.json").read_text()) == json.loads((portfolio_run / f"{wid}.json").read_text())
        assert _visible((reported / f"{wid}.html").read_text()) == _visible((portfolio_run / f"{wid}.html").read_text())
    # The summary's figures are the value report's headline, as the engagement index shows it.
    summary = json.loads((tmp_path / "p" / "m" / "summary.json").read_text())
    value = next(w for w in summary["engagements"][0]["workbooks"] if w["workbook"] == "value_report")
    results = json.loads((reported / "value_report.json").read_text())
    assert value["headline"]["words"] in (reported / "index.html").read_text()
    assert value["figures"]["profit"] == pytest.approx(results["financial"]["profit_act"] or results["financial"]["profit_est"])
    capsys.readouterr()


# -- the portfolio summary as a table ---------------------------------------------------------------------
EVIL = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "plain", "a=b"]


def _outcome(customer: str, csm: str | None, **figures) -> portfolio.EngagementOutcome:
    return portfolio.EngagementOutcome(
        "acme",
        customer,
        csm,
        "EUR",
        "ok",
        1.23456,
        [portfolio.WorkbookOutcome("cash_flow", "ok", 1.2, outputs={"html": "acme/cash_flow.html"}, figures=figures)],
    )


def test_the_summary_is_a_dataframe_with_the_json_names() -> None:
    frame = portfolio.summary_frame(
        [
            _outcome("Acme", "Dana", profit=-20000.0, roi=-0.25, estimated=True),
            portfolio.EngagementOutcome("beta", "Beta", None, "USD", "failed", 0.5, error="boom"),
        ]
    )
    assert list(frame.columns) == list(portfolio.SUMMARY_COLUMNS)
    assert frame.loc[0, "profit"] == -20000.0 and frame.loc[0, "roi"] == -0.25 and frame.loc[0, "duration_s"] == 1.235
    assert frame.loc[0, "html"] == "acme/cash_flow.html" and bool(frame.loc[0, "estimated"]) is True
    assert frame.loc[1, "status"] == "failed" and frame.loc[1, "error"] == "boom" and pd.isna(frame.loc[1, "profit"])
    keys = set(portfolio._outcome_json(_outcome("A", None)))
    assert {"engagement_id", "customer", "csm", "currency", "status", "duration_s", "error"} <= keys


@pytest.mark.parametrize("text", EVIL)
def test_text_from_people_is_never_a_formula_in_summary_csv(text: str) -> None:
    rows = list(csv.DictReader(io.StringIO(portfolio.summary_csv([_outcome(text, text, profit=-5.0)]))))
    assert len(rows) == 1
    for column in ("customer", "csm"):
        cell = rows[0][column]
        if text[0] in "=+-@\t\r":
            assert cell == "'" + text
        else:
            assert cell == text
    assert rows[0]["profit"] == "-5.0"  # a number stays a number: the sign is the money's


@given(st.text(min_size=1, max_size=20))
def test_csv_safe_never_leaves_a_formula_start_and_keeps_the_text(text: str) -> None:
    safe = portfolio.csv_safe(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert safe in (text, "'" + text)


# -- the error tree ---------------------------------------------------------------------------------------
def _exception_classes_outside_errors() -> list[str]:
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {ast.unparse(b).split(".")[-1] for b in node.bases}
                if bases & {"Exception", "BaseException", "CsmError", *errors.plain_error_names()} or node.name.endswith("Error"):
                    found.append(f"{path.relative_to(PACKAGE)}:{node.name}")
    return found


def test_every_exception_class_is_in_errors_py_and_drawn_in_its_tree() -> None:
    assert _exception_classes_outside_errors() == []
    defined = {name for name, value in vars(errors).items() if isinstance(value, type) and issubclass(value, errors.CsmError)}
    drawn = set(re.findall(r"[├└]── (\w+)", errors.__doc__)) | {"CsmError"}
    assert defined == drawn == set(errors.plain_error_names())


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.InputError("x"), 1),
        (errors.UsageError("x"), 2),
        (errors.NotebookFailed("x", workbook="w"), 1),
        (errors.Interrupted("x"), 130),
        (errors.Interrupted("x", exit_code=143), 143),
    ],
)
def test_exit_codes_and_pickling(error: errors.CsmError, code: int) -> None:
    import pickle

    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == "x" and again.exit_code == error.exit_code == code
