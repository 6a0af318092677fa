"""The SWIM core, sans I/O: the state machine, its rules, wire format and the Driver."""

if __name__ != "swimlab.protocol":  # one module identity: two names would make two copies of every class
    raise ImportError(f"import swimlab.protocol, not {__name__} (swimlab's packages live under one name)")
