"""Charts and the stakeholder dashboard, drawn from the marts and the friction table."""
