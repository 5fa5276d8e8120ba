"""Errors an operator can act on: one clear line and an exit code, never a traceback."""

from __future__ import annotations


class OperatorError(Exception):
    """A problem with what the operator asked for; `code` is the process exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code
