"""Journeys: moving every customer of a campaign through its steps, set-based, in batches."""
