"""An index version's metadata connections live as long as the threads that use them, not as long as the version."""

import os
import shutil
import threading
from pathlib import Path

from ingest.store import IndexVersion


def _open_handles(path: Path) -> int:
    """How many of this process's file descriptors point at ``path``."""
    target = str(path.resolve())
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink(f"/proc/self/fd/{fd}") == target
        except OSError:
            continue
    return n


def _own_copy(shipped_index: Path, tmp_path: Path) -> IndexVersion:
    """A version no other test holds open, so that the handles counted are this test's."""
    return IndexVersion.open(Path(shutil.copytree(shipped_index, tmp_path / "index")))


def test_a_finished_threads_connection_is_closed(shipped_index: Path, tmp_path: Path) -> None:
    version = _own_copy(shipped_index, tmp_path)
    meta = version.path / "meta.sqlite"
    before = _open_handles(meta)
    for _ in range(6):  # threads that come and go, as a server's worker pool's do
        worker = threading.Thread(target=version.documents)
        worker.start()
        worker.join()
    assert _open_handles(meta) <= before + 1
    version.close()


def test_close_closes_the_live_threads_connections(shipped_index: Path, tmp_path: Path) -> None:
    version = _own_copy(shipped_index, tmp_path)
    meta = version.path / "meta.sqlite"
    assert version.documents()
    assert _open_handles(meta) >= 1
    version.close()
    assert _open_handles(meta) == 0
    assert version.documents(), "a version read after close opens a new connection"
    version.close()
