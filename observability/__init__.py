"""Metrics the worker serves to Prometheus."""
