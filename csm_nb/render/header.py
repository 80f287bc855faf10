"""The report's header (customer, initiative, date, CSM, currency, engagement), made by the running workbook.

A headless run ends by displaying one output whose only data is the header,
under the private MIME type ``REPORT_HEADER_MIME``. JupyterLab has no
renderer for that type, so it shows nothing there; the report template
(``templates/csm_report``) reads the header from it and renders nothing of
the output itself. So ``csm-nb run`` and plain papermill followed by
``jupyter nbconvert --template csm_report`` carry the same header, from one
source: the notebook that ran.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from csm_nb.model import Engagement

REPORT_HEADER_MIME = "application/vnd.csm-nb.report-header+json"


def report_header(engagement: Engagement, *, workbook: str, title: str) -> dict[str, Any]:
    """What a report's header and footer show, as plain JSON (``generated`` is today's date).

    >>> h = report_header(Engagement(id="acme", customer="Acme", csm="Sam"), workbook="cash_flow", title="Cash flow")
    >>> sorted(h), h["customer"], h["currency"]
    (['csm', 'currency', 'customer', 'engagement_id', 'generated', 'initiative', 'revision', 'title', 'workbook'], 'Acme', 'USD')
    """
    return {
        "engagement_id": engagement.id,
        "customer": engagement.customer,
        "initiative": (engagement.initiative or {}).get("name"),
        "csm": engagement.csm,
        "currency": engagement.currency_code,
        "workbook": workbook,
        "title": title,
        "generated": dt.date.today().isoformat(),
        "revision": engagement.revision,
    }


def show_report_header(header: dict[str, Any]) -> None:
    """Display ``header`` as the notebook's report header (an output of the running cell; see the module).

    Outside IPython (a script) there is no notebook to carry it, and nothing is shown.
    """
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is not None:
        display({REPORT_HEADER_MIME: header}, raw=True)
