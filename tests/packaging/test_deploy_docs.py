"""docs/deploy.md and docs/sesam.service stay true: the example settings load, the unit runs commands that exist."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from configparser import ConfigParser
from pathlib import Path

import pytest

from ingest.settings import load_settings
from tests.conftest import REPO
from tui.cli import build_parser

DEPLOY = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")


def test_the_example_settings_file_loads(tmp_path) -> None:
    block = re.search(r"```toml\n(.*?)```", DEPLOY, re.S).group(1)
    path = tmp_path / "sesam.toml"
    path.write_text(block, encoding="utf-8")
    settings = load_settings(path, environ={})
    assert settings.trusted_proxies == ["127.0.0.1"] and settings.log_format == "json"
    assert str(settings.index_dir) == "/var/lib/sesam/index" and not settings.log_questions


def test_the_systemd_unit_runs_sesam_commands_that_exist() -> None:
    unit = ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(REPO / "docs" / "sesam.service")
    service = unit["Service"]
    assert service["Environment"] == "SESAM_CONFIG=/etc/sesam/sesam.toml" and "/etc/sesam/sesam.toml" in DEPLOY
    commands = {key: shlex.split(service[key]) for key in ("ExecStartPre", "ExecStart")}
    parser = build_parser()
    for argv in commands.values():
        assert argv[0] == "/opt/sesam/venv/bin/sesam"
        parser.parse_args(argv[1:])  # exits (SystemExit) on an unknown subcommand or flag
    assert commands["ExecStart"][1:] == ["serve"] and commands["ExecStartPre"][1:] == ["doctor"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (Debian package systemd)")
def test_systemd_accepts_the_unit(tmp_path) -> None:
    sesam = Path(sys.executable).parent / "sesam"  # the unit's program path, pointed at this environment's sesam
    text = (REPO / "docs" / "sesam.service").read_text(encoding="utf-8")
    text = text.replace("/opt/sesam/venv/bin/sesam", str(sesam))
    unit = tmp_path / "sesam.service"
    unit.write_text(text, encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.skipif(shutil.which("flock") is None, reason="flock is not installed (Debian package util-linux)")
def test_the_backup_recipe_makes_a_copy_that_verifies(shipped_index: Path, tmp_path: Path) -> None:
    live = tmp_path / "var" / "index"
    shutil.copytree(shipped_index, live)
    backup = re.search(r"^flock .*$", DEPLOY, re.M).group(0)
    backup = backup.replace("/var/lib/sesam/index", str(live)).replace("/backup/", f"{tmp_path}/backup/")
    (tmp_path / "backup").mkdir()
    subprocess.run(["bash", "-c", backup], check=True, timeout=120)
    restored = next((tmp_path / "backup").iterdir())
    status = [sys.executable, "-m", "tui.cli", "status", "--verify", "--config", str(REPO / "tests" / "empty.toml"),
              "--index", str(restored)]
    done = subprocess.run(status, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0 and "checksums   all files verified" in done.stdout, done.stderr
    damaged = next(restored.glob("versions/*/meta.sqlite"))
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"\x00")
    done = subprocess.run(status, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode != 0 and "checksum" in done.stderr
