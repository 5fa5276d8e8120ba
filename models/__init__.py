"""Contracts (pydantic) and tables (SQLAlchemy): the shapes everything else agrees on."""
