"""Engagement files (csm_nb.data.schema + csm_nb.data.engagement): validation with line numbers, round trips."""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csm_nb.config import ENGAGEMENT_SCHEMA
from csm_nb.data import schema
from csm_nb.data.engagement import (
    dump_engagement,
    engagement_document,
    parse_engagement,
    read_engagement,
    write_engagement,
)
from csm_nb.errors import CsmError, InputError, NotFoundError
from csm_nb.model import CashFlowLine, Engagement, Kpi, Measurement, Outcome

HEAD = "schema: csm-nb/engagement@1\nid: acme\ncustomer: Acme\n"  # lines 1-3


def parse(text: str) -> Engagement:
    return parse_engagement(text, source="acme.yaml")


def error_of(text: str) -> str:
    with pytest.raises(InputError) as info:
        parse(text)
    message = str(info.value)
    assert "\n" not in message
    return message


# -- minimal file ---------------------------------------------------------------------
def test_minimal_file_parses():
    engagement = parse(HEAD)
    assert engagement == Engagement(id="acme", customer="Acme")
    assert engagement.outcomes == [] and engagement.kpis == [] and engagement.cash_flow == []
    assert engagement.currency_code == "USD"
    assert engagement.title == "Acme"


def test_minimal_file_from_disk(tmp_path):
    path = tmp_path / "acme.yaml"
    path.write_text(HEAD, encoding="utf-8")
    assert read_engagement(path) == Engagement(id="acme", customer="Acme")


def test_null_values_are_left_out():
    engagement = parse(HEAD + "currency:\ncsm: ~\n")
    assert engagement.currency is None and engagement.csm is None


# -- unknown keys and their lines -------------------------------------------------------------
def test_unknown_top_level_key_names_file_line_and_key():
    message = error_of(HEAD + "currency: EUR\ncustmer_name: Acme\n")
    assert message.startswith("acme.yaml, line 5: custmer_name: unknown key 'custmer_name'; expected one of: schema, id,")


def test_unknown_nested_key_names_file_line_and_path():
    text = HEAD + (
        "outcomes:\n"  # 4
        "  - id: more-orders\n"  # 5
        "    description: More orders\n"  # 6
        "  - id: lower-cac\n"  # 7
        "    description: Lower CAC\n"  # 8
        "    stauts: stated\n"  # 9
    )
    message = error_of(text)
    assert message.startswith("acme.yaml, line 9: outcomes[1].stauts: unknown key 'stauts'; expected one of: id,")
    assert "status" in message


def test_unknown_key_in_a_flow_mapping_and_deep_path():
    text = HEAD + (
        "solution:\n"  # 4
        "  summary: Managed service\n"  # 5
        "  bill_of_materials:\n"  # 6
        "    - {item: Platform, amount: 100}\n"  # 7
        "    - {item: Pack, amout: 5}\n"  # 8
    )
    assert error_of(text).startswith("acme.yaml, line 8: solution.bill_of_materials[1].amout: unknown key 'amout'")


def test_unknown_key_from_a_real_file_names_the_path(tmp_path):
    path = tmp_path / "acme.yaml"
    path.write_text(HEAD + "kpis:\n  - id: orders\n    targte: 5\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_engagement(path)
    assert str(info.value).startswith(f"{path}, line 6: kpis[0].targte: unknown key 'targte'")


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("kpis:\n  - id: k\n    baseline: lots\n", "line 6: kpis[0].baseline: expected a number, got 'lots'"),
        ("kpis:\n  - id: k\n    kind: trailing\n", "line 6: kpis[0].kind: expected one of leading, lagging; got 'trailing'"),
        ("outcomes:\n  - description: no id\n", "line 5: outcomes[0]: missing required key 'id'"),
        ("outcomes: more orders\n", "line 4: outcomes: expected a list, got 'more orders'"),
        ("tags: [a, [b]]\n", "line 4: tags[1]: expected text, got a list"),
        (
            "initiative:\n  capabilities:\n    - {name: A, level: 4}\n",
            "line 6: initiative.capabilities[0].level: expected at most 3, got 4",
        ),
        (
            "initiative:\n  capabilities:\n    - {name: A, level: 1.5}\n",
            "line 6: initiative.capabilities[0].level: expected a whole number, got 1.5",
        ),
        ("solution:\n  deal_size: -5\n", "line 5: solution.deal_size: expected at least 0, got -5"),
        (
            "initiative:\n  milestones:\n    - {name: M, done: maybe}\n",
            "line 6: initiative.milestones[0].done: expected true or false, got 'maybe'",
        ),
        ("kpis:\n  - id: k\n    milestones:\n      0: 10\n      3: lots\n", "line 8: kpis[0].milestones[3]: expected a number"),
        ("kpis:\n  - id: k\n    milestones: {soon: 10}\n", "line 6: kpis[0].milestones.soon: expected a period index"),
        ("cash_flow: 12\n", "line 4: cash_flow: expected a path to a .csv/.xlsx file or a list of rows; got 12"),
        ("cash_flow:\n  - [Week 0, 1]\n", "line 5: cash_flow[0]: expected a row with keys period,"),
        ("cash_flow:\n  - {period: W0}\n  - {period: W1, revenu_est: 4}\n", "line 6: cash_flow[1].revenu_est: unknown key"),
    ],
)
def test_value_errors_name_the_exact_line(tail, expected):
    assert error_of(HEAD + tail).startswith(f"acme.yaml, {expected}")


