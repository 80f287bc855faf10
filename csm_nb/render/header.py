"""The report's header (customer, initiative, dates, CSM, currency, engagement, audience), made by the running workbook.

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

from csm_nb.method.dates import date_words
from csm_nb.model import Engagement

REPORT_HEADER_MIME = "application/vnd.csm-nb.report-header+json"


def report_header(
    engagement: Engagement, *, workbook: str, title: str, as_of: dt.date | None = None, audience: str = "customer"
) -> dict[str, Any]:
    """What a report's header and footer show, as plain JSON: ``generated`` is today's date, ``as_of``
    the date the figures are judged at (ISO, and in words as ``as_of_words``; none given: today),
    ``audience`` who may read it (an ``internal`` report shows a band saying it is not for the customer).

    >>> h = report_header(Engagement(id="acme", customer="Acme", csm="Sam"), workbook="cash_flow", title="Cash flow",
    ...                   as_of=dt.date(2026, 11, 30))
    >>> sorted(h)
    ['as_of', 'as_of_words', 'audience', 'csm', 'currency', 'customer', 'engagement_id', 'generated', 'initiative', 'revision', 'title', 'workbook']
    >>> h["customer"], h["currency"], h["as_of_words"], h["audience"]
    ('Acme', 'USD', '30 November 2026', 'customer')
    """
    as_of = as_of or dt.date.today()
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
        "as_of": as_of.isoformat(),
        "as_of_words": date_words(as_of),
        "audience": audience,
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
