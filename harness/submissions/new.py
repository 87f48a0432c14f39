"""``harness submissions new``: a working submission folder from the templates in ``templates/``.

The templates are real files of the package (``model.py``, ``submission.toml``, ``README.md``),
so they can be read, linted and diffed as what they are; ``@NAME@`` in them becomes the name.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from harness import paths
from harness.errors import BadInputError
from harness.submissions.spec import NAME_RULE, is_valid_name

TEMPLATE_FILES: tuple[str, ...] = ("submission.toml", "model.py", "README.md")


def template_text(filename: str) -> str:
    """The text of one template file (``@NAME@`` not yet replaced)."""
    return resources.files("harness.submissions").joinpath("templates", filename).read_text(encoding="utf-8")


def new_submission(name: str, directory: str | Path | None = None) -> Path:
    """Scaffold ``directory/name/`` (default: ``submissions/`` of this checkout) with a working small CNN.

    Writes ``submission.toml`` (every field, commented), ``model.py`` (a small CNN on mel96 with
    global pooling, so any crop of at least 8 frames works) and ``README.md`` (what to fill in).
    The folder passes ``check_submission`` as written. It is written beside the target and renamed
    into place, so an interrupted call leaves no half-made folder. Refuses an invalid name or an
    existing folder (``BadInputError``).
    """
    if not is_valid_name(name):
        raise BadInputError(f"invalid submission name {name!r}: {NAME_RULE}")
    parent = Path(directory) if directory is not None else paths.submissions_dir()
    target = parent / name
    if target.exists():
        raise BadInputError(f"{target}: already exists; choose another name or remove it")
    # before anything is written: a folder that cannot be made or written in is one line naming it
    paths.ensure_writable_dir(parent, "--dir" if directory is not None else "the submissions folder")
    texts = {filename: template_text(filename).replace("@NAME@", name) for filename in TEMPLATE_FILES}
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=parent))
    try:
        folder = staging / name  # made by mkdir, so it has the usual permissions (mkdtemp's are 0700)
        folder.mkdir()
        for filename, text in texts.items():
            (folder / filename).write_text(text, encoding="utf-8")
        os.rename(folder, target)
    except FileExistsError as exc:
        raise BadInputError(f"{target}: already exists; choose another name or remove it") from exc
    except OSError as exc:
        raise BadInputError(f"{target}: could not be written ({exc.strerror or exc})") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