def test_error_under_a_date_milestone_key_names_its_own_line():
    text = HEAD + "kpis:\n  - id: k\n    milestones:\n      0: 10\n      2026-06-30: lots\n"
    assert error_of(text).startswith("acme.yaml, line 8: kpis[0].milestones.2026-06-30: expected a number")


def test_inline_row_errors_give_the_rows_line():
    text = HEAD + "cash_flow:\n  - {period: Week 0, revenue_est: 1}\n  - {period: Week 1, revenue_act: lots}\n"
    message = error_of(text)
    assert message == (
        "acme.yaml, line 6: cash_flow, column revenue_act: expected a number such as 20000 or $20,000 "
        "(or empty for not known yet), got 'lots'"
    )


def test_inline_duplicate_period_names_both_lines():
    text = HEAD + "cash_flow:\n  - {period: W0}\n  - {period: W1}\n  - {period: W0}\n"
    assert error_of(text) == "acme.yaml, line 7: cash_flow, column period: 'W0' already appears in line 5; one row a period"


# -- structural problems ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "acme.yaml: expected a mapping with at least schema, id and customer"),
        ("- a\n- b\n", "acme.yaml: expected a mapping with at least schema, id and customer"),
        ("schema: csm-nb/engagement@1\nid: acme\n", "acme.yaml: missing required key 'customer'"),
        ("schema: csm-nb/engagement@1\nid: acme\ncustomer: ''\n", "acme.yaml: missing required key 'customer'"),
    ],
)
def test_not_an_engagement(text, expected):
    assert error_of(text) == expected


def test_duplicate_yaml_key_names_the_second_line():
    text = HEAD + "tags: [a]\ncurrency: EUR\ntags: [b]\n"
    assert error_of(text) == "acme.yaml, line 6: key 'tags' appears twice"


def test_duplicate_nested_yaml_key():
    text = HEAD + "outcomes:\n  - id: a\n    description: one\n    description: two\n"
    assert error_of(text) == "acme.yaml, line 7: key 'description' appears twice"


def test_broken_yaml_names_a_line(fixtures_dir, tmp_path):
    path = tmp_path / "broken.yaml"
    shutil.copy(fixtures_dir / "engagement_broken.yaml", path)
    with pytest.raises(InputError) as info:
        read_engagement(path)
    assert str(info.value).startswith(f"{path}, line ")
    assert "not valid YAML" in str(info.value)


@pytest.mark.parametrize("bad_id", ["../../etc", "Acme", "-acme", "acme_2026", "a" * 65, "acme/x", ""])
def test_bad_id_is_refused(bad_id):
    text = f"schema: {ENGAGEMENT_SCHEMA}\nid: {bad_id!r}\ncustomer: Acme\n"
    message = error_of(text)
    if bad_id == "":
        assert message == "acme.yaml: missing required key 'id'"
    else:
        assert message.startswith("acme.yaml, line 2: id: ")
        assert repr(bad_id) in message and "not valid" in message


@pytest.mark.parametrize("good_id", ["acme", "acme-2026", "0", "a" * 64])
def test_good_ids(good_id):
    assert parse(f"schema: {ENGAGEMENT_SCHEMA}\nid: '{good_id}'\ncustomer: Acme\n").id == good_id


@pytest.mark.parametrize("wrong", ["csm-nb/engagement@2", "engagement@1", "csm-nb/engagement"])
def test_wrong_schema_string(wrong):
    text = f"customer: Acme\nid: acme\nschema: {wrong}\n"
    assert error_of(text) == f"acme.yaml, line 3: schema: expected {ENGAGEMENT_SCHEMA!r}, got {wrong!r}"


