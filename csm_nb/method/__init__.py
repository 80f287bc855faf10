"""The method's pure maths: no files, no store, no widgets."""
