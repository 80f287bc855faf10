"""Reading report text as a person does: the no-break spaces and word joiners the reports put
inside "37.3 %", "Week 9" and "-€35,000" (csm_nb.render.html.keep_together) read as plain text."""

from __future__ import annotations


def plain(text: str) -> str:
    """``text`` with no-break spaces as spaces and word joiners removed.

    >>> plain("37.3\\u00a0% by Week\\u00a09: -\\u2060€5")
    '37.3 % by Week 9: -€5'
    """
    return text.replace("\u00a0", " ").replace("\u2060", "")
