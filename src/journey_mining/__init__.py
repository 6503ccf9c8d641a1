"""journey-mining: customer journeys and friction from web, chat and call-center logs.

    import journey_mining as jm
    jm.run("data/sample/config.yaml")       # load, stitch, sessionize, find friction
    analysis = jm.open("data/sample/config.yaml")
    analysis.friction()                      # ranked findings
"""

from __future__ import annotations

__version__ = "0.1.0"

from journey_mining.api import Analysis, open, run

__all__ = ["Analysis", "__version__", "open", "run"]
