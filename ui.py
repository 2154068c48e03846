"""Serve the web chat: ``python ui.py [--corpus DIR] [--index DIR] [--model NAME] [--weights FILE] [--port N]``.

A thin layer: it parses the arguments and calls :func:`qa.webchat.serve`, where all the logic lives.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and serve the chat until interrupted; returns the exit status."""
    from qa.errors import QAError
    from qa.webchat import DEFAULT_CONCURRENCY, serve

    parser = argparse.ArgumentParser(description="Serve the news question-answering web chat.")
    parser.add_argument("--corpus", default="corpus", help="folder of articles (default: ./corpus)")
    parser.add_argument("--index", default="index", help="index folder (default: ./index)")
    parser.add_argument("--model", default=None, help="sentence-transformers model name or path")
    parser.add_argument("--weights", default=None, help="retrieval weights fitted for your corpus (JSON)")
    parser.add_argument("--rerank", default=None, help="optional second-stage model (off by default)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"questions answered at the same time (default {DEFAULT_CONCURRENCY}; 0: no limit)",
    )
    args = parser.parse_args(argv)
    try:
        serve(
            corpus=args.corpus,
            index=args.index,
            model=args.model,
            rerank=args.rerank,
            weights=args.weights,
            host=args.host,
            port=args.port,
            concurrency=args.concurrency or None,
        )
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
