"""Command line: ``qa index``, ``qa add``, ``qa remove``, ``qa sync``, ``qa sources``, ``qa ask``, ``qa quotes``,
``qa eval``, ``qa serve``, ``qa keys``.

Library errors become one-line messages on stderr (exit status 2), never tracebacks.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

from ..collect.sources import KINDS as KINDS_OF_SOURCE
from ..errors import CorpusWarning, QAError, QuestionFileError
from ..ingest.quotes.kinds import CONFIDENT, KINDS


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", default="corpus", help="folder of articles (default: ./corpus)")
    parser.add_argument("--index", default="index", help="index folder (default: ./index)")
    parser.add_argument(
        "--model",
        default=None,
        help="sentence-transformers model name or path, or multilingual-e5-small "
        "(default: the index's own model; all-MiniLM-L6-v2 for a new index)",
    )
    parser.add_argument(
        "--weights",
        default=None,
        metavar="FILE",
        help="retrieval weights fitted for your corpus (JSON, from bench/tune.py --out; default: the news weights)",
    )
    parser.add_argument(
        "--rerank",
        default=None,
        help="optional second stage: a bi-encoder name or path (e.g. all-mpnet-base-v2) or cross-encoder:PATH",
    )
    parser.add_argument(
        "--attribution-model",
        default=None,
        metavar="DIR",
        help="a trained attribution model (make train-attribution) voting with the rules on who said what, "
        "or 'rules' for the rules alone (default: what the index was made with; the rules for a new one); "
        "changing it re-attributes the index without encoding",
    )
    parser.add_argument(
        "--sentence-vectors",
        choices=("pooled", "separate"),
        default="pooled",
        help="how sentence vectors are made: pooled from the passage's own forward pass (default, fast) or "
        "each sentence encoded on its own (about half the ingest rate); changing it re-encodes the index",
    )
    parser.add_argument(
        "--store",
        default=None,
        metavar="STORE",
        help="where searches run: faiss (default), milvus-lite:PATH.db, or milvus://HOST:PORT/COLLECTION "
        "(needs pip install -e '.[milvus]'); the index folder keeps the texts either way",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``qa`` command."""
    parser = argparse.ArgumentParser(prog="qa", description="Answer questions over a news corpus with cited passages.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build or refresh the index")
    _common(p)
    p.add_argument("--rebuild", action="store_true", help="rebuild even if the index is up to date")
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="read, cut and encode on Ray Data: a cluster's address (ray://HOST:10001, HOST:6379, auto), "
        "or none for a cluster of this machine (needs pip install -e '.[ray]'); commits are made here",
    )

    p = sub.add_parser(
        "add", help="index articles (files, folders) or sources (feeds, sitemaps, URL lists, WARC, exports)"
    )
    _common(p)
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH_OR_URL",
        help="article files (.txt, .md, .html) or folders of them; or sources: an RSS/Atom feed or sitemap "
        "(URL or file), a text file of URLs, a .warc[.gz], a .jsonl[.gz] or .csv[.gz] export "
        "(text column required; title, date, outlet, url, id optional)",
    )
    p.add_argument("--kind", choices=KINDS_OF_SOURCE, default=None, help="read every PATH as this kind of source")
    p.add_argument("--name", default=None, help="the source's name in qa sources (one source only)")
    _fetching(p)

    p = sub.add_parser("sync", help="read the recorded sources again and take in what is new or changed")
    _common(p)
    p.add_argument("names", nargs="*", metavar="SOURCE", help="sources to sync (default: all; see qa sources)")
    p.add_argument(
        "--every",
        default=None,
        metavar="INTERVAL",
        help="sync again at this interval until stopped (Ctrl-C): e.g. 30m, 2h, 90s",
    )
    p.add_argument(
        "--refetch",
        action="store_true",
        help="read every source and fetch every article again, whatever their stamps; unchanged text is not encoded",
    )
    _fetching(p)

    p = sub.add_parser("sources", help="the recorded sources: articles, last sync, errors; remove one")
    _common(p)
    p.add_argument("action", nargs="?", choices=("list", "remove"), default="list")
    p.add_argument("name", nargs="?", default=None, metavar="SOURCE", help="the source to remove")
    p.add_argument(
        "--articles",
        action="store_true",
        help="with remove: also take out the articles no other source holds",
    )
    p.add_argument("--json", action="store_true", help="print the sources as JSON")

    p = sub.add_parser("remove", help="take articles out of the index (their files are left alone)")
    _common(p)
    p.add_argument("doc_ids", nargs="+", metavar="DOC_ID", help="article ids, as citations show them")

    p = sub.add_parser("ask", help="answer one question")
    _common(p)
    _replica(p)
    p.add_argument("question")
    p.add_argument("--k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument(
        "--history", action="append", default=[], help="an earlier question of the conversation (repeatable)"
    )
    p.add_argument("--outlet", action="append", default=None, help="only this outlet (repeatable)")
    p.add_argument("--from", dest="date_from", default=None, help="only articles dated on or after YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", default=None, help="only articles dated on or before YYYY-MM-DD")
    p.add_argument(
        "--as-of",
        dest="as_of",
        default=None,
        help="the day the question is asked, YYYY-MM-DD (default today): 'this week', 'in May' count from it",
    )

    p = sub.add_parser("quotes", help="what a speaker said (without --speaker: who is quoted)")
    _common(p)
    _replica(p)
    p.add_argument("--speaker", default=None, help="a name, surname or alias (aliases.toml beside metadata.toml)")
    p.add_argument("--about", default=None, help="rank the quotes by how closely they match this text")
    p.add_argument("--unnamed", action="store_true", help="without --speaker: also list unnamed sources ('officials')")
    p.add_argument(
        "--kind",
        action="append",
        choices=KINDS,
        default=None,
        help="only this kind of attribution (repeatable; default: speech, i.e. direct, reported, carried)",
    )
    p.add_argument("--all-kinds", action="store_true", help="every kind: beliefs and documents too")
    p.add_argument("--doubtful", action="store_true", help=f"also speakers named with a confidence under {CONFIDENT}")
    p.add_argument("--limit", type=int, default=None, help="at most this many")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--outlet", action="append", default=None, help="only this outlet (repeatable)")
    p.add_argument("--from", dest="date_from", default=None, help="only articles dated on or after YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", default=None, help="only articles dated on or before YYYY-MM-DD")

    p = sub.add_parser("eval", help="evaluate a question set (JSONL, CSV or a BEIR folder)")
    _common(p)
    p.add_argument("questions", nargs="?", help="questions file (.jsonl / .csv) or BEIR folder")
    p.add_argument("--k", type=int, default=10, help="passages retrieved per question (default 10)")
    p.add_argument("--out", default=None, help="write per-question JSONL, a report and a Hit@k plot here")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"), help="compare two --out folders")

    p = sub.add_parser("serve", help="serve the web chat and the REST API (/v1)")
    _common(p)
    _replica(p)
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1); any other needs an API key (qa keys add) or --insecure",
    )
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="questions answered at the same time (default: 2 per CPU core, at most 16; 0: no limit)",
    )
    _keys_file(p)
    p.add_argument(
        "--insecure",
        action="store_true",
        help="serve on a non-loopback address without API keys (only on a closed network)",
    )

    p = sub.add_parser("keys", help="API keys for qa serve: add, list, revoke")
    keys = p.add_subparsers(dest="keys_command", required=True)
    k = keys.add_parser("add", help="make a key (printed once; only its hash is kept)")
    k.add_argument("name", help="who or what the key is for (letters, digits, _ . @ -)")
    k.add_argument("--write", action="store_true", help="let it add and remove articles")
    _keys_file(k)
    k = keys.add_parser("list", help="the keys, without their secrets")
    _keys_file(k)
    k = keys.add_parser("revoke", help="stop a key working (a running server sees it on the next request)")
    k.add_argument("name")
    _keys_file(k)
    return parser


