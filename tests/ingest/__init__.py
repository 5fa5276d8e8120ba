"""Customer data import tests."""
