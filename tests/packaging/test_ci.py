""".ci/run installs the system packages when one the tests need is missing, and only packages something uses.

The script runs from a copy, with stand-ins for apt-get, chromium, tesseract, python3 and the virtualenv's pip and
python, so nothing is installed and no tests are run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO


def _stub(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


def _run_ci(tmp_path: Path, languages: list[str]) -> list[str]:
    """Run a copy of .ci/run with tesseract listing ``languages``; the apt-get calls it made."""
    root = tmp_path / "clone"
    (root / ".ci").mkdir(parents=True)
    shutil.copy2(REPO / ".ci" / "run", root / ".ci" / "run")
    bin_dir, log = tmp_path / "bin", tmp_path / "apt.log"
    listed = "\\n".join(["List of available languages in \"/usr/share/tessdata/\" (2):", *languages])
    _stub(bin_dir / "tesseract", f'[ "$1" = --list-langs ] && printf "{listed}\\n"')
    _stub(bin_dir / "chromium", "exit 0")
    _stub(bin_dir / "apt-get", f'echo "$*" >> "{log}"')
    _stub(bin_dir / "python3", "exit 0")
    for tool in ("pip", "python"):
        _stub(root / ".venv" / "bin" / tool, "exit 0")
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    run = subprocess.run(["bash", str(root / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


@pytest.mark.parametrize("languages", [["osd"], ["osd", "swe"], ["eng", "osd"]])
def test_a_missing_ocr_language_is_installed(tmp_path: Path, languages: list[str]) -> None:
    calls = _run_ci(tmp_path, languages)
    install = [call for call in calls if call.startswith("install ")]
    assert install, calls
    assert {"tesseract-ocr-swe", "tesseract-ocr-eng", "chromium"} <= set(install[0].split())


def test_nothing_is_installed_when_everything_is_there(tmp_path: Path) -> None:
    assert _run_ci(tmp_path, ["eng", "osd", "swe"]) == []


def test_the_installed_packages_are_the_ones_the_readme_names() -> None:
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    packages = set(next(line for line in script.splitlines() if "apt-get install" in line).split()) - {
        "apt-get", "install", "-y", "-qq", ">/dev/null"}
    assert packages == {"chromium", "tesseract-ocr", "tesseract-ocr-swe", "tesseract-ocr-eng"}
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    sentence = readme[readme.index("`.ci/run` installs"):].split(" and runs command 2")[0]
    assert {package for package in packages if f"`{package}`" not in sentence} == set()
    assert "tmux" not in sentence