def _replica(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--replica",
        action="store_true",
        help="read everything from the Milvus server named by --store milvus://HOST:PORT/COLLECTION "
        "(no index folder, no corpus; read only)",
    )


def _fetching(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help="fetch from private and loopback addresses too (refused by default; kept with the source)",
    )
    parser.add_argument(
        "--delay", type=float, default=1.0, metavar="SECONDS", help="wait between two requests to one site (default 1)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="give up on a silent server after this (default 20)",
    )


def _fetch_options(args) -> dict:
    if args.delay < 0 or args.timeout <= 0:
        from ..errors import SourceError

        raise SourceError("--delay must be 0 or more and --timeout more than 0 seconds")
    return {"delay": args.delay, "timeout": args.timeout}


def _keys_file(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--keys",
        default=None,
        metavar="FILE",
        help="the API keys file (default: $QA_KEYS_FILE, else qa-keys.json here); QA_API_KEYS adds keys",
    )


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    prefix = "warning" if issubclass(category, CorpusWarning) else category.__name__
    print(f"{prefix}: {message}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the ``qa`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    warnings.showwarning = _show_warning
    try:
        return _run(args)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _model_options(args) -> dict:
    """The options every ``qa`` command passes on to the assistant it opens: model, second stage,
    weights, sentence vectors, store and attribution model."""
    return {
        "model": args.model,
        "rerank": args.rerank,
        "weights": args.weights,
        "sentence_vectors": args.sentence_vectors,
        "store": args.store,
        "attribution_model": args.attribution_model,
    }


def load_assistant(args, *, corpus_optional: bool = False, **kwargs):
    """The :class:`~qa.assistant.Assistant` the parsed options of any ``qa`` command ask for
    (``corpus_optional``: a missing or empty corpus folder is no error, for an index of sources)."""
    from ..assistant import Assistant
    from ..ingest.documents import CorpusFolder

    replica = {"replica": True} if getattr(args, "replica", False) else {}
    corpus = CorpusFolder(args.corpus, optional=True) if corpus_optional else args.corpus
    return Assistant.load(corpus=corpus, index=args.index, **_model_options(args), **replica, **kwargs)


def parse_interval(text: str) -> float:
    """Seconds in an interval such as ``30m``, ``2h``, ``90s`` or ``1d`` (a bare number is minutes).

    Raises:
        SourceError: the interval cannot be read, or is under a minute.
    """
    import re

    from ..errors import SourceError

    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if not found:
        raise SourceError(f"--every {text!r} is not an interval; write it as 30m, 2h, 90s or 1d")
    seconds = float(found.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 60}[found.group(2)]
    if seconds < 60:
        raise SourceError(f"--every {text!r} is under a minute; sources are synced at most once a minute")
    return seconds


def _sync(args) -> int:
    """``qa sync [SOURCE...] [--every INTERVAL]``."""
    import time

    every = parse_interval(args.every) if args.every else None
    _check_index(args.index)
    assistant = load_assistant(args, refresh=False, corpus_optional=True)
    if not assistant.sources():
        print(f"no source is recorded in {args.index}; qa add FEED_URL_OR_FILE records one")
        return 0
    while True:
        started = time.monotonic()
        for report in assistant.sync(
            args.names,
            refetch=args.refetch,
            allow_private=args.allow_private,
            fetch=_fetch_options(args),
            progress=True,
        ):
            print(report.describe())
        if every is None:
            return 0
        wait = max(0.0, every - (time.monotonic() - started))
        print(f"next sync in {wait / 60:.0f} min (Ctrl-C stops)", file=sys.stderr)
        time.sleep(wait)


def _sources(args) -> int:
    """``qa sources [list | remove NAME [--articles]]``."""
    _check_index(args.index)
    assistant = load_assistant(args, refresh=False, corpus_optional=True)
    if args.action == "remove":
        if not args.name:
            from ..errors import SourceError

            raise SourceError("name the source to remove: qa sources remove NAME (qa sources lists them)")
        done = assistant.remove_source(args.name, articles=args.articles)
        kept = "" if args.articles else " (its articles stay; --articles takes them out too)"
        print(f"removed the source {args.name}{kept}; {done.describe()}")
        return 0
    found = assistant.sources()
    if args.json:
        print(json.dumps([asdict(r) for r in found], ensure_ascii=False, indent=2))
        return 0
    if not found:
        print("no source is recorded; qa add FEED_URL_OR_FILE records one")
    for r in found:
        synced = r.synced or "never"
        errors = f", {len(r.errors)} error(s) at the last sync" if r.errors else ""
        print(f"{r.name}\t{r.kind}\t{r.articles} articles\tlast sync {synced}{errors}\t{r.location}")
        for message in r.errors[:5]:
            print(f"    {message}")
        if len(r.errors) > 5:
            print(f"    ... {len(r.errors) - 5} more (qa sources --json shows them all)")
    return 0


def _run(args) -> int:
    if args.command == "index":
        assistant = load_assistant(args, rebuild=args.rebuild, ray=args.ray, report=lambda m: print(m, file=sys.stderr))
        print(_describe_index(assistant))
        return 0
    if args.command == "add":
        from ..indexing.sources import is_source

        sources = args.kind is not None or any(is_source(p) for p in args.paths)
        assistant = load_assistant(args, refresh=False, corpus_optional=sources)
        done = assistant.add(
            args.paths,
            progress=True,
            kind=args.kind,
            name=args.name,
            allow_private=args.allow_private,
            fetch=_fetch_options(args),
            report=print,
        )
        print(done.describe())
        print(_describe_index(assistant))
        return 0
    if args.command == "remove":
        _check_index(args.index)
        assistant = load_assistant(args, refresh=False)
        print(assistant.remove(args.doc_ids).describe())
        print(_describe_index(assistant))
        return 0
    if args.command == "sync":
        return _sync(args)
    if args.command == "sources":
        return _sources(args)
    if args.command == "quotes":
        assistant = load_assistant(args)
        filters = {
            "outlets": args.outlet,
            "date_from": args.date_from,
            "date_to": args.date_to,
            "kinds": KINDS if args.all_kinds else args.kind,
            "min_confidence": 0.0 if args.doubtful else None,
        }
        if not args.speaker:
            speakers = assistant.speakers(**filters, unnamed=args.unnamed)
            speakers = speakers[: args.limit] if args.limit else speakers
            if args.json:
                print(json.dumps([asdict(s) for s in speakers], ensure_ascii=False, indent=2))
            for s in [] if args.json else speakers:
                outlets = ", ".join(o or "outlet not stated" for o in s.outlets)
                print(f"{s.name}: {s.quotes} quotes in {s.articles} articles ({outlets})")
            return 0
        found = assistant.quotes(args.speaker, args.about, limit=args.limit, **filters)
        if args.json:
            print(json.dumps([q.to_dict() for q in found], ensure_ascii=False, indent=2))
        elif not found:
            print(f"No quote by {args.speaker} in the index; `qa quotes` lists who is quoted.")
        for q in [] if args.json else found:
            score = f"  (match {q.score:.3f})" if q.score is not None else ""
            print(f"\n{q.label}: {q.text}\n  — {q.citation}{score}")
        return 0
    if args.command == "ask":
        if not args.question.strip():
            from ..errors import EmptyQuestionError

            raise EmptyQuestionError(
                "the question is empty; type a question, e.g. qa ask 'what did Lavrov say about a summit?'"
            )
        assistant = load_assistant(args)
        answer = assistant.ask(
            args.question,
            k=args.k,
            history=args.history,
            outlets=args.outlet,
            date_from=args.date_from,
            date_to=args.date_to,
            as_of=args.as_of,
        )
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        else:
            print(format_answer(answer))
        return 0
    if args.command == "eval":
        return _eval(args)
    if args.command == "serve":
        from . import server

        server.serve(
            corpus=args.corpus,
            index=args.index,
            **_model_options(args),
            host=args.host,
            port=args.port,
            concurrency=args.concurrency,
            keys=args.keys,
            insecure=args.insecure,
            replica=args.replica,
        )
        return 0
    if args.command == "keys":
        return _keys(args)
    raise AssertionError(args.command)


def _keys(args) -> int:
    """``qa keys add | list | revoke``."""
    from .keys import ENV, add_key, keys_file, read_keys, revoke_key

    path = keys_file(args.keys)
    if args.keys_command == "add":
        key, entry = add_key(path, args.name, write=args.write)
        rights = "read and write" if entry.write else "read"
        print(f"{entry.name} ({rights}): {key}")
        print(f"Kept as a SHA-256 in {path}; this is the only time the key is shown.", file=sys.stderr)
        flag = ":write" if entry.write else ""
        print(f"For {ENV} instead of the file: {entry.name}:sha256:{entry.sha256}{flag}", file=sys.stderr)
        return 0
    if args.keys_command == "revoke":
        entry = revoke_key(path, args.name)
        print(f"{entry.name} revoked on {entry.revoked} in {path}")
        return 0
    found = read_keys(path)
    if not found:
        print(f"no keys in {path}; qa keys add NAME makes one")
    for entry in found:
        state = f"revoked {entry.revoked}" if entry.revoked else "in force"
        print(f"{entry.name}\t{'read, write' if entry.write else 'read'}\tmade {entry.created or '?'}\t{state}")
    return 0


def _eval(args) -> int:
    """``qa eval``: evaluate, print metrics, optionally write a report; or compare two runs."""
    from .beir import beir_index, is_beir_folder
    from .evaluation import compare_runs, evaluate, evaluate_beir, load_questions, metrics_table, write_report

    if args.compare:
        print(compare_runs(*args.compare), end="")
        return 0
    if not args.questions:
        raise QuestionFileError("name a question file (.jsonl / .csv) or a BEIR folder, or use --compare RUN_A RUN_B")
    target = Path(args.questions)
    if target.is_dir():
        if not is_beir_folder(target):
            raise QuestionFileError(
                f"{target} is a folder but not a BEIR dataset (corpus.jsonl, queries.jsonl, qrels/)"
            )
        report = evaluate_beir(target, index=beir_index(args.index, target), k=max(args.k, 100), **_model_options(args))
    else:
        questions = load_questions(target)
        report = evaluate(load_assistant(args), questions, k=args.k)
    if args.out:
        for path in write_report(report, args.out):
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(metrics_table(report))
        print("\n" + ", ".join(f"{k} {v}" for k, v in report.info.items()))
    return 0


def _describe_index(assistant) -> str:
    m = assistant.store.manifest
    return (
        f"index {assistant.store.folder}: {m['documents']} articles, {m['passages']} passages, "
        f"{m['sentences']} sentences, model {m['model']}, "
        + (m["vector_index"]["store"] if "store" in m["vector_index"] else f"{m['vector_index']['kind']} vector index")
    )


def _check_index(index: str) -> None:
    from ..errors import IndexLocationError

    if not (Path(index) / "index.sqlite").is_file():
        raise IndexLocationError(f"there is no index at {index}; make one with qa index, or pass --index")


def format_answer(answer) -> str:
    """Plain-text rendering of an :class:`~qa.answers.answer.Answer` for the terminal."""
    lines = []
    if not answer.answerable:
        lines.append(
            "The corpus does not answer this question. Closest passages:" if answer.hits else "No passage found."
        )
    if answer.query != answer.question:
        lines.append(f"(searched as: {answer.query})")
    lines.extend(f"note: {n}" for n in answer.notes)
    lines.extend(f"sources differ: {d.describe()}" for d in answer.disagreements)
    for hit in answer.hits:
        p = hit.passage
        lines.append("")
        said = f"  said by {', '.join(hit.speakers)}" if hit.speakers else ""
        lines.append(f"{hit.reference}{said}  (score {hit.score:.3f})")
        a, b = hit.highlight[0] - p.char_start, hit.highlight[1] - p.char_start
        lines.append(p.text[:a] + ">>> " + p.text[a:b] + " <<<" + p.text[b:])
        lines.extend(f"    also carried by: {line}" for line in hit.carried_by)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
