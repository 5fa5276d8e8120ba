"""Planning: channel and send time per customer, the budget (测算) and its report
(docs/lifecycle.md#planning)."""
