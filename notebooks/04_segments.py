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
# # How do segments differ? Devices, weekdays, contact topics
#
# Question from the COO: where should we act first: mobile checkout, call-center
# staffing, or a support topic that keeps coming back?

# %%
import json
from pathlib import Path

import journey_mining as jm

CONFIG = Path("../data/sample/config.yaml")
jm.run(CONFIG, dashboard=False)
analysis = jm.open(CONFIG)
planted = json.loads(Path("../data/sample/planted.json").read_text())

# %% [markdown]
# ## Mobile vs desktop, side by side

# %%
analysis.compare("device", "mobile", "desktop")

# %% [markdown]
# ## Call waits and abandonment by weekday

# %%
waits = analysis.friction(kind="abandoned_contact", significant_only=False)
waits[waits["segment"] == "weekday"][["location", "segment_value", "affected", "base", "rate", "lift", "q_value", "significant"]]

# %% [markdown]
# ## Topics customers contact us about again

# %%
repeats = analysis.friction(kind="repeat_contact", significant_only=False)
repeats[["location", "affected", "base", "rate", "baseline_rate", "lift", "q_value", "significant"]]

# %% [markdown]
# ## Which channels matter for conversion? (Markov removal effect)

# %%
analysis.removal_effects(by="channel")

# %% [markdown]
# ## Conclusion
# Monday call queues are where callers give up, and refund-status contacts repeat within
# a week far more than other topics: both are staffing and process fixes, separate from
# the mobile payment problem.

# %%
monday = waits[(waits["segment"] == "weekday") & (waits["segment_value"] == "Monday")]
assert bool(monday["significant"].iloc[0]), "Monday abandonment should be significant"
assert repeats.sort_values("rate", ascending=False)["location"].iloc[0] == "refund_status"
queues = planted["monday_queue"]
assert queues["measured"]["monday"]["abandon_rate"] > 3 * queues["measured"]["other_days"]["abandon_rate"]
