"""The one home of every rule that must hold on every send: consent, quiet hours, caps, budget."""
