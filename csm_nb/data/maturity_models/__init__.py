"""The built-in maturity models, as YAML documents (read by :mod:`csm_nb.data.maturity_model`)."""
