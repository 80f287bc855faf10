"""The data: engagement files and tables, their schema, the SQLite store, results files."""
