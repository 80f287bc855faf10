"""The question bank: what the workshop workbooks ask, as data.

The questions live in ``question_bank.yaml`` beside this module, one section a
workbook (``outcome_discovery``, ``engagement_brief``). Each question has a
stage (1-5), a type (closed, open, summarising, statement_closed), the prompt,
why it is asked (``purpose``), what a good answer contains
(``good_answer``), the fields it fills and follow-ups. Adding a question is an
edit to the YAML file; the forms and reports pick it up.

A field has a ``key`` (the answer's name in the store), a ``kind`` (text,
number, date, choice) and its validation (``min``, ``max``, ``integer``,
``not_past``, ``options``). ``Field.parse`` turns what a person typed into
the stored value or raises ``InputError`` with one sentence for the form to
show beside the field.

The bank is checked when loaded: a mistake names the file, the question and
the key, e.g. ``question_bank.yaml: outcome_discovery question 'last_year'
field 'last_year_target': unknown kind 'numbr'; expected text, number, date,
choice``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from csm_nb.errors import InputError

BANK_PATH = Path(__file__).with_name("question_bank.yaml")
BANK_SCHEMA = "csm-nb/question-bank@1"
KINDS = ("text", "number", "date", "choice")
TYPES = ("closed", "open", "summarising", "statement_closed")
TYPE_LABELS = {
    "closed": "closed question",
    "open": "open question",
    "summarising": "summarising question",
    "statement_closed": "statement + closed question",
}
COMPOSERS = ("paraphrase", "maths", "money")
_KEY = re.compile(r"[a-z][a-z0-9_]*(\.\{i\}\.[a-z][a-z0-9_]*)?")
_QUESTION_ID = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Field:
    """One answer a question fills, with its kind and validation."""

    key: str
    kind: str
    label: str
    hint: str = ""
    unit: str = ""
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    not_past: bool = False
    long: bool = False
    source: str | None = None  # dotted path into the engagement (or the repeated item) for a default
    optional: bool = False  # a nice-to-have: never makes its question count as open

    def key_for(self, slot: int | str | None) -> str:
        """The stored key; ``slot`` is a repeated item's id, else its position."""
        return self.key.replace("{i}", str(slot)) if slot is not None else self.key

    def parse(self, raw: Any, *, today: dt.date | None = None) -> Any:
        """What a person typed -> the value to store (``None`` clears the answer).

        >>> Field("n", "number", "Target", minimum=0).parse("21,400")
        21400
        >>> Field("n", "number", "Target", minimum=0).parse("-5")
        Traceback (most recent call last):
        ...
        csm_nb.errors.InputError: Target cannot be below 0; you typed -5
        """
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if self.kind == "text":
            return str(raw).strip()
        if self.kind == "choice":
            if raw not in self.options:
                raise InputError(f"{self.label}: choose one of {', '.join(self.options)}; got {raw!r}")
            return raw
        if self.kind == "number":
            return self._number(raw)
        return self._date(raw, today or dt.date.today())

    def _number(self, raw: Any) -> float | int:
        from csm_nb.vocabulary import parse_amount

        shown = str(raw).strip()
        if isinstance(raw, bool):
            raise InputError(f"{self.label} needs a number, such as 21,400; you typed {shown}")
        try:
            value = parse_amount(shown.rstrip("%").strip() if isinstance(raw, str) else raw, where=self.label)
        except InputError:
            raise InputError(f"{self.label} needs a number, such as 21,400; you typed {shown!r}") from None
        if value is None:
            return None  # type: ignore[return-value]
        if self.integer and not float(value).is_integer():
            raise InputError(f"{self.label} needs a whole number; you typed {shown}")
        if self.minimum is not None and value < self.minimum:
            raise InputError(f"{self.label} cannot be below {self.minimum:g}; you typed {shown}")
        if self.maximum is not None and value > self.maximum:
            raise InputError(f"{self.label} cannot be above {self.maximum:g}; you typed {shown}")
        return int(value) if float(value).is_integer() else value

    def _date(self, raw: Any, today: dt.date) -> str:
        if isinstance(raw, dt.datetime):
            day = raw.date()
        elif isinstance(raw, dt.date):
            day = raw
        else:
            try:
                day = dt.date.fromisoformat(str(raw).strip())
            except ValueError:
                raise InputError(f"{self.label} needs a date such as 2027-12-31; you typed {str(raw)!r}") from None
        if self.not_past and day < today:
            raise InputError(f"{self.label} is in the past ({day.isoformat()}); give a date from today on")
        return day.isoformat()

    def shown(self, value: Any) -> str:
        """A stored value as a person reads it (numbers with separators, choices in words)."""
        if value is None or value == "":
            return ""
        if self.kind == "number" and isinstance(value, (int, float)):
            text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
            return f"{text} {self.unit}".strip() if self.unit else text
        if self.kind == "choice":
            return option_label(str(value))
        return str(value)


