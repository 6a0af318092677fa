"""The cluster manager: the membership an application sees, and split-brain resolution on top of SWIM.

`manager.py` holds `ClusterManager` (it wraps a `Node` and is driven exactly like one); the
other modules each own one concept: `config.py` (its settings and which apply to which
strategy), `events.py` (what it tells the application), `view.py` (the application view and its
settle window), `tables.py` (the state its managers gossip: lives, downs, observations),
`downing.py` (what a strategy sees and what a decision downs), one module per downing strategy
stating its rule at the top (`keep_majority.py`, `static_quorum.py`, `keep_oldest.py`,
`keep_referee.py`, `lease_majority.py`, `down_all.py`), `strategies.py` (name → strategy),
`lease.py` (the lease in the outside world) and `driver.py` (the Driver that routes lease
requests). Nothing here is imported by this file, so `protocol.events` can import
`manager.events` without a cycle.
"""
