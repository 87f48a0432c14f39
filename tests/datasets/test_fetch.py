"""Verified downloads against a local HTTP server on 127.0.0.1 serving fixture files.

The server is ``http.server.ThreadingHTTPServer`` on an ephemeral port, in a thread, serving a tree
the test writes. Some tests serve a file whose content differs from its pin: the download must fail
naming the file and both hashes, and leave nothing behind.
"""

from __future__ import annotations

import functools
import io
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from test_mtg_jamendo import NAME, register, registry_toml, split_path, write_root
from typer.testing import CliRunner

from harness.cli import app
from harness.datasets import open_dataset
from harness.datasets.fetch import PinnedFile, download_verified, fetch_pinned, join_url, sha256_file
from harness.errors import DataMissingError, FormatError

runner = CliRunner()


class Server:
    """A static file server over ``directory`` that records the paths it was asked for."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.requests: list[str] = []
        requests = self.requests

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    directory = tmp_path / "served"
    directory.mkdir()
    with Server(directory) as server:
        yield server


def leftovers(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.name.endswith(".tmp") or ".part" in p.name]


# --- fetch.py on its own ------------------------------------------------------------------------------------


def test_download_verified_writes_a_good_file(served: Server, tmp_path: Path) -> None:
    (served.directory / "a.txt").write_bytes(b"hello\r\n")
    digest = sha256_file(served.directory / "a.txt")
    target = download_verified(join_url(served.url, "a.txt"), tmp_path / "out" / "a.txt", digest, "fetch-again")
    assert target.read_bytes() == b"hello\r\n"
    assert not leftovers(tmp_path / "out")


def test_download_mismatch_names_file_and_both_hashes_and_writes_nothing(served: Server, tmp_path: Path) -> None:
    (served.directory / "a.txt").write_bytes(b"tampered")
    expected = "0" * 64
    target = tmp_path / "out" / "a.txt"
    with pytest.raises(FormatError) as info:
        download_verified(join_url(served.url, "a.txt"), target, expected, "harness datasets fetch x --root out")
    message = info.value.message
    assert "a.txt" in message and expected in message and sha256_file(served.directory / "a.txt") in message
    assert "harness datasets fetch x --root out" in message
    assert not target.exists() and not leftovers(tmp_path / "out")


def test_download_404_is_data_missing(served: Server, tmp_path: Path) -> None:
    with pytest.raises(DataMissingError, match="HTTP 404"):
        download_verified(join_url(served.url, "nope.txt"), tmp_path / "nope.txt", "0" * 64, "again")
    assert not (tmp_path / "nope.txt").exists() and not leftovers(tmp_path)


def test_fetch_pinned_skips_good_files_and_replaces_bad_ones(served: Server, tmp_path: Path) -> None:
    for name, data in [("x/a.txt", b"a"), ("x/b.txt", b"b")]:
        (served.directory / name).parent.mkdir(parents=True, exist_ok=True)
        (served.directory / name).write_bytes(data)
    pins = [PinnedFile(p, sha256_file(served.directory / p)) for p in ("x/a.txt", "x/b.txt")]
    root = tmp_path / "root"
    progress: list[tuple[int, int]] = []
    assert fetch_pinned(pins, served.url, root, "again", lambda d, t: progress.append((d, t))) == [
        root / "x/a.txt",
        root / "x/b.txt",
    ]
    assert progress == [(1, 2), (2, 2)] and len(served.requests) == 2
    fetch_pinned(pins, served.url, root, "again")
    assert len(served.requests) == 2  # both present with the right hash: nothing downloaded
    (root / "x/b.txt").write_bytes(b"corrupt")
    fetch_pinned(pins, served.url, root, "again")
    assert served.requests[2:] == ["/x/b.txt"] and (root / "x/b.txt").read_bytes() == b"b"


def test_pinned_file_validates() -> None:
    with pytest.raises(ValueError, match="64 hex"):
        PinnedFile("a", "abc")
    with pytest.raises(ValueError, match="inside the root"):
        PinnedFile("../a", "0" * 64)
    assert PinnedFile("a", "A" * 64).sha256 == "a" * 64


# --- the mtg-jamendo fetch ------------------------------------------------------------------------------------


def test_fetch_splits_from_local_server(served: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_root(served.directory)
    register(tmp_path / "registry", monkeypatch, registry_toml(served.directory, base_url=served.url))
    root = tmp_path / "data"
    dataset = open_dataset(NAME, root)
    written = dataset.fetch("splits")
    assert len(written) == 7 and all(p.is_file() for p in written)
    assert (root / split_path("split-0", "test")).read_bytes() == (
        served.directory / split_path("split-0", "test")
    ).read_bytes()
    assert not [f for f in dataset.verify() if not f.ok]
    assert dataset.split("split-0", "test").item_ids == ("track_0003005", "track_0003106", "track_0003207")
    before = len(served.requests)
    open_dataset(NAME, root).fetch("splits")
    assert len(served.requests) == before  # already verified: skipped


def test_fetch_wrong_content_fails_and_leaves_no_partial_file(
    served: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_root(served.directory)
    register(tmp_path / "registry", monkeypatch, registry_toml(served.directory))
    bad = served.directory / split_path("split-1", "train")
    expected = sha256_file(bad)
    bad.write_bytes(bad.read_bytes().replace(b"\r\n", b"\n"))  # the same rows, LF line ends
    actual = sha256_file(bad)
    root = tmp_path / "data"
    with pytest.raises(FormatError) as info:
        open_dataset(NAME, root).fetch("splits", base_url=served.url)
    message = info.value.message
    assert "autotagging_moodtheme-train.tsv" in message and expected in message and actual in message
    assert f"harness datasets fetch {NAME} --root {root}" in message
    assert not (root / split_path("split-1", "train")).exists()
    assert not leftovers(root)
    assert (root / split_path("split-0", "train")).is_file()  # files before it were verified and kept


def test_fetch_cli_against_local_server(served: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_root(served.directory)
    register(tmp_path / "registry", monkeypatch, registry_toml(served.directory, base_url="http://127.0.0.1:9/unused/"))
    root = tmp_path / "data"
    result = runner.invoke(app, ["datasets", "fetch", NAME, "--root", str(root), "--base-url", served.url])
    assert result.exit_code == 0, result.output
    assert "7 files verified" in result.output
    tags_file = served.directory / "data/tags/moodtheme_split.txt"
    tags_file.write_bytes(tags_file.read_bytes().replace(b"\n", b"\r\n"))
    (root / "data/tags/moodtheme_split.txt").unlink()
    failed = runner.invoke(app, ["datasets", "fetch", NAME, "--root", str(root), "--base-url", served.url])
    assert failed.exit_code == 2 and "Traceback" not in failed.output
    assert sha256_file(tags_file) in " ".join(failed.output.split())
    assert not (root / "data/tags/moodtheme_split.txt").exists()


def _tar(members: dict[str, bytes]) -> bytes:
    """A tar like the official archives: the folder first, then its files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        folders = sorted({name.split("/")[0] for name in members})
        for folder in folders:
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            archive.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _npy(value: float) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.full((96, 4), value, dtype=np.float32))
    return buffer.getvalue()


