"""The built-in engagement models, as YAML documents (read by :mod:`csm_nb.data.engagement_model`)."""
