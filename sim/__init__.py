"""The discrete-event runtime (SimPy) and the controlled scheduler for race exploration."""

if __name__ != "swimlab.sim":  # one module identity: two names would make two copies of every class
    raise ImportError(f"import swimlab.sim, not {__name__} (swimlab's packages live under one name)")
