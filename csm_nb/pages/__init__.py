"""What each workbook shows. One module per workbook id; each has
``applies(engagement) -> bool`` (does the workbook have anything to show?)
and a page class the notebook calls. Notebooks hold no logic of their own."""
