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
# # Which help pages fail and send customers to chat or call?
#
# Question from the support lead: self-service should deflect contacts. Which help
# pages are followed by a chat or a call within the hour?

# %%
import json
from pathlib import Path

import journey_mining as jm

CONFIG = Path("../data/sample/config.yaml")
jm.run(CONFIG, dashboard=False)
analysis = jm.open(CONFIG)
planted = json.loads(Path("../data/sample/planted.json").read_text())

# %%
escalation = analysis.friction(kind="escalation", significant_only=False)
escalation[["location", "affected", "base", "rate", "rate_ci_low", "rate_ci_high", "baseline_rate", "lift", "q_value", "significant"]]

# %% [markdown]
# ## What happens after the worst page?
# The Sankey focused on the help page shows the next steps of the sessions that saw it.

# %%
worst = escalation.sort_values("rate", ascending=False).iloc[0]["location"]
analysis.sankey(focus=worst, steps=4, top_k=6)

# %% [markdown]
# ## Conclusion
# `/help/delivery-status` fails: a large share of its visitors contact support within an
# hour, several times the rate of the other help pages.

# %%
assert worst == "web:help:delivery-status"
assert bool(escalation.set_index("location").loc[worst, "significant"])
page_rates = planted["help_page_escalation"]["measured"]
assert max(page_rates, key=lambda p: page_rates[p]["rate"]) == "/help/delivery-status"
