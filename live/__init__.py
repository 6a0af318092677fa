"""The real-socket runtime: aioquic endpoints, the connection pool, cluster credentials."""

if __name__ != "swimlab.live":  # one module identity: two names would make two copies of every class
    raise ImportError(f"import swimlab.live, not {__name__} (swimlab's packages live under one name)")
