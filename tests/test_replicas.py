"""Stateless replicas for real: two ``qa serve --replica`` processes with no index folder, on a real
Milvus server, answer over HTTP as the FAISS store does, and cite an article a third process adds.

The index is written by this process with the real model (the ingest side); the replicas load the
model and read everything else from the server (:mod:`qa.store.served`).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

pytest.importorskip("pymilvus", reason="pymilvus is not installed: pip install -e '.[milvus]'")

from qa import Assistant

from .conftest import DATA
from .test_api import call

QUESTIONS = [json.loads(line) for line in (DATA / "dev.jsonl").read_text().splitlines() if line.strip()]
QA = [sys.executable, "-c", "import sys; from qa.apps.cli import main; sys.exit(main(sys.argv[1:]))"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_replica(spec: str, folder: Path) -> tuple[subprocess.Popen, str]:
    folder.mkdir()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("QA_API_KEYS", "QA_KEYS_FILE")}
    with open(folder / "log", "w") as log:
        process = subprocess.Popen(
            [*QA, "serve", "--replica", "--store", spec, "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process, f"http://127.0.0.1:{port}"


def _wait(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the replica exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/v1/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the replica did not start: {log.read_text()[-2000:]}")


def test_two_replicas_without_an_index_folder_answer_as_faiss_and_see_an_added_article(
    real_server, real_encoder, real_assistant, corpus_copy, tmp_path
):
    spec = f"{real_server.uri}/r{uuid.uuid4().hex[:12]}"
    Assistant.load(corpus=corpus_copy, index=tmp_path / "index", encoder=real_encoder, store=spec, progress=False)
    replicas = [_start_replica(spec, tmp_path / f"replica-{i}") for i in (1, 2)]
    try:
        for (process, url), i in zip(replicas, (1, 2)):
            _wait(process, url, tmp_path / f"replica-{i}" / "log")
        for folder in (tmp_path / "replica-1", tmp_path / "replica-2"):
            assert sorted(p.name for p in folder.iterdir()) == ["log"]  # no index folder, no corpus
        for q in QUESTIONS:
            body = {"question": q["question"], "history": q.get("history", []), "k": 5}
            expected = real_assistant.ask(q["question"], history=q.get("history", []), k=5).to_dict()
            for _, url in replicas:
                status, answer = call(url, "/v1/ask", method="POST", body=body)
                assert status == 200, answer
                assert [h["citation"] for h in answer["hits"]] == [h["citation"] for h in expected["hits"]], q
                assert [h["highlight"] for h in answer["hits"]] == [h["highlight"] for h in expected["hits"]], q
                assert answer["answerable"] == expected["answerable"]
        status, body = call(replicas[0][1], "/v1/articles/x.txt", method="DELETE")
        assert status == 403  # no write key: refused before anything else

        article = corpus_copy / "zebra.txt"
        article.write_text(
            "Zebra crossings return to the old town\n\n"
            "The town council said on Monday that the zebra crossings removed last year will be painted again.\n"
        )
        added = subprocess.run(
            [
                *QA,
                "add",
                str(article),
                "--index",
                str(tmp_path / "index"),
                "--corpus",
                str(corpus_copy),
                "--store",
                spec,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert added.returncode == 0, added.stderr[-2000:]
        for _, url in replicas:
            status, answer = call(url, "/v1/ask", method="POST", body={"question": "when will zebra crossings return?"})
            assert status == 200 and answer["hits"][0]["passage"]["doc_id"] == "zebra.txt"
    finally:
        for process, _ in replicas:
            process.terminate()
        for process, _ in replicas:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
