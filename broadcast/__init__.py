"""Broadcast (public-domain and offline) channels: budget lines with a planned cost, results
recorded later from a CSV, ROI beside the addressable channels (their pop-up rules are in
compliance.rules.popup, the lines themselves in models.broadcast_lines)."""
