"""Entry point of the frozen executable (PyInstaller): `ruckus-agent` built from packaging/ruckus-agent.spec.

`multiprocessing.freeze_support()` comes first: the job system starts each job's worker with the "spawn"
start method, which in a frozen build re-runs this very executable with multiprocessing's own arguments;
freeze_support() recognises them, runs the worker and exits, before any of the agent's start-up runs.
"""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from ruckus_agent.main import main

    sys.exit(main())
