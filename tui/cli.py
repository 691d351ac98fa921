"""The `sesam` command: composes the subcommands that each package registers, then dispatches."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.errors import SesamError
from ingest.language import LANGUAGES
from ingest.safetext import printable, printable_lines
from ingest.settings import Settings, load_settings

Handler = Callable[[argparse.Namespace, Settings], int]


def add_common(parser: argparse.ArgumentParser) -> None:
    """Flags every subcommand takes; their values override environment and config file."""
    parser.add_argument("--index", dest="index_dir", default=None, help="index directory (default: .sesam/index)")
    parser.add_argument("--config", type=Path, default=None, help="TOML config file (default: ./sesam.toml if present)")


def _register_chat(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("chat", help="chat in the terminal (Textual UI)")
    add_common(p)
    p.add_argument("--url", dest="server_url", default=None, help="use a running `sesam serve` at this URL")
    p.add_argument("--lang", dest="ui_lang", choices=LANGUAGES, default=None, help="interface language")

    def run(args: argparse.Namespace, settings: Settings) -> int:
        from tui.app import run_chat

        return run_chat(settings)

    p.set_defaults(handler=run, setting_flags=("index_dir", "server_url", "ui_lang"))


class _Parser(argparse.ArgumentParser):
    """argparse's parser, keeping a usage error's message on the SystemExit so that `--json` can print it too.
    Abbreviated flags are refused (this class makes the subcommands' parsers too): `--js` was taken for `--json`
    by argparse but not by :func:`main`, so a usage error under `--js` printed no JSON."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # type: ignore[override]
        try:
            super().error(message)
        except SystemExit as exc:
            exc.usage_error = f"{self.prog}: {message}"  # type: ignore[attr-defined]
            raise


def _json_error(args: argparse.Namespace | None, settings: Settings | None, code: str, message: str) -> None:
    """Under `--json`, a command that stops with an error prints one JSON object too: ``error`` (a stable code) and
    ``message`` (the sentence said on stderr), plus what the subcommand adds (``json_error``; its fields are null
    when ``settings`` could not be read)."""
    if args is None or not getattr(args, "json", False):
        return
    extra = getattr(args, "json_error", None)
    from ingest.cli import print_json

    added: dict = {}
    try:
        added = extra(args, settings) if extra else {}
    except Exception:  # noqa: BLE001 - what a subcommand adds is best effort: the error object itself is always printed
        pass
    try:
        print_json({"error": code, "message": message, **added})
    except BrokenPipeError:  # `sesam status --json | head` on an error: the reader left; the sentence still goes to stderr
        _stdout_gone()


def _stdout_gone() -> None:
    """The reader of stdout left: later writes (and Python's flush at exit) go nowhere instead of raising."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class _Quiet(argparse.ArgumentParser):
    """A parser that raises on an error instead of printing and exiting."""

    def error(self, message: str):  # type: ignore[override]
        raise argparse.ArgumentError(None, message)


def _json_usage_error(parser: argparse.ArgumentParser, argv: list[str], said: str) -> None:
    """A usage error under `--json`: the subcommand's error object, with the index of ``--index``/``--config`` (and
    the environment) when they can be read."""
    command = parser.commands.get(argv[0]) if argv else None  # type: ignore[attr-defined]
    args = argparse.Namespace(json=True, json_error=command.get_default("json_error") if command else None)
    settings = None
    if command is not None:
        common = _Quiet(add_help=False)
        add_common(common)
        try:
            known, _ = common.parse_known_args(argv[1:])
            settings = load_settings(known.config, index_dir=known.index_dir)
        except (argparse.ArgumentError, SesamError, OSError):
            settings = None
    _json_error(args, settings, "usage",
                f"The command line is not valid ({printable(said)}); run the command with --help to see its arguments.")


def build_parser() -> argparse.ArgumentParser:
    from assistant.cli import register as register_assistant
    from ingest.cli import register as register_ingest

    parser = _Parser(
        prog="sesam",
        description="Cited answers to policy questions about the social economy.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register_ingest(sub, add_common)
    register_assistant(sub, add_common)
    _register_chat(sub)
    parser.commands = sub.choices  # type: ignore[attr-defined]  # for a usage error's JSON object
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a usage error (exit 2) has been said on stderr; --json gets it as JSON too
        if exc.code and hasattr(exc, "usage_error") and "--json" in argv:
            _json_usage_error(parser, argv, exc.usage_error)
        raise
    flags = {name: getattr(args, name, None) for name in getattr(args, "setting_flags", ("index_dir",))}
    settings: Settings | None = None
    try:
        settings = load_settings(args.config, **flags)
        return int(args.handler(args, settings) or 0)
    except SesamError as exc:
        _json_error(args, settings, exc.code, printable(str(exc)))
        print(f"sesam: {printable_lines(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _json_error(args, settings, "interrupted", "The command was interrupted; run it again to finish it.")
        print("sesam: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `sesam status --json | head`: the reader left; say nothing more
        _stdout_gone()
        return 141
    except Exception as exc:  # a bug: the traceback goes to stderr as always, --json still gets its one object
        _json_error(args, settings, "internal", f"sesam failed unexpectedly ({printable(repr(exc))}); the traceback "
                    "is on stderr: report it with the command you ran.")
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