def test_missing_file_and_bad_encoding(tmp_path):
    with pytest.raises(NotFoundError, match="file not found"):
        read_engagement(tmp_path / "nope.yaml")
    path = tmp_path / "latin1.yaml"
    path.write_bytes((HEAD + "csm: José\n").encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_engagement(path)


# -- references between sections ----------------------------------------------------------------------------
def test_duplicate_outcome_id():
    text = HEAD + "outcomes:\n  - {id: a}\n  - {id: b}\n  - {id: a}\n"
    assert error_of(text) == "acme.yaml, line 7: outcomes[2].id: id 'a' is already used by outcomes[0]"


def test_duplicate_kpi_id():
    text = HEAD + "kpis:\n  - id: k\n  - id: k\n"
    assert error_of(text) == "acme.yaml, line 6: kpis[1].id: id 'k' is already used by kpis[0]"


def test_kpi_pointing_at_a_missing_outcome():
    text = HEAD + "outcomes:\n  - {id: b}\n  - {id: a}\nkpis:\n  - {id: k, outcome: a}\n  - {id: j, outcome: zzz}\n"
    assert error_of(text) == "acme.yaml, line 9: kpis[1].outcome: 'zzz' is not the id of any outcome (a, b)"


def test_kpi_pointing_at_an_outcome_when_none_exist():
    assert error_of(HEAD + "kpis:\n  - {id: k, outcome: a}\n").endswith("'a' is not the id of any outcome (none defined)")


def test_measurement_with_unknown_kpi():
    text = HEAD + (
        "kpis:\n  - {id: orders}\n  - {id: nps}\n"
        "measurements:\n  - {kpi: orders, period: 0, value: 1}\n  - {kpi: churn, period: 0, value: 2}\n"
        "  - {kpi: aaa, period: 1, value: 2}\n"
    )
    assert error_of(text) == "acme.yaml, line 7: measurements: unknown KPI id(s) 'aaa', 'churn'; known KPIs: nps, orders"


def test_financial_link_with_unknown_kpi():
    text = HEAD + "kpis:\n  - {id: orders}\nfinancial_links:\n  - {id: l1, kpi: orders}\n  - {id: l2, kpi: nps}\n"
    assert error_of(text) == "acme.yaml, line 8: financial_links[1].kpi: 'nps' is not the id of any KPI"


def test_valid_references_parse():
    text = HEAD + (
        "outcomes:\n  - {id: o}\nkpis:\n  - {id: k, outcome: o}\n"
        "financial_links:\n  - {id: l, kpi: k, steps: [{factor: 2}]}\n"
        "measurements:\n  - {kpi: k, period: 0, value: 1}\n  - {kpi: k, period: 2026-01-31, value: 2}\n"
    )
    engagement = parse(text)
    assert engagement.kpi("k") == Kpi(id="k", outcome="o")
    assert engagement.kpi("zzz") is None
    assert engagement.measurements == [Measurement("k", 0, 1.0), Measurement("k", "2026-01-31", 2.0)]
    assert engagement.financial_links == [{"id": "l", "kpi": "k", "steps": [{"factor": 2.0}]}]


# -- tables: file path or inline rows -------------------------------------------------------------------------
def inline_rows(lines: list[CashFlowLine]) -> str:
    out = "cash_flow:\n"
    for x in lines:
        cells = [f"period: {x.period}"] + [
            f"{name}: {getattr(x, name):g}"
            for name in ("expenditure_est", "expenditure_act", "revenue_est", "revenue_act")
            if getattr(x, name) is not None
        ]
        out += "  - {" + ", ".join(cells) + "}\n"
    return out


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_cash_flow_file_and_inline_rows_give_the_same_lines(
    tmp_path, monkeypatch, ad_campaign_files, ad_campaign_week7_lines, kind
):
    files = ad_campaign_files(actual_weeks=8)
    by_path = tmp_path / "by-path.yaml"
    by_path.write_text(HEAD + f"cash_flow: {files[kind].name}\n", encoding="utf-8")
    inline = tmp_path / "inline.yaml"
    inline.write_text(HEAD + inline_rows(ad_campaign_week7_lines), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the path is relative to the engagement file, not the cwd
    from_file = read_engagement(by_path)
    from_rows = read_engagement(inline)
    assert from_file.cash_flow == ad_campaign_week7_lines
    assert from_rows.cash_flow == ad_campaign_week7_lines
    assert from_file == from_rows


def test_cash_flow_file_in_a_subdirectory_and_missing(tmp_path, ad_campaign_files, ad_campaign_lines):
    csv_path = ad_campaign_files()["csv"]
    (tmp_path / "tables").mkdir()
    shutil.move(csv_path, tmp_path / "tables" / "cf.csv")
    path = tmp_path / "acme.yaml"
    path.write_text(HEAD + "cash_flow: tables/cf.csv\n", encoding="utf-8")
    assert read_engagement(path).cash_flow == ad_campaign_lines
    path.write_text(HEAD + "cash_flow: tables/nope.csv\n", encoding="utf-8")
    with pytest.raises(NotFoundError, match="nope.csv: file not found"):
        read_engagement(path)


def test_measurements_from_a_csv_path_are_reference_checked(tmp_path):
    (tmp_path / "m.csv").write_text("kpi,period,value\norders,0,10\nchurn,1,2\n", encoding="utf-8")
    path = tmp_path / "acme.yaml"
    path.write_text(HEAD + "kpis:\n  - id: orders\nmeasurements: m.csv\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 6: measurements: unknown KPI id\(s\) 'churn'; known KPIs: orders"):
        read_engagement(path)


# -- the rich engagement and round trips -----------------------------------------------------------------------
@pytest.fixture
def rich_path(fixtures_dir, tmp_path) -> Path:
    path = tmp_path / "rich.yaml"
    shutil.copy(fixtures_dir / "rich_engagement.yaml", path)
    return path


def unused_fields(spec: schema.Spec, values: list[Any], path: str) -> list[str]:
    """Schema fields that no value at ``path`` uses (so the fixture is really 'rich')."""
    if isinstance(spec, schema.Record):
        missing = []
        mappings = [v for v in values if isinstance(v, dict)]
        for name, sub in spec.fields.items():
            present = [m[name] for m in mappings if m.get(name) is not None]
            if not present:
                missing.append(f"{path}.{name}".lstrip("."))
            else:
                missing += unused_fields(sub, present, f"{path}.{name}")
        return missing
    if isinstance(spec, schema.ListOf):
        return unused_fields(spec.item, [i for v in values for i in v], f"{path}[]")
    if isinstance(spec, schema.MappingOf):
        return unused_fields(spec.value, [i for v in values for i in v.values()], f"{path}{{}}")
    if isinstance(spec, schema.TableRef):
        rows = [r for v in values if isinstance(v, list) for r in v]
        return [f"{path}.{c}" for c in spec.columns if not any(c in r for r in rows)]
    return []


def test_rich_fixture_uses_every_schema_field(rich_path):
    data = yaml.safe_load(rich_path.read_text(encoding="utf-8"))
    assert unused_fields(schema.ENGAGEMENT, [data], "") == []


def test_rich_fixture_parses_to_the_expected_values(rich_path):
    e = read_engagement(rich_path)
    assert (e.id, e.customer, e.currency, e.csm) == ("acme-2026", "Acme Retail", "EUR", "Dana Ortiz")
    assert e.tags == ["retail", "2026", "pilot"]
    assert e.title == "Acme Retail: Spring advertising campaign"
    assert e.initiative["start"] == "2026-01-05"  # dates kept as ISO text
    assert e.initiative["milestones"][0]["done"] is True
    assert e.initiative["capabilities"][0]["level"] == 2
    assert e.solution["deal_size"] == 185000.0
    assert e.solution["bill_of_materials"][0]["amount"] == 45000.5
    assert e.outcomes[1] == Outcome(
        id="lower-cac",
        description="Lower cost of acquisition",
        quantity="-10 %",
        deadline="10 months",
        status="assumed",
        priority="secondary",
    )
    assert e.kpis[0].milestones == {4: 1300.0, 8: 1380.0, "2026-06-30": 1440.5}
    assert e.kpis[1].target == 2.0
    assert e.cash_flow[1] == CashFlowLine("Week 1", 20000.0, 20000.0, 0.0, 0.0)  # "$20,000" cell
    assert e.cash_flow[3] == CashFlowLine("Week 3", 20000.0, None, 14000.0, None)
    assert e.measurements[2] == Measurement("click-rate", "2026-01-12", 1.3)
    assert e.measurements[3] == Measurement("cac", "2026-01-19", 34.0)
    assert e.workshop["outcomes"]["review"] == {"date": "2026-01-20", "attendees": ["Ana Silva", "Ben Ode"], "score": 4}
    assert e.workshop["cash-flow"] == {"horizon_weeks": 13}
    assert e.financial_links[0]["periods_per_year"] == 52.0
    assert e.financial_links[0]["gap"] == {
        "step": 2,
        "run_rate": 1250000.0,
        "target_per_year": 1500000.0,
        "source": "Finance plan",
    }
    assert e.financial_links[0]["steps"][1] == {"description": "Gross margin", "factor": 0.38, "accuracy": 0.05}


def test_rich_round_trip_is_lossless(rich_path):
    first = read_engagement(rich_path)
    text = dump_engagement(first)
    second = parse_engagement(text, source="dumped.yaml")
    assert second == first
    assert dump_engagement(second) == text  # and the dump is stable
    assert text.startswith("# Engagement file")


def test_rich_round_trip_through_a_file(rich_path, tmp_path):
    first = read_engagement(rich_path)
    out = write_engagement(first, tmp_path / "out" / "acme.yaml")
    assert read_engagement(out) == first


def test_engagement_document_shape(rich_path):
    doc = engagement_document(read_engagement(rich_path))
    assert list(doc)[:3] == ["schema", "id", "customer"]
    assert doc["schema"] == ENGAGEMENT_SCHEMA
    assert doc["cash_flow"][3] == {"period": "Week 3", "expenditure_est": 20000, "revenue_est": 14000}
    assert type(doc["cash_flow"][0]["expenditure_est"]) is int  # whole amounts written as a person would
    assert doc["solution"]["bill_of_materials"][0]["amount"] == 45000.5
    assert "revision" not in doc and "updated_by" not in doc  # store bookkeeping stays out


def test_round_trip_ignores_store_bookkeeping():
    engagement = Engagement(id="acme", customer="Acme", revision=7, updated_at="2026-01-01T00:00:00+00:00", updated_by="x")
    again = parse_engagement(dump_engagement(engagement), source="x")
    assert again == dataclasses.replace(engagement, revision=0, updated_at=None, updated_by=None)


def test_minimal_round_trip_text():
    text = dump_engagement(Engagement(id="acme", customer="Acme"))
    assert yaml.safe_load(text) == {"schema": ENGAGEMENT_SCHEMA, "id": "acme", "customer": "Acme"}


# -- Hypothesis: generated engagements survive dump -> parse ------------------------------------------------------
ids = st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)
# Any text, newlines and tabs included. PyYAML's emitter folds NEL, LS and PS (U+0085,
# U+2028, U+2029) into line breaks, so those three are left out (a PyYAML limitation).
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029"), max_size=30)
labels = texts.map(str.strip).filter(bool)
numbers = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e18, max_value=1e18)
amounts = st.one_of(st.none(), st.floats(min_value=0, max_value=1e15, allow_nan=False), st.integers(0, 10**9).map(float))
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)).map(dt.date.isoformat)
periods = st.one_of(st.integers(min_value=0, max_value=1200), dates)  # config.MAX_PERIOD_INDEX
answers = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**9), 10**9) | numbers | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
workshops = st.dictionaries(ids, st.dictionaries(texts, answers, max_size=4), min_size=1, max_size=3)
# Deadlines in the words csm_nb.method.dates.parse_deadline reads (anything else is refused on import).
deadline_words = st.sampled_from(
    ["", "10 months", "26 weeks from the start", "immediate", "end November 2027", "end of next financial year"]
)


