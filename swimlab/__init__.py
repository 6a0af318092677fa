"""swimlab: a SWIM membership protocol written once, run on a deterministic simulator and on QUIC.

The packages live at the top of the repository (`protocol/`, `sim/`, `live/`, `scenarios/`,
`reports/`, the design card's layout) and are imported under this one name
(`swimlab.protocol`, `swimlab.sim.interleave`, ...), so installing swimlab puts nothing generic
on a user's path. The folders here are links to those packages.
"""

__version__ = "0.2.0"