def test_fetch_melspec_archives(served: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fixture = write_root(tmp_path / "fixture")
    archives = {
        "autotagging_moodtheme_melspecs-00.tar": _tar({"48/948.npy": _npy(1.0), "50/950.npy": _npy(2.0)}),
        "autotagging_moodtheme_melspecs-01.tar": _tar({"05/3005.npy": _npy(3.0)}),
    }
    (served.directory / "melspecs").mkdir()
    for name, data in archives.items():
        (served.directory / "melspecs" / name).write_bytes(data)
    entries = ", ".join(
        f'{{ path = "{n}", sha256 = "{sha256_file(served.directory / "melspecs" / n)}" }}' for n in archives
    )
    extra = f'[source.melspecs]\nbase_url = "{served.url}melspecs/"\narchives = [{entries}]\n'
    register(tmp_path / "registry", monkeypatch, registry_toml(fixture, extra=extra))
    root = tmp_path / "data"
    dataset = open_dataset(NAME, root)
    done = dataset.fetch("melspecs")
    assert [p.name for p in done] == list(archives)
    assert np.load(root / "melspecs" / "48" / "948.npy")[0, 0] == 1.0
    assert np.load(root / "melspecs" / "05" / "3005.npy")[0, 0] == 3.0
    assert not list((root / "melspecs").glob("*.tar"))  # unpacked, then removed
    before = len(served.requests)
    dataset.fetch("melspecs")
    assert len(served.requests) == before  # markers say both are unpacked

    # a changed archive on the server: no download kept, nothing unpacked
    (served.directory / "melspecs" / "autotagging_moodtheme_melspecs-01.tar").write_bytes(
        _tar({"05/3005.npy": _npy(9.0)})
    )
    fresh = tmp_path / "fresh"
    with pytest.raises(FormatError, match="autotagging_moodtheme_melspecs-01.tar: checksum mismatch"):
        open_dataset(NAME, fresh).fetch("melspecs")
    assert (fresh / "melspecs" / "48" / "948.npy").is_file()
    assert not (fresh / "melspecs" / "05").exists() and not leftovers(fresh)


def test_fetch_archive_cannot_escape_the_root(served: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fixture = write_root(tmp_path / "fixture")
    (served.directory / "evil.tar").write_bytes(_tar({"../outside.npy": b"x"}))
    extra = f'[source.audio]\nbase_url = "{served.url}"\narchives = [{{ path = "evil.tar", sha256 = "{sha256_file(served.directory / "evil.tar")}" }}]\n'
    register(tmp_path / "registry", monkeypatch, registry_toml(fixture, extra=extra))
    root = tmp_path / "data"
    with pytest.raises(FormatError, match="cannot unpack"):
        open_dataset(NAME, root).fetch("audio")
    assert not (tmp_path / "data" / "outside.npy").exists() and not (root / "outside.npy").exists()
