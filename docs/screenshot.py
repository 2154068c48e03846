"""Regenerate docs/screenshot.png from the running app: a real question, its reply, and an opened citation.

Usage: ``python docs/screenshot.py [--corpus DIR] [--question TEXT] [--out PATH]``

It starts the web chat on a free 127.0.0.1 port over a temporary index (the real model),
asks the question in Debian's headless chromium (/usr/bin/chromium), opens the first
citation in the article panel and saves a screenshot of the page.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def take(*, corpus: Path, question: str, out: Path, passages: int = 3, width: int = 1440, height: int = 1000) -> Path:
    """Start the app, ask ``question`` in chromium, open the first citation, and save the page to ``out``."""
    from playwright.sync_api import sync_playwright

    from qa import Assistant
    from qa.apps.server import build_server, start

    with tempfile.TemporaryDirectory(prefix="qa-screenshot-") as tmp:
        assistant = Assistant.load(corpus=corpus, index=Path(tmp) / "index", progress=False)
        running = start(build_server(assistant), host="127.0.0.1", port=_free_port(), block=False, quiet=True)
        url = running.url
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--disable-sync"])
                page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
                page.set_default_timeout(30_000)
                page.goto(url)
                page.wait_for_selector("#qa-question textarea")
                page.fill("#qa-k input[type=number]", str(passages))
                page.locator("#qa-k input[type=number]").press("Enter")
                page.fill("#qa-question textarea", question)
                page.keyboard.press("Enter")
                reply = page.locator("#qa-chat .qa-reply").first
                reply.locator("mark").first.wait_for()
                reply.locator("a.qa-cite").first.click()
                page.locator("#qa-article-panel mark").wait_for()
                page.wait_for_timeout(500)
                # show the question and the start of the reply
                page.evaluate(
                    """() => {
                      const user = document.querySelector('#qa-chat .message-row, #qa-chat [data-testid=user]');
                      if (user) user.scrollIntoView({block: 'start'});
                    }"""
                )
                page.wait_for_timeout(300)
                out.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out))
                browser.close()
        finally:
            running.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and write the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--question", default="who led Russia's delegation?")
    parser.add_argument("--passages", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"error: {CHROMIUM} is missing; install Debian's chromium (make browser)", file=sys.stderr)
        return 2
    path = take(corpus=args.corpus, question=args.question, out=args.out, passages=args.passages)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