@st.composite
def engagements(draw) -> Engagement:
    outcome_ids = draw(st.lists(ids, unique=True, max_size=4))
    outcomes = [
        Outcome(
            id=i,
            description=draw(st.none() | texts),
            quantity=draw(st.none() | texts),
            deadline=draw(st.none() | dates | deadline_words),
            measurement=draw(st.none() | texts),
            status=draw(st.sampled_from([None, "stated", "assumed"])),
            priority=draw(st.sampled_from([None, "primary", "secondary"])),
        )
        for i in outcome_ids
    ]
    kpi_ids = draw(st.lists(ids, unique=True, max_size=4))
    kpis = [
        Kpi(
            id=i,
            outcome=draw(st.sampled_from([None, *outcome_ids])),
            name=draw(st.none() | texts),
            kind=draw(st.sampled_from([None, "leading", "lagging"])),
            unit=draw(st.none() | texts),
            direction=draw(st.sampled_from([None, "increase", "decrease"])),
            baseline=draw(st.none() | numbers),
            target=draw(st.none() | numbers),
            milestones=draw(st.none() | st.dictionaries(periods, numbers, min_size=1, max_size=4)),
        )
        for i in kpi_ids
    ]
    cash_flow = [
        CashFlowLine(p, draw(amounts), draw(amounts), draw(amounts), draw(amounts))
        for p in draw(st.lists(labels, unique=True, max_size=8))
    ]
    keys = draw(st.lists(st.tuples(st.sampled_from(kpi_ids), periods), unique=True, max_size=6)) if kpi_ids else []
    measurements = [Measurement(kpi, period, draw(numbers)) for kpi, period in keys]  # one value a KPI a period
    return Engagement(
        id=draw(ids),
        customer=draw(labels),
        currency=draw(st.none() | st.sampled_from(["EUR", "USD", "JPY"])),
        csm=draw(st.none() | texts),
        tags=draw(st.none() | st.lists(texts, max_size=3)),
        outcomes=outcomes,
        kpis=kpis,
        cash_flow=cash_flow,
        measurements=measurements,
        workshop=draw(st.none() | workshops),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(engagements())
def test_property_dump_then_parse_gives_the_same_engagement(engagement):
    assert parse_engagement(dump_engagement(engagement), source="generated.yaml") == engagement


# -- hostile and careless YAML: refused at the line, before anything is built ---------------------------------
PLAIN_ONLY = "write plain text, numbers, dates, lists and mappings"
NO_ALIAS = "are not accepted; write the value out in full"


def billion_laughs(levels: int = 9) -> str:
    """``levels`` levels of nine aliases each: 9**levels strings if it were expanded (387 million for 9)."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "junk:\n" + "".join(f"  {line}\n" for line in lines)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Under an unknown key, so only a refusal before expansion keeps this from hanging.
        (billion_laughs(), f"acme.yaml, line 6: junk.a1[0]: YAML aliases (*a0) {NO_ALIAS}"),
        (billion_laughs(40), f"acme.yaml, line 6: junk.a1[0]: YAML aliases (*a0) {NO_ALIAS}"),  # 9**40 if expanded
        ("y: &r [*r]\n", f"acme.yaml, line 4: y[0]: YAML aliases (*r) {NO_ALIAS}"),  # recursive
        ("y: &r {a: *r}\n", f"acme.yaml, line 4: y.a: YAML aliases (*r) {NO_ALIAS}"),
        (
            "workshop:\n  outcome_discovery:\n    a: &x [1, 2]\n    b: *x\n",
            f"acme.yaml, line 7: workshop.outcome_discovery.b: YAML aliases (*x) {NO_ALIAS}",
        ),
        (
            "csm: &who Dana\ninitiative:\n  sponsor: *who\n",
            f"acme.yaml, line 6: initiative.sponsor: YAML aliases (*who) {NO_ALIAS}",
        ),
        (
            "workshop:\n  w:\n    &k q1: 1\n    *k : 2\n",
            f"acme.yaml, line 7: workshop.w: YAML aliases (*k) {NO_ALIAS}",
        ),  # as a key
    ],
)
def test_aliases_are_refused_before_anything_expands(body, expected):
    assert error_of(HEAD + body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("csm: !!binary aGVsbG8=\n", f"line 4: csm: the tag !!binary is not accepted; {PLAIN_ONLY}"),
        ("tags: !!set {a, b}\n", f"line 4: tags: the tag !!set is not accepted; {PLAIN_ONLY}"),
        ("tags: !!omap [a: 1]\n", f"line 4: tags: the tag !!omap is not accepted; {PLAIN_ONLY}"),
        ("tags: !!pairs [a: 1]\n", f"line 4: tags: the tag !!pairs is not accepted; {PLAIN_ONLY}"),
        ("csm: !!python/object:os.system ls\n", f"line 4: csm: the tag !!python/object:os.system is not accepted; {PLAIN_ONLY}"),
        ("csm: !!python/name:os.system ''\n", f"line 4: csm: the tag !!python/name:os.system is not accepted; {PLAIN_ONLY}"),
        ("kpis:\n  - id: k\n    unit: !mine x\n", f"line 6: kpis[0].unit: the tag !mine is not accepted; {PLAIN_ONLY}"),
        (
            "csm: !<tag:example.com,2026:money> 5\n",
            f"line 4: csm: the tag tag:example.com,2026:money is not accepted; {PLAIN_ONLY}",
        ),
        (
            "workshop:\n  w:\n    ? !!binary aGVsbG8=\n    : 1\n",
            f"line 6: workshop.w: the tag !!binary is not accepted; {PLAIN_ONLY}",
        ),
        ("initiative:\n  <<: {name: x}\n", "line 5: initiative: merge keys (<<) are not accepted; write the keys out in full"),
        # A plain tag must fit what it is put on, and the value must read as the tag says.
        ("csm: !!str [a]\n", "line 4: csm: the tag !!str does not fit a list; remove the tag"),
        ("initiative: !!map x\n", "line 4: initiative: the tag !!map does not fit a single value; remove the tag"),
        ("tags: !!seq {a: 1}\n", "line 4: tags: the tag !!seq does not fit a mapping; remove the tag"),
        (
            "kpis:\n  - id: k\n    baseline: !!int abc\n",
            "line 6: kpis[0].baseline: 'abc' is not a whole number, as the tag !!int says; remove the tag or fix the value",
        ),
        (
            "kpis:\n  - id: k\n    baseline: !!float x\n",
            "line 6: kpis[0].baseline: 'x' is not a number, as the tag !!float says; remove the tag or fix the value",
        ),
        (
            "initiative:\n  milestones:\n    - {name: M, done: !!bool maybe}\n",
            "line 6: initiative.milestones[0].done: 'maybe' is not true or false, as the tag !!bool says; remove the tag or fix the value",
        ),
        (
            "workshop:\n  w:\n    !!int abc: 1\n",
            "line 6: workshop.w: 'abc' is not a whole number, as the tag !!int says; remove the tag or fix the value",
        ),
    ],
)
def test_only_plain_yaml_types_are_accepted(body, expected):
    assert error_of(HEAD + body) == f"acme.yaml, {expected}"


@pytest.mark.parametrize(
    ("body", "attribute", "value"),
    [
        ("csm: !!str 5\n", "csm", "5"),
        ("csm: =\n", "csm", "="),  # YAML 1.1's "value" key is just the text
        ("tags: !!seq [a]\n", "tags", ["a"]),
        ("kpis:\n  - id: k\n    baseline: !!float 3\n", "kpis", [Kpi(id="k", baseline=3.0)]),
    ],
)
def test_plain_tags_that_fit_are_fine(body, attribute, value):
    assert getattr(parse(HEAD + body), attribute) == value


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("kpis:\n  - id: k\n    start: 2026-02-30\n", "line 6: kpis[0].start: 2026-02-30 is not a date that exists"),
        ("kpis:\n  - id: k\n    deadline: 2026-13-01\n", "line 6: kpis[0].deadline: 2026-13-01 is not a date that exists"),
        (
            "kpis:\n  - id: k\n    milestones: {2025-02-29: 4}\n",
            "line 6: kpis[0].milestones: 2025-02-29 is not a date that exists",
        ),
        (
            "initiative:\n  milestones:\n    - {name: M, date: 2026-04-31}\n",
            "line 6: initiative.milestones[0].date: 2026-04-31 is not a date that exists",
        ),
        (
            "outcomes:\n  - id: o\n    deadline: 2026-01-01 25:00:00\n",
            "line 6: outcomes[0].deadline: 2026-01-01 25:00:00 is not a date that exists",
        ),
        ("csm: !!timestamp soon\n", "line 4: csm: soon is not a date that exists"),
    ],
)
def test_impossible_dates_are_refused_at_their_key(body, expected):
    assert error_of(HEAD + body) == f"acme.yaml, {expected}; expected YYYY-MM-DD"


def test_a_leap_day_that_exists_is_a_date():
    assert parse(HEAD + "kpis:\n  - id: k\n    start: 2028-02-29\n").kpis[0].start == "2028-02-29"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "kpis:\n  - id: k\n    baseline: " + "9" * 101 + "\n",
            (
                f"line 6: kpis[0].baseline: {'9' * 27}... is 101 characters long, too long for a number (at most 100); "
                "put it in quotes if it is text"
            ),
        ),
        # YAML 1.1 reads 1:2:3 as base 60; a long one would take quadratic time to build.
        (
            "csm: " + ":".join(["59"] * 40_000) + "\n",
            f"line 4: csm: {'59:' * 9}... is 119,999 characters long, too long for a number (at most 100); put it in quotes if it is text",
        ),
        (
            "workshop:\n  w:\n    a: " + "[" * 40 + "]" * 40 + "\n",
            "line 6: workshop.w.a: lists and mappings nested more than 32 deep; an engagement file needs only a few levels",
        ),
        (
            "workshop:\n  w:\n    a: " + "[" * 20_000 + "]" * 20_000 + "\n",
            "line 6: not valid YAML: exceeded maximum nesting depth",
        ),
    ],
)
def test_numbers_and_nesting_past_reason_are_refused(body, expected):
    assert error_of(HEAD + body) == f"acme.yaml, {expected}"


def test_a_quoted_long_number_is_text():
    assert parse(HEAD + "csm: '" + "9" * 500 + "'\n").csm == "9" * 500


# -- limits: lowered, so small inputs cross them ---------------------------------------------------------------
TAGS = "tags: [a, b, c]\n"


@pytest.mark.parametrize(
    ("limit", "value", "body", "expected"),
    [
        (
            "MAX_DOCUMENT_BYTES",
            60,
            TAGS,
            f"acme.yaml: {len(HEAD + TAGS)} characters is more than the 60 allowed in one engagement file",
        ),
        (
            "MAX_YAML_NODES",
            5,
            TAGS,
            (
                "acme.yaml: more than 5 values in one engagement file; "
                "keep long tables (measurements, cash flow) in a CSV file the engagement names"
            ),
        ),
        (
            "MAX_CASH_FLOW_PERIODS",
            2,
            "cash_flow:\n  - {period: W0}\n  - {period: W1}\n  - {period: W2}\n",
            "acme.yaml, line 7: cash_flow[2]: more than 2 cash-flow periods; use longer periods (months, quarters) or split the plan",
        ),
        (
            "MAX_TABLE_ROWS",
            1,
            "kpis:\n  - id: k\nmeasurements:\n  - {kpi: k, period: 0, value: 1}\n  - {kpi: k, period: 1, value: 2}\n",
            "acme.yaml, line 8: measurements[1]: more than 1 measurements; split them across files",
        ),
        (
            "MAX_PERIOD_INDEX",
            10,
            "kpis:\n  - id: k\n    milestones: {11: 5}\n",
            "acme.yaml, line 6: kpis[0].milestones[11]: expected a period index (0 to 10) or a date (YYYY-MM-DD), got 11",
        ),
        (
            "MAX_YAML_DEPTH",
            3,
            "workshop:\n  w:\n    a: [[1]]\n",
            "acme.yaml, line 6: workshop.w.a: lists and mappings nested more than 3 deep; an engagement file needs only a few levels",
        ),
        (
            "MAX_NUMBER_CHARS",
            3,
            "csm: 1234\n",
            "acme.yaml, line 4: csm: 1234 is 4 characters long, too long for a number (at most 3); put it in quotes if it is text",
        ),
    ],
)
def test_documents_and_tables_past_the_limits_are_refused(monkeypatch, limit, value, body, expected):
    from csm_nb import config

    monkeypatch.setattr(config, limit, value)
    assert error_of(HEAD + body) == expected


def test_a_file_past_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from csm_nb import config

    path = tmp_path / "acme.yaml"
    path.write_text(HEAD + TAGS, encoding="utf-8")
    monkeypatch.setattr(config, "MAX_DOCUMENT_BYTES", 60)

    def no_reading(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    with pytest.raises(InputError) as info:
        read_engagement(path)
    assert str(info.value) == (
        f"{path}: {len(HEAD + TAGS)} bytes is more than the 60 bytes allowed for an engagement file; "
        "split it or remove what is not needed"
    )


def test_the_limits_are_what_the_readme_states():
    from csm_nb import config

    assert (config.MAX_DOCUMENT_BYTES, config.MAX_YAML_NODES, config.MAX_CASH_FLOW_PERIODS, config.MAX_TABLE_ROWS) == (
        5 * 1024 * 1024,
        500_000,
        10_000,
        200_000,
    )
    assert (config.MAX_PERIOD_INDEX, config.MAX_YAML_DEPTH, config.MAX_NUMBER_CHARS) == (1_200, 32, 100)


# -- encodings ------------------------------------------------------------------------------------------------
CSM = "csm: José 様\n"


@pytest.mark.parametrize(
    "raw",
    [
        (HEAD + CSM).encode("utf-8"),
        (HEAD + CSM).encode("utf-8-sig"),
        codecs.BOM_UTF16_LE + (HEAD + CSM).encode("utf-16-le"),
        codecs.BOM_UTF16_BE + (HEAD + CSM).encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le-bom", "utf-16-be-bom"],
)
def test_engagement_files_are_utf8_or_utf16_with_a_bom(tmp_path, raw):
    path = tmp_path / "acme.yaml"
    path.write_bytes(raw)
    assert read_engagement(path).csm == "José 様"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ((HEAD + "csm: José\n").encode("cp1252"), f"not UTF-8 text (byte 0xe9 at offset {len(HEAD) + 8}); save it as UTF-8"),
        ((HEAD + "csm: 様\n").encode("shift_jis"), f"not UTF-8 text (byte 0x97 at offset {len(HEAD) + 5}); save it as UTF-8"),
        ((HEAD + CSM).encode("utf-16-le"), "UTF-16 text without a byte-order mark; save it as UTF-8"),
        (
            (HEAD + "csm: a\x00b\n").encode(),
            f"a NUL character at position {len(HEAD) + 6}; this is not a text file (save it as UTF-8)",
        ),
    ],
    ids=["cp1252", "shift-jis", "utf-16-no-bom", "nul"],
)
def test_other_encodings_and_nul_bytes_are_refused(tmp_path, raw, expected):
    path = tmp_path / "acme.yaml"
    path.write_bytes(raw)
    with pytest.raises(InputError) as info:
        read_engagement(path)
    assert str(info.value) == f"{path}: {expected}"


# -- values the schema refuses --------------------------------------------------------------------------------
ISO = "expected a three-letter ISO 4217 currency code such as USD, EUR or GBP; got"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("currency: 5\n", f"line 4: currency: {ISO} 5"),
        ("currency: dollars\n", f"line 4: currency: {ISO} 'dollars'"),
        ("currency: US\n", f"line 4: currency: {ISO} 'US'"),
        ("currency: ABC\n", f"line 4: currency: {ISO} 'ABC'"),  # three letters, but no such currency
        ("currency: true\n", f"line 4: currency: {ISO} True"),
        ("currency: [EUR]\n", f"line 4: currency: {ISO} a list"),
        (
            "financial_links:\n  - id: l\n    steps: []\n",
            "line 6: financial_links[0].steps: expected at least 1 step, got an empty list",
        ),
        (
            "kpis:\n  - id: k\n    milestones: {100000000000000000000000: 5}\n",
            (
                "line 6: kpis[0].milestones[100000000000000000000000]: expected a period index (0 to 1,200) or a date (YYYY-MM-DD), "
                "got 100000000000000000000000"
            ),
        ),
        (
            "kpis:\n  - id: k\n    milestones: {1201: 5}\n",
            "line 6: kpis[0].milestones[1201]: expected a period index (0 to 1,200) or a date (YYYY-MM-DD), got 1201",
        ),
        (
            "kpis:\n  - id: k\n    milestones: {-1: 5}\n",
            "line 6: kpis[0].milestones[-1]: expected a period index (0 to 1,200) or a date (YYYY-MM-DD), got -1",
        ),
        ("solution:\n  deal_size: .inf\n", "line 5: solution.deal_size: expected a finite number, got inf"),
    ],
)
def test_values_the_schema_refuses_name_their_key(body, expected):
    assert error_of(HEAD + body) == f"acme.yaml, {expected}"


@pytest.mark.parametrize(("written", "read"), [("eur", "EUR"), ("Usd", "USD"), (" gbp ", "GBP"), ("JPY", "JPY")])
def test_a_currency_code_in_any_case_is_taken_in_capitals(written, read):
    assert parse(HEAD + f"currency: '{written}'\n").currency == read


def test_the_currency_list_is_iso_4217():
    from csm_nb.vocabulary import CURRENCIES

    assert {"USD", "EUR", "GBP", "JPY", "CHF", "INR", "XCG", "ZWG"} <= CURRENCIES
    assert not {"XXX", "XTS", "HRK", "DEM", "CNH", "usd"} & CURRENCIES  # no currency, testing, withdrawn, not ISO
    assert all(len(c) == 3 and c.isalpha() and c.isupper() for c in CURRENCIES)


def test_the_last_period_index_is_accepted():
    assert parse(HEAD + "kpis:\n  - id: k\n    milestones: {0: 1, 1200: 5}\n").kpis[0].milestones == {0: 1.0, 1200: 5.0}


# -- Hypothesis: mangled files fail only ever as one CsmError line ---------------------------------------------
RICH = (Path(__file__).parent / "fixtures" / "rich_engagement.yaml").read_text(encoding="utf-8").splitlines(keepends=True)


def only_one_line_errors(text: str) -> None:
    """Parse ``text``: it may be refused, but only as a CsmError of one line (anything else fails the test)."""
    try:
        parse_engagement(text, source="rich.yaml")
    except CsmError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(RICH) - 1),
            st.sampled_from(["drop", "twice", "junk"]),
            st.text(alphabet="&*!:[]{}-'\"#|>%@ \nabc0123\t", max_size=12),
        ),
        max_size=6,
    )
)
def test_mangled_engagement_files_only_ever_fail_as_one_line(edits):
    lines = list(RICH)
    for index, action, junk in edits:
        index %= len(lines) or 1
        if not lines:
            break
        if action == "drop":
            del lines[index]
        elif action == "twice":
            lines.insert(index, lines[index])
        else:
            lines[index] = lines[index][: len(lines[index]) // 2] + junk + "\n"
    only_one_line_errors("".join(lines))


# Values a careless or hostile hand might put after any key of the rich file.
TRICKY_VALUES = [
    "",
    "~",
    "null",
    "0",
    "-1",
    "1.5",
    "1e400",
    "-1e400",
    ".inf",
    "-.inf",
    ".nan",
    "0x1F",
    "0o17",
    "1_000",
    "1:30",
    "1:2:3:4:5:6",
    "9" * 150,
    "yes",
    "no",
    "on",
    "true",
    "2026-02-30",
    "2026-02-28",
    "2026-01-01 10:00:00",
    "2026-01-01T25:00:00Z",
    "[]",
    "{}",
    "[1, [2, [3]]]",
    "{a: {b: c}}",
    "'text'",
    '"\\u00e9"',
    "!!binary aGk=",
    "!!int x",
    "!!float y",
    "!!bool z",
    "!!str [a]",
    "!!map q",
    "!!set {a}",
    "!mine v",
    "&a x",
    "*a",
    "<<",
    "=",
    "| \n  block",
    "10 months",
    "$20,000",
    "(1,200)",
    "-",
    "100000000000000000000000",
    "1200",
    "1201",
    "usd",
    "XXX",
    "é",
    "\t",
    "'",
    "[",
    "{",
    ": :",
    "- - -",
    "? x",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(RICH) - 1), st.sampled_from(TRICKY_VALUES)), min_size=1, max_size=4))
def test_tricky_values_after_any_key_only_ever_fail_as_one_line(edits):
    lines = list(RICH)
    for index, value in edits:
        line = lines[index]
        head, colon, _ = line.partition(": ")
        if colon:  # "key: value" (also inside a flow mapping, where the rest of the line is replaced)
            lines[index] = f"{head}: {value}\n"
        elif line.lstrip().startswith("- "):
            lines[index] = line[: len(line) - len(line.lstrip())] + f"- {value}\n"
    only_one_line_errors("".join(lines))
