"""bench/ scripts: bad arguments are usage errors before any work, a server they start is drained and stopped,
and quality figures that differ between runs are shown, not hidden."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import REPO


def _bench(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("argv,said", [
    (("bench.http_bench", "--clients", "0"), "argument --clients: must be at least 1, not 0"),
    (("bench.http_bench", "--duration", "-3"), "argument --duration: must be a number above 0"),
    (("bench.http_bench", "--workers", "two"), "argument --workers: 'two' is not a whole number"),
    (("bench.http_bench", "--index", "/nonexistent/index"), "no index folder at /nonexistent/index"),
    (("bench.scale", "--sizes", "10k"), "argument --sizes: '10k' is not a whole number"),
    (("bench.scale", "--sizes", "1000,0"), "argument --sizes: must be at least 1, not 0"),
    (("bench.quality", "--runs", "0"), "argument --runs: must be at least 1, not 0"),
    (("bench.quality", "--quick", "dev11"), "name no sets with it"),
])
def test_bad_arguments_are_usage_errors(argv: tuple[str, ...], said: str) -> None:
    """F16 (and F8's missing index): before, `--clients 0` printed "0 requests … p95 0.0 ms" as a result,
    `--sizes 10k` a traceback after the bandwidth test, `--runs 0` ran once, `--quick dev11` ran dev."""
    out = _bench(*argv)
    assert out.returncode == 2 and said in out.stderr and "usage:" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and not out.stdout


def test_quality_without_an_index_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    """F12: `--index /tmp/nonexist` printed the header, then an IndexMissingError traceback."""
    out = _bench("bench.quality", "--quick", "--runs", "1", "--index", str(tmp_path / "none"))
    assert out.returncode == 2 and "There is no index" in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_quality_shows_figures_that_differ_between_runs() -> None:
    """F12: the table showed run 1's figures whatever the other runs gave."""
    from bench.quality import _differences, _row

    one = {"n_answerable": 2, "n_unanswerable": 0, "recall@1": 1.0, "recall@5": 1.0, "mrr@10": 1.0,
           "answer_recall": 0.5, "answer_chars_p50": 300, "abstain_recall": None, "false_abstain_rate": 0.0,
           "by_kind": {}, "by_lang": {"sv": {"answer_recall": 0.5}}, "latency_ms": {"p50": 1, "p95": 2}}
    two = {**one, "answer_recall": 1.0, "by_lang": {"sv": {"answer_recall": 1.0}}, "latency_ms": {"p50": 9, "p95": 9}}
    differ = _differences([one, two])
    assert differ == {"answer_recall": [0.5, 1.0], "by_lang.sv.answer_recall": [0.5, 1.0]}
    row = _row("x", one, [2, 9], differ)
    assert "0.500–1.000" in row and "sv 0.500–1.000" in row
    assert _differences([one, {**one, "latency_ms": {"p50": 5, "p95": 7}}]) == {}
    assert "| – |" in _row("x", {**one, "answer_chars_p50": None}, [2])  # every answer abstained


def test_server_stderr_goes_to_a_file_and_is_read_when_it_fails() -> None:
    """F7: stderr was a pipe nobody read: after ~500 access-log lines the server blocked writing its log."""
    from bench.http_bench import start_server, tail

    chatty = [sys.executable, "-c", "import sys\nfor i in range(20000): sys.stderr.write('GET /v1/ask 200\\n')\n"
              "sys.stderr.write('the end')"]
    with tempfile.TemporaryFile() as log:
        server = start_server(chatty, log)
        assert server.wait(timeout=60) == 0  # a 600 kB log does not block it
        assert tail(log).endswith("the end")


def test_wait_ready_gives_up_with_what_the_server_said() -> None:
    """F8: a server that never got ready (no index: it answers 503) hung the bench forever in stderr.read()."""
    from bench.http_bench import free_port, stop, wait_ready

    url = f"http://127.0.0.1:{free_port()}"
    stuck = [sys.executable, "-c", "import sys, time\nsys.stderr.write('no index at /x'); sys.stderr.flush()\n"
             "time.sleep(120)"]
    exits = [sys.executable, "-c", "import sys\nsys.stderr.write('cannot start'); sys.exit(3)"]
    from bench.http_bench import start_server
    for argv, said in ((stuck, "not ready after 2 s): no index at /x"), (exits, "exited with code 3): cannot start")):
        with tempfile.TemporaryFile() as log:
            server = start_server(argv, log)
            t0 = time.monotonic()
            try:
                with pytest.raises(SystemExit, match=said.replace("(", r"\(").replace(")", r"\)")):
                    wait_ready(url, server, log, seconds=2)
            finally:
                stop(server)
            assert time.monotonic() - t0 < 30 and server.poll() is not None
