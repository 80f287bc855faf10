"""Rendering: charts, report HTML, the index pages, spreadsheets."""
