"""Serve the web chat: ``python ui.py [--corpus DIR] [--index DIR] [--model NAME] [--weights FILE] [--port N]``.

A thin layer over ``qa serve`` (same options and errors); the logic lives in :mod:`qa.apps.webchat`.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments as ``qa serve`` does and serve the chat until interrupted; returns the exit status."""
    from qa.apps.cli import main as qa_main

    return qa_main(["serve", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
