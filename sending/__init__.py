"""The send engine: claim due sends, re-check them, send through channels, record outcomes."""
