"""journey-mining: customer journeys and friction from web, chat and call-center logs."""

from __future__ import annotations

__version__ = "0.1.0"
