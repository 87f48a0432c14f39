"""Finding, importing and building submissions: the only place that imports a submission's ``model.py``."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import torch

from harness import paths
from harness.errors import BadInputError, FormatError, HarnessError, UnknownNameError
from harness.submissions.spec import SubmissionSpec, read_spec
from harness.submissions.user_code import CheckedModel, UserCode

if TYPE_CHECKING:
    from harness.datasets.registry import DatasetSpec


@dataclass(frozen=True)
class Submission:
    path: Path
    spec: SubmissionSpec
    module: ModuleType

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def model_file(self) -> Path:
        return self.path / "model.py"

    @property
    def toml_file(self) -> Path:
        return self.path / "submission.toml"

    def input_size(self, dataset: DatasetSpec) -> int:
        """The crop every run of this submission on ``dataset`` uses: frames (mel96) or K (stft-square).

        One owner per feature: a mel96 crop is the submission's ``crop_frames``; a stft-square image
        is the dataset's ``square_size`` (the whole K x K image). A stft-square ``crop_frames`` that
        differs from it is a ``FormatError`` naming ``submission.toml`` and both values.
        """
        crop = self.spec.crop_frames
        if self.spec.feature != "stft-square":
            assert crop is not None  # SubmissionSpec requires it for mel96
            return crop
        size = dataset.protocol.square_size
        if crop is not None and crop != size:
            raise FormatError(
                f"{self.toml_file}: crop_frames = {crop}, but stft-square runs on {dataset.name} use its "
                f"{size} x {size} images (square_size in {dataset.registry_path}); the dataset sets K for "
                f"stft-square: remove crop_frames, or use a dataset whose square_size is {crop}"
            )
        return size

    def build(self, num_tags: int) -> torch.nn.Module:
        with self.user_code(f"build({num_tags}, **params of the model table)"):
            model = self.module.build(num_tags, **self.spec.model_params)
        if not isinstance(model, torch.nn.Module):
            raise FormatError(f"{self.model_file}: build() returned {type(model).__name__}, not a torch.nn.Module")
        return model

    def user_code(self, what: str, error: type[HarnessError] = FormatError, only_from_model: bool = False) -> UserCode:
        """A context in which what the submission's code raises is its error: see :class:`UserCode`."""
        return UserCode(self.model_file, what, error, only_from_model)

    def checked(self, model: torch.nn.Module, num_tags: int) -> CheckedModel:
        """``model`` with every forward pass checked (see :class:`CheckedModel`), for training and prediction."""
        return CheckedModel(model, self, num_tags)


def list_submissions() -> list[str]:
    directory = paths.submissions_dir()
    return sorted(p.parent.name for p in directory.glob("*/submission.toml")) if directory.is_dir() else []


def resolve_submission_path(name_or_path: str | Path) -> Path:
    """A folder path, or the name of a folder in ``submissions/``."""
    candidate = Path(name_or_path)
    if (candidate / "submission.toml").is_file():
        return candidate.resolve()
    by_name = paths.submissions_dir() / str(name_or_path)
    if (by_name / "submission.toml").is_file():
        return by_name.resolve()
    if candidate.is_dir():
        raise BadInputError(f"{candidate}: no submission.toml in this folder; see `harness submissions new NAME`")
    raise UnknownNameError("submission", str(name_or_path), list_submissions())


def load_submission(name_or_path: str | Path) -> Submission:
    path = resolve_submission_path(name_or_path)
    spec = read_spec(path)
    model_file = path / "model.py"
    if not model_file.is_file():
        raise FormatError(f"{model_file}: missing; it must define build(num_tags, **params)")
    module_name = f"harness_submission_{path.name.replace('-', '_').replace('.', '_')}"
    import_spec = importlib.util.spec_from_file_location(module_name, model_file)
    assert import_spec is not None and import_spec.loader is not None
    module = importlib.util.module_from_spec(import_spec)
    sys.modules[module_name] = module
    try:
        with UserCode(model_file, "import", FormatError):  # a submission's own bug, sys.exit() included
            import_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    if not callable(getattr(module, "build", None)):
        raise FormatError(f"{model_file}: no build(num_tags, **params) function")
    return Submission(path=path, spec=spec, module=module)


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