def option_label(option: str) -> str:
    """>>> option_label("one_off")
    'one off'
    """
    return option.replace("_", " ")


@dataclass(frozen=True)
class Question:
    id: str
    stage: int
    type: str
    prompt: str
    purpose: str
    good_answer: str
    fields: tuple[Field, ...] = ()
    follow_ups: tuple[str, ...] = ()
    compose: str | None = None  # paraphrase | maths | money: the workbook writes this one from the answers
    parts: tuple[str, ...] = ()  # paraphrase fragments, each used once all its {keys} are answered
    repeat: str | None = None  # dotted path to a list in the engagement: the question is asked for each item
    item_label: str = ""  # how an item is named, e.g. "{item}"

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.type]


@dataclass(frozen=True)
class Bank:
    workbook: str
    title: str
    stages: dict[int, str]
    questions: tuple[Question, ...]

    def stage(self, number: int) -> list[Question]:
        return [q for q in self.questions if q.stage == number]

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def fields(self) -> dict[str, Field]:
        """Every field by key (repeated ones under their ``{i}`` template)."""
        return {f.key: f for q in self.questions for f in q.fields}

    def field_for(self, key: str) -> Field | None:
        """The field that stores ``key`` (``bom.2.role`` finds ``bom.{i}.role``)."""
        found = self.fields().get(key)
        if found is None:
            found = self.fields().get(re.sub(r"^([a-z][a-z0-9_]*)\.[^.]+\.([a-z0-9_]+)$", r"\1.{i}.\2", key))
        return found


# -- loading and checking -----------------------------------------------------------
def load_bank(workbook: str, *, path: str | Path | None = None) -> Bank:
    """The checked question bank of one workbook."""
    banks = _load(str(path or BANK_PATH))
    if workbook not in banks:
        raise InputError(f"{Path(path or BANK_PATH).name}: no questions for workbook {workbook!r}; it has: {', '.join(banks)}")
    return banks[workbook]


@lru_cache(maxsize=8)
def _load(path: str) -> dict[str, Bank]:
    import yaml

    source = Path(path)
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"question bank {source}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"question bank {source.name}: not valid YAML ({exc})") from None
    return check_bank(data, source=source.name)


def check_bank(data: Any, *, source: str = "question_bank.yaml") -> dict[str, Bank]:
    """Validate a parsed bank; every problem names the question and the key."""
    if not isinstance(data, Mapping) or data.get("schema") != BANK_SCHEMA:
        raise InputError(f"{source}: expected a mapping with schema {BANK_SCHEMA!r} and workbooks")
    workbooks = data.get("workbooks")
    if not isinstance(workbooks, Mapping) or not workbooks:
        raise InputError(f"{source}: 'workbooks' must map workbook ids to their questions")
    return {str(wid): _check_workbook(str(wid), spec, source) for wid, spec in workbooks.items()}


def _check_workbook(wid: str, spec: Any, source: str) -> Bank:
    where = f"{source}: {wid}"
    if not isinstance(spec, Mapping):
        raise InputError(f"{where}: expected title, stages and questions")
    _only(spec, ("title", "stages", "questions"), where)
    stages = spec.get("stages")
    if not isinstance(stages, Mapping) or sorted(stages) != list(range(1, len(stages) + 1)):
        raise InputError(f"{where}: 'stages' must number the stages 1, 2, 3, ... with a title each")
    questions = spec.get("questions")
    if not isinstance(questions, list) or not questions:
        raise InputError(f"{where}: 'questions' must be a non-empty list")
    checked: list[Question] = []
    seen_ids: set[str] = set()
    seen_keys: set[str] = set()
    for n, q in enumerate(questions):
        question = _check_question(q, n, where, stages)
        if question.id in seen_ids:
            raise InputError(f"{where} question {question.id!r}: the id is used twice")
        seen_ids.add(question.id)
        for f in question.fields:
            if f.key in seen_keys:
                raise InputError(f"{where} question {question.id!r} field {f.key!r}: another question already fills this key")
            seen_keys.add(f.key)
        checked.append(question)
    for question in checked:
        for part in question.parts:
            for key in re.findall(r"\{([a-z0-9_.]+)\}", part):
                if key not in seen_keys:
                    raise InputError(f"{where} question {question.id!r}: parts refer to {key!r}, which no question fills")
    return Bank(wid, str(spec.get("title") or wid), {int(k): str(v) for k, v in stages.items()}, tuple(checked))


