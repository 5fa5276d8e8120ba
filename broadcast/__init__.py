"""Broadcast (public-domain and offline) channels: budget lines with a planned cost, results
recorded later from a CSV, ROI beside the addressable channels, pop-up compliance."""
