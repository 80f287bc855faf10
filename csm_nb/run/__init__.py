"""Running workbooks: the registry, kernels, export, reports and portfolios."""