def _check_question(q: Any, n: int, where: str, stages: Mapping[int, Any]) -> Question:
    if not isinstance(q, Mapping):
        raise InputError(f"{where} question {n + 1}: expected a mapping")
    qid = q.get("id")
    here = f"{where} question {qid!r}" if qid else f"{where} question {n + 1}"
    _only(
        q,
        (
            "id",
            "stage",
            "type",
            "prompt",
            "purpose",
            "good_answer",
            "fields",
            "follow_ups",
            "compose",
            "parts",
            "repeat",
            "item_label",
        ),
        here,
    )
    if not isinstance(qid, str) or not _QUESTION_ID.fullmatch(qid):
        raise InputError(f"{here}: 'id' must be lower-case letters, digits and underscores")
    for key in ("prompt", "purpose", "good_answer"):
        if not isinstance(q.get(key), str) or not q[key].strip():
            raise InputError(f"{here}: {key!r} is missing; every question says it, in plain words")
    if q.get("stage") not in stages:
        raise InputError(f"{here}: stage must be one of {', '.join(map(str, stages))}; got {q.get('stage')!r}")
    if q.get("type") not in TYPES:
        raise InputError(f"{here}: type must be one of {', '.join(TYPES)}; got {q.get('type')!r}")
    compose = q.get("compose")
    if compose is not None and compose not in COMPOSERS:
        raise InputError(f"{here}: compose must be one of {', '.join(COMPOSERS)}; got {compose!r}")
    parts = q.get("parts") or []
    if compose == "paraphrase" and not parts:
        raise InputError(f"{here}: a paraphrase needs 'parts', the fragments it is written from")
    repeat = q.get("repeat")
    fields = q.get("fields") or []
    if not isinstance(fields, list):
        raise InputError(f"{here}: 'fields' must be a list")
    checked = tuple(_check_field(f, i, here, repeated=repeat is not None) for i, f in enumerate(fields))
    follow_ups = q.get("follow_ups") or []
    if not isinstance(follow_ups, list) or not all(isinstance(x, str) for x in follow_ups):
        raise InputError(f"{here}: 'follow_ups' must be a list of questions")
    return Question(
        id=qid,
        stage=int(q["stage"]),
        type=q["type"],
        prompt=q["prompt"].strip(),
        purpose=q["purpose"].strip(),
        good_answer=q["good_answer"].strip(),
        fields=checked,
        follow_ups=tuple(follow_ups),
        compose=compose,
        parts=tuple(str(p) for p in parts),
        repeat=repeat,
        item_label=str(q.get("item_label") or ""),
    )


def _check_field(f: Any, i: int, where: str, *, repeated: bool) -> Field:
    if not isinstance(f, Mapping):
        raise InputError(f"{where} field {i + 1}: expected a mapping with key, kind and label")
    key = f.get("key")
    here = f"{where} field {key!r}" if key else f"{where} field {i + 1}"
    _only(
        f,
        ("key", "kind", "label", "hint", "unit", "options", "min", "max", "integer", "not_past", "long", "source", "optional"),
        here,
    )
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InputError(f"{here}: 'key' must be lower-case letters, digits and underscores (repeated: name.{{i}}.part)")
    if repeated != ("{i}" in key):
        raise InputError(f"{here}: a repeated question's keys contain '.{{i}}.' and only theirs do")
    kind = f.get("kind")
    if kind not in KINDS:
        raise InputError(f"{here}: unknown kind {kind!r}; expected {', '.join(KINDS)}")
    if not isinstance(f.get("label"), str) or not f["label"].strip():
        raise InputError(f"{here}: 'label' is missing")
    options = f.get("options") or []
    if kind == "choice" and (not isinstance(options, list) or len(options) < 2):
        raise InputError(f"{here}: a choice needs at least two options")
    if kind != "choice" and options:
        raise InputError(f"{here}: only a choice has options")
    for name in ("min", "max"):
        if f.get(name) is not None and (kind != "number" or not isinstance(f[name], (int, float)) or isinstance(f[name], bool)):
            raise InputError(f"{here}: {name!r} must be a number, on number fields only")
    if f.get("not_past") and kind != "date":
        raise InputError(f"{here}: 'not_past' applies to dates only")
    return Field(
        key=key,
        kind=kind,
        label=f["label"].strip(),
        hint=str(f.get("hint") or ""),
        unit=str(f.get("unit") or ""),
        options=tuple(str(o) for o in options),
        minimum=f.get("min"),
        maximum=f.get("max"),
        integer=bool(f.get("integer")),
        not_past=bool(f.get("not_past")),
        long=bool(f.get("long")),
        source=f.get("source"),
        optional=bool(f.get("optional")),
    )


