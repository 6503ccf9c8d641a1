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
# # Why are carts abandoned, and how many are rescued by phone?
#
# Question from the e-commerce lead: cart abandonment is high; is it a device problem,
# and do customers who abandon online finish the order with the call center?

# %%
import json
from pathlib import Path

import journey_mining as jm

CONFIG = Path("../data/sample/config.yaml")
jm.run(CONFIG, dashboard=False)
analysis = jm.open(CONFIG)
planted = json.loads(Path("../data/sample/planted.json").read_text())

# %% [markdown]
# ## The funnel by device

# %%
by_device = analysis.funnel(by="device")
by_device.pivot(index="touchpoint", columns="segment", values="rate_from_first").loc[list(analysis.config.funnel.steps)]

# %% [markdown]
# ## What the friction detector says
# Findings are ranked by the conversions they cost, with confidence intervals and a
# Benjamini-Hochberg correction across everything tested.

# %%
friction = analysis.friction()
cart_kinds = friction[friction["kind"].isin(["cart_abandonment", "checkout_abandonment", "error_touchpoint"])]
cart_kinds[["rank", "kind", "location", "segment_value", "rate", "baseline_rate", "lift", "q_value", "conversions_lost", "recovered"]]

# %%
for text in cart_kinds["explanation"].head(5):
    print("-", text)

# %% [markdown]
# ## Conclusion
# The payment step fails on mobile: after `add_payment_info`, mobile sessions hit
# `web:payment_error` many times more often than desktop. Part of the abandoned carts are
# recovered by a phone order within 24 hours.

# %%
errors = friction[(friction["kind"] == "error_touchpoint") & (friction["segment_value"] == "mobile")]
assert not errors.empty, "mobile payment errors should be a finding"
assert errors["lift"].iloc[0] > 3, "mobile payment errors should stand out"
measured = planted["payment_error_by_device"]["measured"]
assert measured["mobile"]["rate"] > 3 * measured["desktop"]["rate"]
carts = analysis.friction(kind="cart_abandonment", significant_only=False)
recovered = int(carts.loc[carts["segment"] == "all", "recovered"].iloc[0])
print(f"carts recovered by another channel within 24 h: {recovered}")
assert recovered > 0
