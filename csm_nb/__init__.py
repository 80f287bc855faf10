"""csm_nb: the logic behind the csm-workbooks notebooks.

Importing the package is cheap: the calculation modules (``cashflow``,
``engagement``, ``store``) pull in neither papermill, nbconvert nor ipywidgets.
"""

from __future__ import annotations

__version__ = "0.1.0"
