"""A full disk and a read-only file system, for real: a size-limited tmpfs (mounted as root) and a read-only
bind of it. `sesam ingest` and `sesam serve` must say what happened, clean up, and keep the old index."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ingest.pipeline import run_ingest
from ingest.store import CURRENT, IndexVersion
from tests.assistant.api.conftest import free_port
from tests.conftest import make_settings
from tests.pdfmaker import write_pdf

KEY = "disk-test-key"


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs: the index lives there."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(disk)):
        pytest.skip("mounting a size-limited tmpfs needs root (CAP_SYS_ADMIN)")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Fill the file system of ``disk`` until ``leave`` bytes are free."""
    free = shutil.disk_usage(disk).free
    with (disk / "filler").open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
        fh.flush()
        os.fsync(fh.fileno())


def corpus_with_index(tmp_path: Path, disk: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf(corpus / "alpha.pdf", [["Ett kooperativ ägs av sina medlemmar och drivs demokratiskt."]], title="Alpha")
    index = disk / "index"
    run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)
    # a new document large enough that its version does not fit in what is left
    write_pdf(corpus / "big.pdf", [[f"Sida {p}, rad {r}: sociala företag, kooperativ och idéburna organisationer "
                                    f"i kommun {p * 100 + r}." for r in range(30)] for p in range(6)])
    return corpus, index


def sesam_env(corpus: Path, index: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAM_")}
    env.update(SESAM_CORPUS_DIR=str(corpus), SESAM_INDEX_DIR=str(index))
    return env


def test_sesam_ingest_on_a_full_disk_says_so_cleans_up_and_keeps_the_index(tmp_path: Path, small_disk: Path) -> None:
    corpus, index = corpus_with_index(tmp_path, small_disk)
    before = (index / CURRENT).read_text()
    fill(small_disk, leave=160 << 10)  # 160 kB free
    run = subprocess.run([sys.executable, "-m", "tui.cli", "ingest", "--no-progress"], cwd=tmp_path,
                         env=sesam_env(corpus, index), capture_output=True, text=True, timeout=600)
    assert run.returncode != 0 and run.returncode != -signal.SIGBUS, (run.returncode, run.stderr)
    assert "Traceback" not in run.stderr and "Bus error" not in run.stderr
    assert f"No space left on the device of {index}" in run.stderr, run.stderr
    assert "MB are free" in run.stderr and "previous index is untouched" in run.stderr
    assert not list(index.glob("tmp-*"))
    assert (index / CURRENT).read_text() == before
    assert IndexVersion.open(index, verify=True).manifest["counts"]["documents"] == 1


def test_the_server_survives_a_reingest_on_a_full_disk_and_keeps_serving(tmp_path: Path, small_disk: Path) -> None:
    corpus, index = corpus_with_index(tmp_path, small_disk)
    fill(small_disk, leave=160 << 10)
    port = free_port()
    env = {**sesam_env(corpus, index), "SESAM_ADMIN_API_KEY": KEY, "SESAM_ADMIN_RATE_LIMIT_PER_MINUTE": "0"}
    server = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                version = httpx.get(f"{url}/v1/health").json()["version"]
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        assert httpx.post(f"{url}/v1/admin/reingest", headers={"X-API-Key": KEY}).status_code == 202
        admin = {"X-API-Key": KEY}
        # a loaded machine (2 cores, the run embedding beside the server) may take a while to answer: wait for it
        while (status := httpx.get(f"{url}/v1/admin/reingest", headers=admin, timeout=60).json())["state"] \
                == "running":
            assert time.monotonic() < deadline + 240
            time.sleep(0.3)
        assert status["state"] == "failed" and "No space left on the device" in status["error"], status
        assert server.poll() is None  # no SIGBUS
        assert httpx.get(f"{url}/v1/health").json()["version"] == version
        answer = httpx.post(f"{url}/v1/ask", json={"question": "Vem äger ett kooperativ?"}).json()
        assert answer["citations"][0]["doc_id"] == "alpha"
        assert not list(index.glob("tmp-*"))
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, err = server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
    assert "re-ingest failed: No space left on the device" in err, err[-2000:]


def test_a_read_only_index_folder_is_a_sentence_not_a_traceback(tmp_path: Path, small_disk: Path) -> None:
    corpus, index = corpus_with_index(tmp_path, small_disk)
    readonly = tmp_path / "ro"
    readonly.mkdir()
    if not _mount("--bind", "-o", "ro", str(small_disk), str(readonly)) or not _mount("-o", "remount,bind,ro",
                                                                                       str(readonly)):
        pytest.skip("a read-only bind mount is not possible here")
    try:
        run = subprocess.run([sys.executable, "-m", "tui.cli", "ingest", "--no-progress"], cwd=tmp_path,
                             env=sesam_env(corpus, readonly / "index"), capture_output=True, text=True, timeout=300)
    finally:
        subprocess.run(["umount", "-l", str(readonly)], check=False)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert f"Cannot write to the index folder {readonly / 'index'} (Read-only file system)" in run.stderr
    assert "read-only; choose an index folder on a writable one" in run.stderr
