"""`python -m swimlab.sim.interleave`: the `swimlab races` command without the top-level CLI."""

import sys

from .cli import main

sys.exit(main())
