"""Run inside a loopback-only network namespace by ``tests/test_api.py``: ``qa serve``'s code bound to
0.0.0.0. Prints one JSON line of what it saw: the refusal without keys, then each request's status.

``python tests/exposed_server.py CORPUS`` (the current folder gets the index and keys file).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(corpus: str) -> None:
    from qa import Assistant
    from qa.apps.keys import KeyRing, add_key, check_exposure
    from qa.apps.server import build_server, serve, start
    from tests.conftest import FakeEncoder
    from tests.test_api import call

    seen = {}
    try:
        serve(corpus=corpus, index="index", host="0.0.0.0", keys="no-keys.json", block=False)
        seen["refused_without_keys"] = "served"
    except Exception as exc:  # the refusal, before anything loads
        seen["refused_without_keys"] = f"{type(exc).__name__}: {exc}"
    read, _ = add_key("keys.json", "reader")
    ring = KeyRing("keys.json")
    check_exposure("0.0.0.0", ring)
    assistant = Assistant.load(corpus=corpus, index="index", encoder=FakeEncoder(), progress=False)
    running = start(build_server(assistant, keys=ring), host="0.0.0.0", port=8080, block=False, quiet=True)
    url = "http://127.0.0.1:8080"
    ask = {"question": "summit"}
    seen["no_key"] = call(url, "/v1/ask", method="POST", body=ask)[0]
    seen["wrong_key"] = call(url, "/v1/ask", method="POST", body=ask, key="qa_" + "x" * 43)[0]
    seen["chat_without_login"] = call(url, "/gradio_api/info")[0]
    seen["read_key"] = call(url, "/v1/ask", method="POST", body=ask, key=read)[0]
    seen["read_key_writes"] = call(url, "/v1/articles", method="POST", body={"paths": ["a.txt"]}, key=read)[0]
    seen["health"] = call(url, "/v1/health")[0]
    running.stop()
    print(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1])
