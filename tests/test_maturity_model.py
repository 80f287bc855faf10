"""Maturity model documents (csm_nb.data.maturity_model): the built-in model, 3 to 7 levels, each
mistake refused in one line naming file, line, key and model, and what an engagement says about a
model (behaviours, answers, metrics, plan, segments) checked against it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from csm_nb.data.maturity_model import (
    BUILTIN_DIR,
    builtin_maturity_model,
    check_engagement_maturity,
    check_maturity_model,
    check_maturity_use,
    maturity_model_document,
    read_maturity_model,
    resolve_maturity_model,
)
from csm_nb.data.schema import Context
from csm_nb.errors import InputError, NotFoundError
from csm_nb.method.maturity import example_model

FIXTURES = Path(__file__).parent / "fixtures" / "maturity"


def doc_with(levels: int) -> dict:
    return {
        "schema": "csm-nb/maturity-model@1",
        "id": "x",
        "levels": [{"level": n, "name": f"L{n}", "behaviours": [{"id": f"b{n}", "text": "t"}]} for n in range(1, levels + 1)],
    }


def test_the_builtin_model_reads_and_round_trips() -> None:
    model = builtin_maturity_model("value-measurement")
    assert model is not None and model.top == 5 and model.threshold == 0.8
    assert [len(lv.behaviours) for lv in model.levels] == [0, 3, 3, 2, 2]
    assert {m.id: m.direction for m in model.metrics} == {"kpis-on-time": "increase", "months-since-review": "decrease"}
    assert all(b.feature for b in model.behaviours())
    assert check_maturity_model(maturity_model_document(model)) == model
    assert (BUILTIN_DIR / "value-measurement.yaml").exists() and builtin_maturity_model("nope") is None


@pytest.mark.parametrize("levels", [3, 5, 7])
def test_3_to_7_levels_are_a_model(levels: int) -> None:
    assert check_maturity_model(doc_with(levels)).top == levels


@pytest.mark.parametrize("levels", [2, 8])
def test_2_or_8_levels_are_refused_naming_the_model(levels: int) -> None:
    with pytest.raises(InputError) as caught:
        check_maturity_model(doc_with(levels), Context("m.yaml", {("levels",): 4}))
    assert str(caught.value) == (
        f"m.yaml, line 4: levels: model 'x' has {levels} levels; a maturity model has 3 to 7 (5 plus or minus 2)"
    )


def broken(change) -> dict:
    doc = doc_with(3)
    doc["metrics"] = [{"id": "m", "name": "M"}]
    change(doc)
    return doc


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda d: d["levels"][1].update(level=3),
            "levels[1].level: model 'x': levels are numbered 1, 2, 3 ... in order; expected 2",
        ),
        (
            lambda d: d["levels"][2]["behaviours"].append({"id": "b2", "text": "t"}),
            "levels[2].behaviours[1].id: model 'x': behaviour id 'b2' is already used",
        ),
        (
            lambda d: d["levels"][1]["behaviours"][0].update(metric="z"),
            "levels[1].behaviours[0].metric: model 'x': 'z' is not a metric of the model; expected one of: m",
        ),
        (lambda d: d.update(threshold=0), "threshold: model 'x': expected a share above 0"),
        (lambda d: d.update(threshold=1.2), "threshold: expected at most 1"),
        (lambda d: d.update(schema="csm-nb/engagement@1"), "schema: expected 'csm-nb/maturity-model@1'"),
        (
            lambda d: d.update(segments=[{"id": "s", "when": {"behaviour_not": "zz"}}]),
            "segments[0].when.behaviour_not: 'zz' is not a behaviour of model 'x'",
        ),
        (lambda d: d["levels"][0].update(colour="red"), "levels[0].colour: unknown key 'colour'"),
    ],
)
def test_a_broken_model_is_one_line(change, words: str) -> None:
    with pytest.raises(InputError) as caught:
        check_maturity_model(broken(change), Context("m.yaml"))
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_a_model_file_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    levels = "".join(f"  - {{level: {n}, name: L{n}}}\n" for n in range(1, 9))
    path.write_text(f"schema: csm-nb/maturity-model@1\nid: big\nname: Big\nlevels:\n{levels}", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_maturity_model(path)
    assert (
        str(caught.value) == f"{path}, line 4: levels: model 'big' has 8 levels; a maturity model has 3 to 7 (5 plus or minus 2)"
    )
    assert read_maturity_model(FIXTURES / "five-levels.yaml").top == 5


MATURITY = {
    "model": "example",
    "assessments": [{"date": "2026-01-15", "observed": {"b2a": "yes", "b3b": True, "b4b": False}, "metrics": {"m": 4.0}}],
    "plan": {"target_level": 3, "metric_targets": {"m": 5.0}, "actions": [{"behaviour": "b3b", "action": "a"}]},
    "segments": [{"id": "s", "when": {"behaviour_not": "b3b", "metric_not_improved": "m"}}],
}


def test_a_good_maturity_passes_and_a_bool_is_yes_or_no() -> None:
    check_maturity_use(MATURITY, example_model(), Context("e.yaml"))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda m: m["assessments"][0]["observed"].update(b9z="yes"),
            "maturity.assessments[0].observed.b9z: 'b9z' is not a behaviour of model 'example'; expected one of: b2a, b2b",
        ),
        (
            lambda m: m["assessments"][0]["observed"].update(b2a="maybe"),
            "maturity.assessments[0].observed.b2a: expected one of yes, partly, no; got 'maybe'",
        ),
        (
            lambda m: m["assessments"][0]["metrics"].update(q=1),
            "maturity.assessments[0].metrics.q: 'q' is not a metric of model 'example'",
        ),
        (
            lambda m: m["plan"].update(target_level=6),
            "maturity.plan.target_level: model 'example' has levels 1 to 5; level 6 is not one of them",
        ),
        (lambda m: m["plan"]["metric_targets"].update(q=1), "maturity.plan.metric_targets.q: 'q' is not a metric"),
        (lambda m: m["plan"]["actions"][0].update(behaviour="b7"), "maturity.plan.actions[0].behaviour: 'b7' is not a behaviour"),
        (
            lambda m: m["segments"][0]["when"].update(metric_not_improved="q"),
            "maturity.segments[0].when.metric_not_improved: 'q' is not a metric",
        ),
    ],
)
def test_what_the_model_does_not_know_is_refused(change, words: str) -> None:
    maturity = copy.deepcopy(MATURITY)
    change(maturity)
    with pytest.raises(InputError) as caught:
        check_maturity_use(maturity, example_model(), Context("e.yaml"))
    assert str(caught.value).startswith("e.yaml: ") and words in str(caught.value)


def test_resolving_the_model() -> None:
    model = example_model()
    assert resolve_maturity_model({"model": "example"}, find={"example": model}.get) is model
    assert resolve_maturity_model({"model": "value-measurement"}, find=lambda _: None).id == "value-measurement"
    inline = resolve_maturity_model({"model": maturity_model_document(model) | {"id": "inline"}})
    assert inline.id == "inline" and inline.top == 5
    with pytest.raises(NotFoundError, match=r"no maturity model 'nope' .*known: mine, value-measurement"):
        resolve_maturity_model({"model": "nope"}, find=lambda _: None, known=["mine"])
    with pytest.raises(InputError, match=r"^e.yaml: maturity.model: no maturity model 'nope'"):
        check_engagement_maturity({"model": "nope"}, Context("e.yaml"))
