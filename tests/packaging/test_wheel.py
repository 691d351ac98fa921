"""The wheel as a municipality's IT installs it: built from the source tree, installed with its dependencies into
a fresh virtual environment outside the repository, then `sesam ingest`, `ask`, `doctor` and `serve` from it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.assistant.api.conftest import free_port, wait_until_ready
from tests.conftest import CORPUS, REPO

PACKAGES = ("ingest", "assistant", "tui")
JUNK = shutil.ignore_patterns(".git", ".venv", ".sesam", "*.egg-info", "build", "dist", "__pycache__", ".pytest_cache",
                              ".hypothesis", ".ruff_cache")


def run(*args: str | Path, cwd: Path, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def clean_env(venv: Path) -> dict:
    """The environment of a shell in which only the new venv is activated: no SESAM_* and no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SESAM_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def source_files() -> set[str]:
    """Every file of the three packages in the source tree, as paths inside a wheel."""
    return {p.relative_to(REPO).as_posix() for pkg in PACKAGES for p in (REPO / pkg).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """(wheel, venv, env): the wheel built from a copy of the tree and installed, with dependencies, into a new venv."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(REPO, src, ignore=JUNK)  # pip builds in the tree it is given; keep the checkout clean
    started = time.monotonic()
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work / "dist", src, cwd=work,
        env=dict(os.environ))
    wheel = next((work / "dist").glob("sesam-*.whl"))
    venv = work / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=work, env=dict(os.environ))  # no --system-site-packages
    env = clean_env(venv)
    run(venv / "bin" / "python", "-m", "pip", "install", "-q", wheel, cwd=work, env=env, timeout=600)
    print(f"wheel built and installed with its dependencies in {time.monotonic() - started:.1f} s")
    return wheel, venv, env


def test_the_wheel_holds_every_package_and_data_file(installed) -> None:
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(source_files() - names)
    assert not missing, f"files of the source packages missing from the wheel: {missing}"
    assert {"assistant/api/__init__.py", "assistant/api/routers/__init__.py", "assistant/static/widget.js",
            "tui/sesam.tcss"} <= names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "corpus/"))]


def test_the_default_install_has_no_torch(installed) -> None:
    _, venv, env = installed
    listed = run(venv / "bin" / "python", "-m", "pip", "list", "--format", "freeze", cwd=venv, env=env).stdout
    out = listed.lower().replace("_", "-")
    assert "sesam==" in out and "fastapi-offline==" in out
    assert "torch==" not in out and "sentence-transformers==" not in out


def test_ingest_ask_doctor_and_serve_from_the_wheel(installed, tmp_path: Path) -> None:
    _, venv, env = installed
    sesam = venv / "bin" / "sesam"
    where = run(venv / "bin" / "python", "-c", "import assistant.api.routers, tui.app; print(tui.app.__file__)",
                cwd=tmp_path, env=env).stdout
    assert where.startswith(str(venv)), where  # the installed copy, not the checkout
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    run(sesam, "ingest", "--corpus", corpus, "--no-progress", cwd=tmp_path, env=env)
    answer = run(sesam, "ask", "Vad är ett arbetsintegrerande socialt företag?", cwd=tmp_path, env=env).stdout
    assert "[1]" in answer and "Källor:" in answer
    port = free_port()
    (tmp_path / "sesam.toml").write_text(f'corpus_dir = "corpus"\nport = {port}\nlog_format = "json"\n')
    doctor = run(sesam, "doctor", cwd=tmp_path, env=env).stdout
    assert "all 6 checks passed." in doctor, doctor

    server = subprocess.Popen([str(sesam), "serve"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, server)
        body = httpx.post(f"{url}/v1/ask", json={"question": "Vad är IOP?"}, timeout=30).json()
        assert body["citations"] and "[1]" in body["answer"] and not body["abstained"]
        for page in ("/docs", "/docs-assets/swagger-ui-bundle.js", "/widget.js"):  # package data, served offline
            assert httpx.get(url + page, timeout=10).status_code == 200, page
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert '"message": "serving index version' in stderr and '"path": "/v1/ask"' in stderr, stderr
