"""Prefect flows. Importing this package sets safe local Prefect defaults (no telemetry,
a project-local PREFECT_HOME, a startup timeout long enough for a fresh temporary server);
anything already set in the environment wins."""

from __future__ import annotations

import os
from pathlib import Path

_PROJECT = Path(__file__).resolve().parents[1]

os.environ.setdefault("PREFECT_HOME", str(_PROJECT / ".prefect"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
