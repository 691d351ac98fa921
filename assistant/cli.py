"""`sesam ask`, `sesam eval`, `sesam serve` and `sesam doctor`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.i18n import t
from assistant.types import Filters
from ingest.errors import QueryError
from ingest.language import LANGUAGES
from ingest.safetext import printable, printable_lines
from ingest.settings import DEFAULT_K, Settings


def _refuse_unknown_documents(doc_ids: Sequence[str], known: set[str]) -> None:
    """`--doc` names only indexed documents: an unknown id is an input error (exit 2), not an empty search."""
    unknown = list(dict.fromkeys(d for d in doc_ids if d not in known))
    if unknown:
        names = ", ".join(repr(printable(d)) for d in unknown)
        which = f"The document id {names} is" if len(unknown) == 1 else f"The document ids {names} are"
        raise QueryError(f"{which} not in the index; list the indexed documents and their ids with "
                         "`sesam status`, and pass one of them to --doc.")


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.engine import Assistant

    assistant = Assistant.open(settings)
    _refuse_unknown_documents(args.doc or (), assistant.document_ids())
    filters = Filters(doc_ids=tuple(args.doc or ()))
    answer = assistant.ask(args.question, k=args.k, lang=args.lang, filters=filters or None)
    if args.json:
        print(json.dumps(answer.to_public(), ensure_ascii=False, indent=2))
        return 0
    print(printable_lines(answer.text))  # nothing from a document reaches the terminal as a control character
    if not answer.citations:  # a greeting, an errand, an off-topic question: no passages, and no heading for none
        return 0
    print()
    print(f"{t(answer.lang, 'related_passages' if answer.abstained else 'sources')}:")
    for c in answer.citations:
        print(f"  [{c.n}] {printable(c.title)}, {c.place(answer.lang)} ({printable(c.file)}, "
              f"{t(answer.lang, 'score')} {c.score:.3f})")
    return 0


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.engine import Assistant
    from assistant.evaluation import format_table, load_items, report, run

    items = load_items(args.questions, max_chars=settings.max_question_chars)  # every bad line, before the model loads
    assistant = Assistant.open(settings)
    outcomes = run(assistant, items, k=args.k, mode=args.retriever)
    rep = report(outcomes, details=args.details or args.json)
    if args.json:
        print(json.dumps(rep, ensure_ascii=False, indent=2))
    else:
        print(f"{args.questions} — retriever {args.retriever}, embedder {assistant.info()['embedder']}, k {args.k}")
        print(format_table(rep))
    return 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.server import serve

    return serve(settings)


def _cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.doctor import as_json, report, run_checks

    checks = run_checks(settings)
    text, code = report(checks)
    print(json.dumps({"checks": as_json(checks), "ok": code == 0}, ensure_ascii=False, indent=2) if args.json else text)
    return code


def _add_listen_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None,
                   help="address to listen on (default 127.0.0.1, setting host); 0.0.0.0 listens on every interface")
    p.add_argument("--port", type=int, default=None, help="TCP port to listen on (default 8000, setting port)")


def register(sub: argparse._SubParsersAction, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("ask", help="answer a question with citations")
    add_common(p)
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--k", type=int, default=None, help=f"passages to retrieve (default: top_k, {DEFAULT_K})")
    p.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the answer's framing")
    p.add_argument("--doc", action="append", metavar="ID", help="only this document (repeatable); its id as `sesam status` lists it, an unknown id is refused "
                        "(exit 2)")
    p.set_defaults(handler=_cmd_ask, setting_flags=("index_dir",))

    p = sub.add_parser("eval", help="measure retrieval and abstention on a question set (JSONL)")
    add_common(p)
    p.add_argument("questions", type=Path, metavar="QUESTIONS.jsonl")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.add_argument("--retriever", choices=["hybrid", "dense", "lexical"], default="hybrid")
    p.add_argument("--details", action="store_true",
                   help="one line per question: rank, abstention and reason, the cosine abstention was judged on "
                        "beside its floor, and the ranking score")
    p.set_defaults(handler=_cmd_eval, setting_flags=("index_dir",))

    p = sub.add_parser("serve", help="run the HTTP service",
                       description="Serve the HTTP API (/v1/ask, /v1/health, admin re-ingest), the widget at /widget "
                                   "and the API docs at /docs from the index. A new index version is picked up "
                                   "by itself.")
    add_common(p)
    _add_listen_flags(p)
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes that answer requests (default 1, setting workers; see docs/scaling.md)")
    p.set_defaults(handler=_cmd_serve, setting_flags=("index_dir", "host", "port", "workers"))

    p = sub.add_parser("doctor", help="check a deployment: config, index and checksums, embedder, glossary, port, CORS",
                       description="Checks what `sesam serve` needs with the same settings; exit 1 if a check fails.")
    add_common(p)
    _add_listen_flags(p)
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.set_defaults(handler=_cmd_doctor, setting_flags=("index_dir", "host", "port"))
