"""Trace reading, metrics, checks, result files, figures and HTML pages (never imports a runtime)."""

if __name__ != "swimlab.reports":  # one module identity: two names would make two copies of every class
    raise ImportError(f"import swimlab.reports, not {__name__} (swimlab's packages live under one name)")
