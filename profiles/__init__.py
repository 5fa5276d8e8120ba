"""Derived customer facts (RFM, segment, lifecycle, best hour, data tags), computed set-based in SQL."""
