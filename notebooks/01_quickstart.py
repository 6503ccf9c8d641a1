# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Quickstart: from raw exports to journeys in five minutes
#
# The bundled sample is two weeks of a web shop: GA4 events, Intercom chats, Amazon Connect
# calls and a CRM table. One call loads it, stitches identities across channels, builds
# sessions and journeys and ranks friction. Everything runs in an embedded DuckDB file.

# %%
from pathlib import Path

import journey_mining as jm

CONFIG = Path("../data/sample/config.yaml")
summary = jm.run(CONFIG, dashboard=False)
analysis = jm.open(CONFIG)
analysis

# %% [markdown]
# ## Where did the data come from?
# Every file is accounted for: rows read = loaded + duplicate + rejected.

# %%
from journey_mining.report import format_source_counts

print(format_source_counts(summary.load.by_source()))

# %% [markdown]
# ## Sessions and journeys
# A session ends after 30 minutes without activity; a journey groups a customer's sessions
# until a conversion or 7 days of inactivity. Journeys cross channels.

# %%
journeys = analysis.journeys()
journeys[["journey_id", "sessions", "touchpoints", "channels", "converted", "conversion_touchpoint"]].head()

# %%
cross_channel = journeys.assign(cross=journeys["channel_count"] > 1).groupby("cross")["converted"].agg(["size", "mean"])
cross_channel

# %% [markdown]
# ## The most common paths

# %%
analysis.paths(top=10)

# %% [markdown]
# ## The journey map
# Path-true Sankey: follow a ribbon across steps and its width is the number of sessions
# that took exactly that route. Exits drop into a red node per step.

# %%
analysis.sankey(steps=6, top_k=8)

# %% [markdown]
# ## The funnel

# %%
funnel = analysis.funnel()
funnel[["step_number", "touchpoint", "reached", "rate_from_previous", "median_seconds"]]

# %%
assert funnel["reached"].is_monotonic_decreasing, "a funnel can only narrow"
assert summary.headline["sessions"] == len(analysis.sessions())
