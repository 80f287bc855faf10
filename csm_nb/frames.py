"""The engagement's tables as pandas DataFrames, both ways.

pandas is the table of the package: the cash-flow lines, the measurements
and the KPI register come out of a page as DataFrames (``page.cash_flow``,
``page.measurements``, ``page.kpis``), and the functions that take those
tables accept a DataFrame as well as a list of records.

A DataFrame handed in is read as strictly as a CSV file: the columns must be
the contract's, every cell is read with the project's rules
(``vocabulary.parse_amount``: ``"$20,000"`` is accepted, ``"3,5"`` is not),
and an empty cell or NaN is "not known yet", never zero. A bad cell is one
:class:`~csm_nb.errors.InputError` naming the row and column.

Going out, "not known yet" is NaN in a float column (what pandas and
matplotlib skip when they sum or draw), and ``None`` in an object column.

pandas is imported when a table is first made, not with the package: the
command line reads and checks files without it (0.25 s less for every
``csm-nb`` command), and a value cannot be a DataFrame while pandas is not
imported, which ``is_frame`` uses.

>>> from csm_nb.model import CashFlowLine
>>> frame = cash_flow_frame([CashFlowLine("Week 0", 20000, 20000, 0, 0),
...                          CashFlowLine("Week 1", 20000, None, 12000, None)])
>>> frame.loc["Week 1", "revenue_est"], bool(frame["revenue_act"].isna().iloc[1])
(np.float64(12000.0), True)
>>> cash_flow_lines(frame)[1]
CashFlowLine(period='Week 1', expenditure_est=20000.0, expenditure_act=None, revenue_est=12000.0, revenue_act=None)
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from csm_nb.errors import InputError
from csm_nb.model import CashFlowLine, Kpi, Measurement
from csm_nb.vocabulary import parse_amount, parse_period

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CASH_FLOW_COLUMNS",
    "KPI_COLUMNS",
    "MEASUREMENT_COLUMNS",
    "cash_flow_frame",
    "cash_flow_lines",
    "is_frame",
    "known",
    "kpi_frame",
    "measurement_list",
    "measurements_frame",
    "pandas",
    "records_frame",
]

CASH_FLOW_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(CashFlowLine))
MEASUREMENT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Measurement))
KPI_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Kpi))


def pandas() -> Any:
    """The pandas module, imported on first use."""
    import pandas

    return pandas


def is_frame(value: object) -> bool:
    """Is ``value`` a pandas DataFrame? (without importing pandas: no DataFrame exists before it is imported)"""
    module = sys.modules.get("pandas")
    return module is not None and isinstance(value, module.DataFrame)


def known(value: Any) -> Any:
    """A cell as plain Python: NaN, NaT and pandas' NA become ``None`` (not known yet); numpy numbers become floats.

    >>> import pandas as pd
    >>> known(float("nan")) is None, known(pd.NA) is None, known(3), known("x")
    (True, True, 3, 'x')
    """
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    module = sys.modules.get("pandas")
    if module is not None and (value is module.NA or value is module.NaT):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def _columns(frame: pd.DataFrame, expected: Sequence[str], *, source: str, required: Sequence[str]) -> list[str]:
    """The frame's columns (an unnamed index named like a column counts as one), checked against the contract."""
    names = [str(c) for c in frame.columns]
    unknown = [c for c in names if c not in expected]
    if unknown:
        raise InputError(f"{source}: unknown column(s) {', '.join(map(repr, unknown))}; expected {', '.join(expected)}")
    if len(set(names)) != len(names):
        raise InputError(f"{source}: a column is named twice ({', '.join(names)})")
    missing = [c for c in required if c not in names]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)}; expected {', '.join(expected)}")
    return names