def _only(mapping: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise InputError(f"{where}: unknown key {key!r}; expected one of: {', '.join(allowed)}")


# -- answers: checking, defaults from the engagement, repeated questions -----------------
def lookup(data: Any, path: str | None) -> Any:
    """Follow a dotted path through dicts, lists (by index) and objects; ``None`` if absent.

    >>> lookup({"solution": {"support": {"level": "Gold"}}}, "solution.support.level")
    'Gold'
    """
    if not path:
        return None
    current = data
    for part in path.split("."):
        if current is None:
            return None
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list):
            current = current[int(part)] if part.isdigit() and int(part) < len(current) else None
        else:
            current = getattr(current, part, None)
    return current


@dataclass(frozen=True)
class Item:
    """One asking of a question: ``slot`` (the item's id, else its position) is set for repeated questions."""

    question: Question
    slot: int | str | None = None
    label: str = ""
    data: Any = None  # the repeated item (a BOM line, a capability, an outcome)

    def key(self, f: Field) -> str:
        return f.key_for(self.slot)

    def default(self, f: Field) -> Any:
        return lookup(self.data, f.source)


def items(question: Question, engagement: Any) -> list[Item]:
    """The question once, or once per item of its ``repeat`` list (empty list: not asked)."""
    if question.repeat is None:
        return [Item(question, data=engagement)]
    rows = lookup(engagement, question.repeat) or []
    out = []
    for i, row in enumerate(rows):
        values = row if isinstance(row, Mapping) else getattr(row, "__dict__", {})
        label = (
            re.sub(r"\{([a-z_]+)\}", lambda m, values=values: str(values.get(m.group(1)) or ""), question.item_label)
            or f"item {i + 1}"
        )
        slot = values.get("id") or i  # ids survive reordering; positions are all a BOM line has
        out.append(Item(question, slot, label.strip(), row))
    return out


def defaults(bank: Bank, engagement: Any) -> dict[str, Any]:
    """Answers the engagement file already gives (BOM roles, outcome statuses, ...)."""
    out: dict[str, Any] = {}
    for q in bank.questions:
        for item in items(q, engagement):
            for f in q.fields:
                value = item.default(f)
                if value is not None and value != "":
                    out[item.key(f)] = value
    return out


def check_answers(
    bank: Bank, answers: Mapping[str, Any], *, source: str = "answers", today: dt.date | None = None
) -> dict[str, Any]:
    """Validate a mapping of answers (e.g. papermill's ``answers`` parameter) against the bank."""
    if not isinstance(answers, Mapping):
        raise InputError(f"{source}: expected a mapping of answer key to value, got {type(answers).__name__}")
    out = {}
    for key, raw in answers.items():
        f = bank.field_for(str(key))
        if f is None:
            known = ", ".join(sorted(k for k in bank.fields() if "{i}" not in k))
            raise InputError(f"{source}: unknown answer key {key!r} for {bank.workbook}; known keys: {known}")
        try:
            out[str(key)] = f.parse(raw, today=today)
        except InputError as exc:
            raise InputError(f"{source}: {key}: {exc}") from None
    return out


def parse_answers_parameter(value: Any, bank: Bank, *, today: dt.date | None = None) -> dict[str, Any]:
    """The notebooks' ``answers`` parameter: ``None``, a mapping, or YAML/JSON text of one."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        import yaml

        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            raise InputError("parameter answers: not a mapping; write it like {this_year_target: 26000}") from None
    return check_answers(bank, value, source="parameter answers", today=today)


def is_answered(value: Any) -> bool:
    return value is not None and value != ""


@dataclass
class OpenQuestion:
    question: Question
    label: str
    missing: list[str] = field(default_factory=list)


def open_questions(bank: Bank, engagement: Any, answers: Mapping[str, Any]) -> list[OpenQuestion]:
    """Questions with a required field neither answered nor given by the engagement file."""
    out = []
    for q in bank.questions:
        for item in items(q, engagement):
            missing = [f.label for f in q.fields if not f.optional and not is_answered(answers.get(item.key(f)))]
            if missing:
                out.append(OpenQuestion(q, item.label, missing))
    return out
