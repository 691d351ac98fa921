"""The `sesam` command: composes the subcommands that each package registers, then dispatches."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ingest.errors import SesamError
from ingest.language import LANGUAGES
from ingest.safetext import printable_lines
from ingest.settings import Settings, load_settings

Handler = Callable[[argparse.Namespace, Settings], int]


def add_common(parser: argparse.ArgumentParser) -> None:
    """Flags every subcommand takes; their values override environment and config file."""
    parser.add_argument("--index", dest="index_dir", type=Path, default=None, help="index directory (default: .sesam/index)")
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


def build_parser() -> argparse.ArgumentParser:
    from assistant.cli import register as register_assistant
    from ingest.cli import register as register_ingest

    parser = argparse.ArgumentParser(
        prog="sesam",
        description="Cited answers to policy questions about the social economy.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register_ingest(sub, add_common)
    register_assistant(sub, add_common)
    _register_chat(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    flags = {name: getattr(args, name, None) for name in getattr(args, "setting_flags", ("index_dir",))}
    try:
        settings = load_settings(args.config, **flags)
        return int(args.handler(args, settings) or 0)
    except SesamError as exc:
        print(f"sesam: {printable_lines(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sesam: interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `sesam status --json | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