def _with_index_column(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``cash_flow_frame`` puts the period in the index; accept that shape back."""
    if column not in frame.columns and frame.index.name == column:
        return frame.reset_index()
    return frame


def _rows(frame: pd.DataFrame) -> Iterable[tuple[int, dict[str, Any]]]:
    """(row number as a person counts it, 1 = the first data row; the row as a dict of plain values)."""
    names = [str(c) for c in frame.columns]
    for number, values in enumerate(frame.itertuples(index=False, name=None), start=1):
        yield number, {n: known(v) for n, v in zip(names, values)}


# -- cash flow ---------------------------------------------------------------------------------------
def cash_flow_frame(lines: Sequence[CashFlowLine]) -> pd.DataFrame:
    """The cash-flow lines as a DataFrame indexed by ``period``: money out and in both positive, NaN = not known yet."""
    pd = pandas()
    data = {c: [getattr(line, c) for line in lines] for c in CASH_FLOW_COLUMNS[1:]}
    frame = pd.DataFrame(data, index=pd.Index([line.period for line in lines], name="period", dtype=object), dtype=float)
    return frame


def cash_flow_lines(table: Sequence[CashFlowLine] | pd.DataFrame, *, source: str = "cash-flow table") -> list[CashFlowLine]:
    """Cash-flow lines from a DataFrame (read as strictly as a cash-flow file) or a list of lines (kept as they are)."""
    if not is_frame(table):
        return list(table)  # type: ignore[arg-type]
    frame = _with_index_column(table, "period")  # type: ignore[arg-type]
    _columns(frame, CASH_FLOW_COLUMNS, source=source, required=("period",))
    lines = []
    for number, row in _rows(frame):
        period = row.get("period")
        if period is None or not str(period).strip():
            raise InputError(f"{source}, row {number}, column period: expected a period label such as 'Week 0', got nothing")
        amounts = {c: parse_amount(row.get(c), where=f"{source}, row {number}, column {c}") for c in CASH_FLOW_COLUMNS[1:]}
        lines.append(CashFlowLine(str(period).strip(), **amounts))
    return lines


# -- measurements ------------------------------------------------------------------------------------
def measurements_frame(measurements: Sequence[Measurement]) -> pd.DataFrame:
    """The measurements as a DataFrame: ``kpi``, ``period`` (an index from the KPI's start or an ISO date), ``value``."""
    pd = pandas()
    return pd.DataFrame(
        {
            "kpi": pd.Series([m.kpi for m in measurements], dtype=object),
            "period": pd.Series([m.period for m in measurements], dtype=object),
            "value": pd.Series([m.value for m in measurements], dtype=float),
        }
    )


def measurement_list(table: Sequence[Measurement] | pd.DataFrame, *, source: str = "measurements") -> list[Measurement]:
    """Measurements from a DataFrame (every cell checked as in a measurement file) or a list (kept as it is)."""
    if not is_frame(table):
        return list(table)  # type: ignore[arg-type]
    frame: pd.DataFrame = table  # type: ignore[assignment]
    _columns(frame, MEASUREMENT_COLUMNS, source=source, required=MEASUREMENT_COLUMNS)
    out = []
    for number, row in _rows(frame):
        kpi = row["kpi"]
        if kpi is None or not str(kpi).strip():
            raise InputError(f"{source}, row {number}, column kpi: expected a KPI id, got nothing")
        period = parse_period(row["period"], where=f"{source}, row {number}, column period")
        value = parse_amount(row["value"], where=f"{source}, row {number}, column value")
        if value is None:
            raise InputError(f"{source}, row {number}, column value: expected the measured value, got nothing")
        out.append(Measurement(str(kpi).strip(), period, value))
    return out


# -- the KPI register --------------------------------------------------------------------------------
def kpi_frame(kpis: Sequence[Kpi]) -> pd.DataFrame:
    """The KPI register as a DataFrame indexed by KPI ``id``: one column a field, baseline and target as floats."""
    frame = records_frame([{f: getattr(k, f) for f in KPI_COLUMNS} for k in kpis], columns=KPI_COLUMNS)
    for column in ("baseline", "target"):
        frame[column] = frame[column].astype(float)
    return frame.set_index("id")


def records_frame(records: Sequence[dict[str, Any]], *, columns: Sequence[str]) -> pd.DataFrame:
    """Rows of plain values as a DataFrame with exactly ``columns`` (missing keys are ``None``), object-typed
    so that ``None`` stays "not known yet" instead of turning into NaN or a number."""
    return pandas().DataFrame([[r.get(c) for c in columns] for r in records], columns=list(columns), dtype=object)
