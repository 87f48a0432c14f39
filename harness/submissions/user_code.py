"""Errors of a submission's own code, and its model's output, turned into one line naming ``model.py``.

User code is not trusted to stay inside ``Exception``: a ``sys.exit()`` (or any ``BaseException``
but ``KeyboardInterrupt``) raised while importing ``model.py``, in ``build``, ``fit_labels``, a
forward or a backward pass is reported like any other error of the submission, since otherwise it
would end the harness with no message (and, for ``sys.exit()``, with exit status 0).
"""

from __future__ import annotations

import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import torch

from harness.errors import FormatError, HarnessError, RunFailedError

if TYPE_CHECKING:
    from harness.submissions.loading import Submission


class UserCode:
    """Turn an error of the submission's code into one ``error`` line naming ``model.py`` and the line.

    ``what`` says what was being done (``fit_labels on ...``). Every exception, and every other
    ``BaseException`` but ``KeyboardInterrupt``: a ``sys.exit()`` in ``model.py`` would otherwise end
    the harness without a word. HarnessErrors pass unchanged. With ``only_from_model`` (around code
    that is mostly the harness's, such as a training epoch, where a submission's custom backward may
    run) only what was raised in ``model.py`` itself, or a ``SystemExit``, is blamed on it; anything
    else propagates as it is. An out-of-memory error is a failed run (exit 1), not a bad submission.
    """

    def __init__(self, model_file: Path, what: str, error: type[HarnessError], only_from_model: bool = False) -> None:
        self.model_file, self.what, self.error, self.only_from_model = model_file, what, error, only_from_model

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> bool:
        if exc is None or isinstance(exc, (KeyboardInterrupt, HarnessError)):
            return False
        from_model = isinstance(exc, SystemExit) or _line_in(self.model_file, exc) is not None
        if self.only_from_model and not from_model:
            return False
        if isinstance(exc, torch.OutOfMemoryError):
            raise RunFailedError(
                f"{self.model_file}: {self.what} ran out of memory ({_describe(exc).splitlines()[0][:200]}); "
                f"lower training.batch_size in {self.model_file.parent / 'submission.toml'} or use a smaller model"
            ) from exc
        raise self.error(f"{_where(self.model_file, exc)}: {self.what} failed: {_describe(exc)}") from exc


class CheckedModel(torch.nn.Module):
    """A submission's model (or its DDP / compiled wrapper) whose every forward pass is checked.

    The output must be a floating-point tensor of logits ``(batch, num_tags)``; anything else (a
    tuple, a dict, the wrong width or batch size) is a ``FormatError`` naming ``model.py``, what it
    returned and what was expected, raised on the first batch that shows it, before anything of the
    run is recorded; an error raised in the forward pass is one too (see :class:`UserCode`). Only
    shapes and types are checked, which needs no device synchronisation. Checkpoints keep saving the
    wrapped model, so their keys do not change.
    """

    def __init__(self, model: torch.nn.Module, submission: Submission, num_tags: int) -> None:
        super().__init__()
        self.model = model
        self.model_file = submission.model_file
        self.submission = submission
        self.num_tags = num_tags

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        context = f"on {tuple(x.shape)} in {'train' if self.training else 'eval'} mode"
        with self.submission.user_code(f"forward pass {context}"):
            logits = self.model(x)
        problem = logits_problem(logits, x.shape[0], self.num_tags)
        if problem is not None:
            raise FormatError(f"{self.model_file}: forward pass {context} {problem}")
        return logits


def logits_problem(logits: object, batch: int, num_tags: int) -> str | None:
    """What is wrong with a forward pass's output, in words; None for float logits ``(batch, num_tags)``."""
    expected = f"expected ({batch}, {num_tags}) logits (batch, num_tags)"
    if not isinstance(logits, torch.Tensor):
        return f"returned {_shown_output(logits)}, not a tensor of logits; {expected}"
    if tuple(logits.shape) != (batch, num_tags):
        return f"gives shape {tuple(logits.shape)}, {expected}"
    if not logits.is_floating_point():
        return f"gives {logits.dtype} logits, {expected} as floating point"
    return None


def _shown_output(value: object) -> str:
    """A model's output named for a person: ``tuple of 2 (Tensor, Tensor)``, ``dict with keys 'logits'``."""
    if isinstance(value, (tuple, list)):
        items = ", ".join(type(v).__name__ for v in value[:4]) + (", ..." if len(value) > 4 else "")
        return f"a {type(value).__name__} of {len(value)} ({items})"
    if isinstance(value, dict):
        keys = ", ".join(repr(k) for k in list(value)[:4]) + (", ..." if len(value) > 4 else "")
        return f"a dict with keys {keys}" if value else "an empty dict"
    return "None" if value is None else f"a {type(value).__name__}"


def _describe(exc: BaseException) -> str:
    """``Type: message`` on one line; a ``SystemExit`` says what it would have done and what to do instead."""
    if isinstance(exc, SystemExit):
        code = "" if exc.code is None else repr(exc.code)
        return (
            f"it called sys.exit({code}) (SystemExit), which would end the harness without a word; "
            "raise an exception with a message instead"
        )
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _where(model_file: Path, exc: BaseException) -> str:
    """``model.py:LINE`` for the innermost frame of the exception in ``model_file``, else the path."""
    line = _line_in(model_file, exc)
    return f"{model_file}:{line}" if line else str(model_file)


def _line_in(model_file: Path, exc: BaseException) -> int | None:
    """The line of the innermost frame of ``exc``'s traceback in ``model_file`` (or of its syntax error)."""
    line = None
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename) == model_file:
        line = exc.lineno
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == model_file:
            line = frame.lineno
    return line
