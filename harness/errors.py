"""Errors raised by the library; the CLI turns them into one line on stderr and an exit code.

Exit codes follow the command-line contract: 2 for bad input (a file, value or option the user
gave), 1 for a run or check that failed.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base class: a message a person can act on, and the exit code the CLI should use."""

    exit_code: int = 2

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class BadInputError(HarnessError):
    """A file, value or option given by the user is wrong (exit 2)."""

    exit_code = 2


class UnknownNameError(BadInputError):
    """An unknown dataset, submission, fold, split, run or metric name (exit 2)."""

    def __init__(self, kind: str, name: str, known: list[str] | tuple[str, ...]) -> None:
        listed = ", ".join(known) if known else "none"
        super().__init__(f"unknown {kind} {name!r}; known: {listed}")
        self.kind = kind
        self.name = name
        self.known = tuple(known)


class DataMissingError(BadInputError):
    """Data the command needs is not on disk; the message names the command that makes it."""


class FormatError(BadInputError):
    """A file exists but does not have the expected format (shape, columns, tags, fingerprint)."""


class RunFailedError(HarnessError):
    """A run, check or audit ran and failed (exit 1)."""

    exit_code = 1
