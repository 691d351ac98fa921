"""`sesam doctor` on a healthy deployment and on each kind of broken one."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.assistant.api.conftest import free_port
from ingest.pipeline import run_ingest
from ingest.settings import origin_problem
from tests.conftest import CORPUS, REPO, make_settings
from tests.ingest.test_crash import _text
from tui.cli import main


def config(tmp_path: Path, extra: str = "") -> str:
    path = tmp_path / "sesam.toml"
    path.write_text(f'corpus_dir = "{CORPUS}"\nport = {free_port()}\ncors_origins = ["https://kommun.example"]\n'
                    + extra, encoding="utf-8")
    return str(path)


def doctor(capsys, *args: str) -> tuple[int, str]:
    code = main(["doctor", *args])
    return code, capsys.readouterr().out


def test_a_healthy_deployment_passes(shipped_index: Path, tmp_path: Path, capsys) -> None:
    code, out = doctor(capsys, "--index", str(shipped_index), "--config", config(tmp_path))
    assert code == 0, out
    assert out.splitlines()[-1] == "all 6 checks passed."
    assert "every checksum verified" in out and "loads and embeds (dim 384)" in out and "is free" in out


def test_a_missing_index_fails(tmp_path: Path, capsys) -> None:
    code, out = doctor(capsys, "--index", str(tmp_path / "none"), "--config", config(tmp_path))
    assert code == 1
    assert "FAIL  index     There is no index at" in out and "1 of 6 checks failed: index." in out


def test_a_corrupted_index_fails(shipped_index: Path, tmp_path: Path, capsys) -> None:
    index = tmp_path / "index"
    shutil.copytree(shipped_index, index)
    target = next(index.glob("versions/*/embeddings.npy"))
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF
    target.write_bytes(bytes(data))
    code, out = doctor(capsys, "--index", str(index), "--config", config(tmp_path))
    assert code == 1 and "checksum" in out


@pytest.mark.parametrize("damage", ["current-is-a-folder", "manifest-is-a-folder", "manifest-without-embedder"])
def test_an_unreadable_index_is_a_failed_check_not_a_traceback(shipped_index: Path, tmp_path: Path, capsys,
                                                               damage: str) -> None:
    """Before: an OSError reading CURRENT or the manifest, or a manifest without its embedder, escaped the index
    check as a traceback (doctor runs as the service's user, which may not read the index)."""
    index = tmp_path / "index"
    shutil.copytree(shipped_index, index)
    version = next(index.glob("versions/*"))
    if damage == "current-is-a-folder":
        (index / "CURRENT").unlink()
        (index / "CURRENT").mkdir()
    elif damage == "manifest-is-a-folder":
        (version / "manifest.json").unlink()
        (version / "manifest.json").mkdir()
    else:
        manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
        del manifest["embedder"]
        (version / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, out = doctor(capsys, "--index", str(index), "--config", config(tmp_path))
    assert code == 1 and "FAIL  index" in out, out


@pytest.mark.parametrize("url", ["https://", "http:///v1", "http://llm.example:99999/v1", "ftp://llm.example/v1",
                                 "http://localhost:8o80/v1", "http://[::1"])
def test_a_malformed_llm_url_is_refused_with_the_settings(tmp_path: Path, capsys, url: str) -> None:
    """docs/deploy.md: a malformed llm_url fails; only the scheme was checked, so "https://" passed. It is refused
    when the settings are built (exit 2), so `sesam serve` does not start with it either; before, 'http://[::1'
    made doctor itself fail with a traceback (ValueError 'Invalid IPv6 URL' from urlsplit)."""
    code = main(["doctor", "--index", str(tmp_path), "--config", config(tmp_path, f'llm_url = "{url}"\n')])
    err = capsys.readouterr().err
    assert code == 2 and f"llm_url {url!r}" in err and "leave llm_url (SESAM_LLM_URL) unset" in err, err


@pytest.mark.parametrize("host", ["127.0.0..1", "my_host..local", "\xff", "a" * 64 + ".example"])
def test_a_mistyped_host_is_refused_with_the_settings(tmp_path: Path, capsys, host: str) -> None:
    """Before: the resolver's idna codec raised UnicodeError, so doctor stopped with a traceback (exit 1,
    "internal") before any check, and `sesam serve` after loading the index."""
    code = main(["doctor", "--json", "--index", str(tmp_path), "--config", config(tmp_path), "--host", host])
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert code == 2 and out["error"] == "config" and "is neither an IP address nor a host name" in out["message"]
    assert "Traceback" not in captured.err


def test_the_port_check_reports_a_host_the_resolver_refuses() -> None:
    """check_port itself, should a host the settings let through still be refused by the idna codec."""
    from assistant.doctor import check_port

    check = check_port(make_settings().model_copy(update={"host": "127.0.0..1"}))
    assert check.status == "fail" and "cannot be resolved (not a valid host name); fix host" in check.message


def test_a_busy_port_fails(shipped_index: Path, tmp_path: Path, capsys) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out = doctor(capsys, "--index", str(shipped_index), "--config", config(tmp_path), "--port", str(port))
    assert code == 1 and f"FAIL  port      port {port} on 127.0.0.1 is in use" in out


def test_a_short_admin_key_fails(shipped_index: Path, tmp_path: Path, capsys) -> None:
    code, out = doctor(capsys, "--index", str(shipped_index), "--config", config(tmp_path, 'admin_api_key = "short"\n'))
    assert code == 1
    assert "admin_api_key has 5 characters" in out and "1 of 6 checks failed: config." in out


def test_bad_cors_origins_are_refused_before_any_check(shipped_index: Path, tmp_path: Path, capsys) -> None:
    """An origin a browser never sends would start the service and fail the widget on that site: refused."""
    cfg = config(tmp_path)
    text = Path(cfg).read_text(encoding="utf-8")
    Path(cfg).write_text(text.replace('["https://kommun.example"]', '["kommun.example", "https://kommun.example/widget"]'))
    assert main(["doctor", "--index", str(shipped_index), "--config", cfg]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "'kommun.example' needs http:// or https://" in err and "'https://kommun.example/widget' must be" in err


@pytest.mark.parametrize(("origin", "ok"), [
    ("https://kommun.example", True), ("http://127.0.0.1:8080", True), ("*", True),
    ("https://kommun.example/", False), ("ftp://kommun.example", False), ("https://Kommun.example", False),
    ("https://kommun.example:99999", False), ("https://", False), ("http://[bad", False),
])
def test_origin_shapes(origin: str, ok: bool) -> None:
    assert (origin_problem(origin) == "") is ok


def test_doctor_as_a_command_exits_non_zero_with_json(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "tui.cli", "doctor", "--json", "--index", str(tmp_path / "none"),
                          "--config", config(tmp_path)], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 1, run.stderr
    out = json.loads(run.stdout)
    assert out["ok"] is False and [c["name"] for c in out["checks"]] == ["config", "index", "embedder", "glossary", "port", "cors"]
    assert {c["name"]: c["status"] for c in out["checks"]}["index"] == "fail"


@pytest.mark.parametrize("command, flags", [("serve", ("--host", "--port", "--workers")), ("doctor", ("--host", "--port"))])
def test_serve_and_doctor_help_describe_their_flags(command: str, flags: tuple[str, ...], capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert exit_.value.code == 0
    assert "default 8000" in out and "default 127.0.0.1" in out
    if command == "serve":
        assert "widget" in out and "default 1, setting workers" in out
    for flag in flags:
        assert f"{flag} {flag.strip('-').upper()} " in out, flag


def test_doctor_tells_a_running_ingest_from_a_stopped_one(tmp_path: Path) -> None:
    """Before: while an ingest ran, doctor warned that its tmp-v… folder was left by a stopped ingest and that
    the next `sesam ingest` removes it; it now reads the ingest lock."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "old.txt").write_text(_text(1, 60), encoding="utf-8")
    run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)
    for n in range(8):  # embedding them outlasts doctor's run
        (corpus / f"new{n}.txt").write_text(_text(2 + n, 2000), encoding="utf-8")
    cfg = config(tmp_path)
    ingest = subprocess.Popen([sys.executable, "-m", "tui.cli", "ingest", "--no-progress", "--index", str(index),
                               "--corpus", str(corpus), "--config", cfg], cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(index.glob("tmp-*")) and ingest.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)

        def index_check() -> dict:
            run = subprocess.run([sys.executable, "-m", "tui.cli", "doctor", "--json", "--index", str(index),
                                  "--config", cfg], capture_output=True, text=True, cwd=REPO, timeout=120)
            return {c["name"]: c for c in json.loads(run.stdout)["checks"]}["index"]

        running = index_check()
        assert ingest.poll() is None, "the ingest ended before doctor finished: the trial tested nothing"
        assert "an ingest is running now" in running["message"] and "removes" not in running["message"], running
        assert running["status"] == "ok"
    finally:
        ingest.send_signal(signal.SIGKILL)
        ingest.wait()
    stopped = index_check()  # kill -9 left its tmp-v… folder and released the lock
    assert stopped["status"] == "warn" and "were left by an ingest that was stopped" in stopped["message"], stopped
    assert f"the next `sesam ingest --index {index}` removes them" in stopped["message"]


def test_a_corpus_folder_other_than_the_index_s_is_a_warning(shipped_index: Path, tmp_path: Path) -> None:
    """A service whose corpus_dir is not the folder the index was built from would remove, at its next re-ingest,
    every document that folder lacks."""
    from assistant.doctor import check_index

    check, _ = check_index(make_settings(index_dir=shipped_index, corpus_dir=tmp_path))
    assert check.status == "warn" and f"built from the corpus folder {CORPUS.resolve()}, but corpus_dir is" in check.message
    assert check_index(make_settings(index_dir=shipped_index))[0].status == "ok"
