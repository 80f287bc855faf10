"""The workshop forms (ipywidgets), drawn from the data and saved to the store."""
