"""`sesam ask` and `sesam eval` output, run through the real command-line entry point."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EVAL, REPO
from tui.cli import main

CONFIG = str(REPO / "tests" / "empty.toml")


def test_ask_json_shape(shipped_index: Path, capsys) -> None:
    code = main(["ask", "Vilka kommuner är med i SKR:s utvecklingsnätverk?", "--json", "--k", "5",
                 "--index", str(shipped_index), "--config", CONFIG])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"question", "answer", "abstained", "citations", "timings_ms"} <= set(out)
    c = out["citations"][0]
    assert {"n", "doc_id", "title", "file", "page", "text", "score"} <= set(c)
    assert c["n"] == 1 and f"[{c['n']}]" in out["answer"] and out["timings_ms"]["total"] > 0


def test_ask_text_lists_sources_and_doc_filter(shipped_index: Path, capsys) -> None:
    main(["ask", "Vad är social ekonomi?", "--doc", "coompanion-social-ekonomi", "--index", str(shipped_index),
          "--config", CONFIG])
    out = capsys.readouterr().out
    assert "Källor:" in out and "Den sociala ekonomin, s." in out and "Utvecklingsnätverk" not in out


def test_ask_refuses_document_ids_that_are_not_indexed(shipped_index: Path, capsys) -> None:
    """Before: `--doc nosuch` gave the usual abstention and exit 0, and a good id beside it hid the bad one."""
    for docs, said in ((["nosuch"], "The document id 'nosuch' is not in the index"),
                       (["coompanion-social-ekonomi", "nosuch"], "The document id 'nosuch' is not in the index"),
                       (["nosuch", "other"], "The document ids 'nosuch', 'other' are not in the index")):
        argv = ["ask", "Vad är NIA?", *(x for d in docs for x in ("--doc", d)), "--index", str(shipped_index),
                "--config", CONFIG]
        assert main(argv) == 2, docs
        captured = capsys.readouterr()
        assert not captured.out and said in captured.err and "`sesam status`" in captured.err, captured.err
        assert "coompanion-social-ekonomi" not in captured.err


def test_ask_text_without_passages_has_no_empty_heading(shipped_index: Path, capsys) -> None:
    for question, heading in (("How do I renew my passport?", "Possibly related passages"), ("Hej!", "Källor")):
        assert main(["ask", question, "--index", str(shipped_index), "--config", CONFIG]) == 0
        out = capsys.readouterr().out
        assert out.strip() and heading not in out and "Sources" not in out and "[1]" not in out, out


def test_eval_json_has_every_metric(shipped_index: Path, tmp_path: Path, capsys) -> None:
    questions = tmp_path / "q.jsonl"
    rows = [json.loads(x) for x in (EVAL / "dev.jsonl").read_text().splitlines()[:6]]
    rows.append({"id": "u1", "lang": "en", "question": "What is the capital of Peru?", "doc": None, "gold": [],
                 "kind": "unanswerable", "answerable": False})
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    assert main(["eval", str(questions), "--json", "--index", str(shipped_index), "--config", CONFIG]) == 0
    rep = json.loads(capsys.readouterr().out)
    keys = {"recall@1", "recall@5", "mrr@10", "abstain_recall", "false_abstain_rate"}
    assert keys <= set(rep) and set(rep["latency_ms"]) == {"p50", "p95", "warmup_questions"}
    assert all(keys <= set(v) for v in [*rep["by_lang"].values(), *rep["by_kind"].values()])
    assert rep["abstain_recall"] == 1.0 and 0 < rep["recall@5"] <= 1
    assert 0 < rep["answer_recall"] <= 1 and rep["answer_chars_p50"] > 0
    rows = {q["id"]: q for q in rep["questions"]}
    assert rows["u1"]["abstained"] and rows["u1"]["reason"] and rows["u1"]["rank"] is None
    assert all(isinstance(r["rank"], int) and r["answer_chars"] > 0 for r in rows.values() if r["answerable"])


def test_eval_details_and_follow_up_items(shipped_index: Path, tmp_path: Path, capsys) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({
        "id": "f1", "lang": "sv", "question": "Vilka kommuner deltar?", "kind": "followup", "answerable": True,
        "history": ["Vad är SKR:s utvecklingsnätverk för sociala företag?"], "gold": ["Helsingborg"]},
        ensure_ascii=False))
    assert main(["eval", str(questions), "--details", "--index", str(shipped_index), "--config", CONFIG]) == 0
    out = capsys.readouterr().out
    assert "answer_recall" in out and "f1" in out and "Vilka kommuner deltar?" in out


def test_eval_rejects_a_broken_file(shipped_index: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    assert main(["eval", str(bad), "--index", str(shipped_index), "--config", CONFIG]) == 2
    err = capsys.readouterr().err  # each problem on its own line, then how to write one
    assert "line 1 has no 'question' field\n" in err
    assert "line 1: id must be a non-empty string\n" in err and "write one question per line" in err


def test_eval_refuses_an_empty_file_and_names_the_bad_line(shipped_index: Path, tmp_path: Path, capsys) -> None:
    """Before: an empty file gave an empty table and exit 0; `[1,2]` leaked "list indices must be integers"."""
    good = json.dumps({"id": "a", "question": "Vad är IOP?"})
    cases = {"": "holds no questions", "\n\n": "holds no questions",
             f'{good}\n{{"question": "x"}}\n': "line 2 has no 'id' field",
             "[1, 2]\n": "line 1 must be a JSON object, not list",
             "{not json\n": "line 1 is not valid JSON",
             '{"lang": "sv"}\n': "line 1 has no 'id' and no 'question' field"}
    for n, (text, said) in enumerate(cases.items()):
        questions = tmp_path / f"q{n}.jsonl"
        questions.write_text(text)
        assert main(["eval", str(questions), "--index", str(shipped_index), "--config", CONFIG]) == 2, text
        captured = capsys.readouterr()
        assert not captured.out and said in captured.err and "eval/dev.jsonl" in captured.err, captured.err
        assert "indices" not in captured.err and "KeyError" not in captured.err


def _sesam(*argv: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", *argv, "--config", CONFIG], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})


def test_no_index_advice_keeps_the_given_index(tmp_path: Path) -> None:
    """Before: `sesam status --index X` said "run `sesam ingest` first", which builds .sesam/index, not X."""
    index = tmp_path / "my index"
    for argv in (["status"], ["ask", "Vad är social ekonomi?"], ["doctor"]):
        run = _sesam(*argv, "--index", str(index))
        assert run.returncode != 0
        said = run.stderr + run.stdout
        assert f"run `sesam ingest --index '{index}'` first" in said, (argv, said)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Social ekonomi är föreningar, kooperativ och stiftelser.", encoding="utf-8")
    advice = _sesam("status", "--index", str(index)).stderr.split("`")[1]
    follow = _sesam(*shlex.split(advice)[1:], "--corpus", str(corpus), cwd=tmp_path)  # the advice, as given
    assert follow.returncode == 0, follow.stderr
    assert _sesam("status", "--index", str(index)).returncode == 0 and not (tmp_path / ".sesam").exists()


def test_ask_refuses_a_question_that_is_not_utf8(shipped_index: Path) -> None:
    """A terminal set to Latin-1 sends "ä" as the byte 0xE4: before, a UnicodeEncodeError traceback and exit 1."""
    run = _sesam("ask", "Vad \udce4r IOP?", "--index", str(shipped_index))  # passed on as the byte 0xE4
    assert run.returncode == 2, run.stderr
    assert "not UTF-8" in run.stderr and "Traceback" not in run.stderr


def test_ask_json_shows_what_a_follow_up_searched(shipped_index: Path, capsys) -> None:
    """docs/retrieval.md promised `resolved_question`; the JSON had no such key."""
    main(["ask", "Och SESI då?", "--json", "--index", str(shipped_index), "--config", CONFIG])
    out = json.loads(capsys.readouterr().out)
    assert out["resolved_question"] == "SESI då?"
    main(["ask", "Vad är SESI?", "--json", "--index", str(shipped_index), "--config", CONFIG])
    assert json.loads(capsys.readouterr().out)["resolved_question"] is None


def test_serve_on_a_port_in_use_says_so_before_loading_the_index(shipped_index: Path) -> None:
    """Before: the index was loaded, then uvicorn logged "[Errno 98] ... address already in use" without a remedy
    and exited 3; now exit 2 and the sentence doctor has."""
    import socket

    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAM_")}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "tui.cli", "serve", "--index", str(shipped_index), "--port",
                              str(port), "--config", CONFIG], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=120)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().endswith(f"sesam: Port {port} on 127.0.0.1 is in use (another `sesam serve`?); stop that "
                                       "process or choose another port with --port."), run.stderr


def test_an_abbreviated_flag_is_a_usage_error_not_a_silent_json(shipped_index: Path, capsys) -> None:
    """Before: `--js` was taken for `--json` by argparse (JSON out), but a usage error under `--js` printed no JSON,
    as main looks for `--json` itself; abbreviations are refused now, so what --json promises holds."""
    for argv in (["status", "--index", str(shipped_index), "--js"], ["ask", "x", "--js"]):
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--config", CONFIG])
        captured = capsys.readouterr()
        assert exit_.value.code == 2 and not captured.out and "unrecognized arguments: --js" in captured.err


def test_ask_with_a_question_over_the_limit_says_what_to_do(shipped_index: Path, capsys) -> None:
    """Before: "The question is 2000 characters long; the limit is 1000 characters." and nothing to do about it."""
    assert main(["ask", "a" * 2000, "--index", str(shipped_index), "--config", CONFIG]) == 2
    assert capsys.readouterr().err.strip() == ("sesam: The question is 2000 characters long; the limit is 1000 "
                                               "characters: shorten it, or raise the setting max_question_chars.")


def test_an_error_object_for_a_reader_that_left_is_no_traceback(tmp_path: Path) -> None:
    """`sesam status --json --config missing.toml | head -c0`: the error object met a closed pipe inside the error
    handler and Python printed two chained tracebacks; now the sentence alone goes to stderr, exit 2."""
    run = subprocess.Popen([sys.executable, "-m", "tui.cli", "status", "--json", "--config", str(tmp_path / "no.toml")],
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run.stdout.close()  # the reader is gone before sesam writes
    said = run.stderr.read()
    assert run.wait(timeout=60) == 2 and "Traceback" not in said, said
    assert said.startswith("sesam: The configuration file") and "does not exist" in said
