"""Submission folders: ``submission.toml`` + ``model.py`` (+ ``README.md``).

This package is the only code that imports submission code. Its modules:

- :mod:`~harness.submissions.spec`: ``submission.toml``, its fields and checks (``SubmissionSpec``);
- :mod:`~harness.submissions.loading`: finding, importing and building a submission (``Submission``);
- :mod:`~harness.submissions.user_code`: errors of the submission's code and checked model outputs;
- :mod:`~harness.submissions.optimizer`: the optimiser of ``[optimizer]``;
- :mod:`~harness.submissions.check`: ``harness submissions check``;
- :mod:`~harness.submissions.new`: ``harness submissions new`` and its ``templates/``.

The model
---------
``model.py`` defines ``build(num_tags: int, **params) -> torch.nn.Module``; ``params`` are the
``[model]`` table of ``submission.toml``. The module maps a batch of features to logits
``(B, num_tags)``; the harness applies the sigmoid. The batch depends on ``feature``:

- ``mel96``: ``(B, 1, 96, crop_frames)`` mel-spectrogram crops in dB; ``crop_frames`` is the
  submission's (required);
- ``stft-square``: ``(B, 1, K, K)`` square log power spectrograms, the whole image of an item; ``K``
  is the dataset's (its registry's ``[protocol] square_size``: 513 for CAL500, 257 for CAL500exp
  and by default). Leave ``crop_frames`` out; one that is set pins K, and a run or check on a
  dataset with another K is refused with one line naming ``submission.toml`` and both values.

No-training submissions
-----------------------
``[training] epochs = 0`` means "no training: the model is evaluated as built". The whole
``[optimizer]`` table may then be left out (it defaults to adam with lr 1e-3, recorded and unused),
``batch_size`` defaults to 64, and ``patience`` is ignored. Such a model may have no parameters at
all: the naive baselines ``submissions/popular`` and ``submissions/random`` are built this way.
``SubmissionSpec.trains`` is ``epochs > 0``.

Label statistics: ``fit_labels``
--------------------------------
A built module may define ``fit_labels(self, labels: torch.Tensor) -> None``. The runner calls it
once per run, after ``build`` and before training (or, with ``epochs = 0``, before evaluation),
with the training split's label matrix: float32, shape ``(items, num_tags)``, values 0.0 or 1.0,
columns in the dataset's tag order. It is the only label information a model gets outside its
training batches; what it learns from them should be kept in buffers, so checkpoints carry it.
"""

from __future__ import annotations

from harness.submissions.check import DEFAULT_CHECK_DATASET, check_submission
from harness.submissions.loading import (
    Submission,
    count_parameters,
    list_submissions,
    load_submission,
    resolve_submission_path,
)
from harness.submissions.new import new_submission
from harness.submissions.optimizer import OptimizerSettings, make_optimizer
from harness.submissions.spec import (
    MAX_CROP_FRAMES,
    MAX_NAME_LENGTH,
    NAME_PATTERN,
    NAME_RULE,
    OPTIMIZERS,
    SubmissionSpec,
    is_valid_name,
    read_spec,
)
from harness.submissions.user_code import CheckedModel, UserCode, logits_problem

__all__ = [
    "DEFAULT_CHECK_DATASET",
    "MAX_CROP_FRAMES",
    "MAX_NAME_LENGTH",
    "NAME_PATTERN",
    "NAME_RULE",
    "OPTIMIZERS",
    "CheckedModel",
    "OptimizerSettings",
    "Submission",
    "SubmissionSpec",
    "UserCode",
    "check_submission",
    "count_parameters",
    "is_valid_name",
    "list_submissions",
    "load_submission",
    "logits_problem",
    "make_optimizer",
    "new_submission",
    "read_spec",
    "resolve_submission_path",
]
