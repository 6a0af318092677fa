"""Scenario files, their validation, the fault timeline, the runner, sweeps and the CLI."""

if __name__ != "swimlab.scenarios":  # one module identity: two names would make two copies of every class
    raise ImportError(f"import swimlab.scenarios, not {__name__} (swimlab's packages live under one name)")
