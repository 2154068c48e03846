"""The REST API and its keys, driven over HTTP against a real server (uvicorn on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from qa.apps.keys import KeyRing, add_key, check_exposure, env_keys, is_loopback, read_keys, revoke_key
from qa.errors import AuthenticationError, ExposedError, KeysFileError, PermissionDeniedError

HERE = Path(__file__).resolve().parent


def call(url: str, path: str, *, method: str = "GET", body=None, key: str | None = None, raw: bytes | None = None):
    """(status, JSON body) of one request."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url.rstrip("/") + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        payload = exc.read()
        try:
            return exc.code, json.loads(payload)
        except json.JSONDecodeError:
            return exc.code, payload.decode("utf-8", "replace")


# --------------------------------------------------------------------------- keys, without a server


def test_keys_are_kept_hashed_and_shown_once(tmp_path):
    path = tmp_path / "keys.json"
    key, entry = add_key(path, "newsroom")
    writer, _ = add_key(path, "ingest", write=True)
    text = path.read_text()
    assert key not in text and writer not in text and entry.sha256 in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [(k.name, k.write) for k in read_keys(path)] == [("newsroom", False), ("ingest", True)]
    ring = KeyRing(path)
    assert ring.required and ring.check(key).name == "newsroom" and ring.check(writer, write=True).name == "ingest"
    with pytest.raises(PermissionDeniedError, match="write rights"):
        ring.check(key, write=True)
    with pytest.raises(AuthenticationError, match="not known"):
        ring.check(key + "x")
    with pytest.raises(AuthenticationError, match="needs an API key"):
        ring.check(None)
    with pytest.raises(KeysFileError, match="already has a key called newsroom"):
        add_key(path, "newsroom")
    with pytest.raises(KeysFileError, match="key name"):
        add_key(path, "no spaces please")


def test_a_revoked_key_is_refused_by_a_running_ring(tmp_path):
    path = tmp_path / "keys.json"
    key, _ = add_key(path, "newsroom")
    other, _ = add_key(path, "desk")
    ring = KeyRing(path)
    assert ring.check(key).name == "newsroom"
    revoke_key(path, "newsroom")
    with pytest.raises(AuthenticationError, match="revoked"):
        ring.check(key)
    assert ring.check(other).name == "desk"
    with pytest.raises(KeysFileError, match="no key called nobody"):
        revoke_key(path, "nobody")


def test_without_keys_reads_are_open_and_writes_refused(tmp_path):
    ring = KeyRing(tmp_path / "none.json")
    assert not ring.required and ring.check(None) is None
    with pytest.raises(PermissionDeniedError, match="qa keys add NAME --write"):
        ring.check(None, write=True)


def test_keys_from_the_environment(tmp_path):
    plain = "k" * 30
    hashed = env_keys(f"bot:{plain}:write, viewer:sha256:{'a' * 64}")
    assert [(k.name, k.write) for k in hashed] == [("bot", True), ("viewer", False)]
    ring = KeyRing(tmp_path / "none.json", env=f"bot:{plain}:write")
    assert ring.check(plain, write=True).name == "bot"
    with pytest.raises(KeysFileError, match="entry 2: the key is shorter than") as caught:
        env_keys(f"bot:{plain},other:ZZQX")
    assert "ZZQX" not in str(caught.value)  # a key is never repeated in a message
    with pytest.raises(KeysFileError, match="entry 1: write NAME:KEY"):
        env_keys("nonsense")


def test_a_malformed_keys_file_names_the_problem_and_is_left_alone(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text('{"keys": [{"name": "x", "sha256": "nothex"}]}')
    with pytest.raises(KeysFileError, match=r"entry 1 \(x\): sha256"):
        KeyRing(path)
    with pytest.raises(KeysFileError):
        add_key(path, "y")
    assert path.read_text() == '{"keys": [{"name": "x", "sha256": "nothex"}]}'


def test_exposed_binds_need_keys(tmp_path, recwarn):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.7")
    empty = KeyRing(tmp_path / "none.json")
    check_exposure("127.0.0.1", empty)
    with pytest.raises(ExposedError, match=r"qa keys add NAME.*--insecure"):
        check_exposure("0.0.0.0", empty)
    check_exposure("0.0.0.0", empty, insecure=True)
    assert any("--insecure" in str(w.message) for w in recwarn)
    add_key(tmp_path / "keys.json", "desk")
    check_exposure("0.0.0.0", KeyRing(tmp_path / "keys.json"))


def test_qa_serve_refuses_an_exposed_bind_before_loading_anything(tmp_path, capsys, monkeypatch):
    from qa.apps.cli import main

    monkeypatch.delenv("QA_API_KEYS", raising=False)
    code = main(["serve", "--host", "0.0.0.0", "--keys", str(tmp_path / "k.json"), "--corpus", str(tmp_path / "none")])
    assert code == 2
    assert "no API key is set" in capsys.readouterr().err


def test_qa_keys_commands(tmp_path, capsys):
    from qa.apps.cli import main

    path = tmp_path / "keys.json"
    assert main(["keys", "add", "ingest", "--write", "--keys", str(path)]) == 0
    out, err = capsys.readouterr()
    key = out.strip().rsplit(" ", 1)[1]
    assert key.startswith("qa_") and len(key) >= 40 and "sha256:" in err
    assert KeyRing(path).check(key, write=True).name == "ingest"
    assert main(["keys", "list", "--keys", str(path)]) == 0
    assert "ingest\tread, write" in capsys.readouterr().out
    assert main(["keys", "revoke", "ingest", "--keys", str(path)]) == 0
    capsys.readouterr()
    assert main(["keys", "revoke", "nobody", "--keys", str(path)]) == 2
    assert "no key called nobody" in capsys.readouterr().err


# --------------------------------------------------------------------------- over HTTP


@pytest.fixture
def served(fake_assistant, tmp_path):
    """The chat and the API over the fake assistant, with a read key and a write key."""
    from qa.apps.server import build_server, start

    path = tmp_path / "keys.json"
    read, _ = add_key(path, "reader")
    write, _ = add_key(path, "ingest", write=True)
    running = start(build_server(fake_assistant, keys=KeyRing(path)), host="127.0.0.1", port=0, block=False, quiet=True)
    yield running.url, read, write, path, fake_assistant
    running.stop()


def test_no_request_without_a_valid_key_succeeds(served):
    url, read, *_ = served
    question = {"question": "how many prisoners were exchanged?"}
    for key in (None, "", "qa_wrong", read + "x"):
        status, body = call(url, "/v1/ask", method="POST", body=question, key=key)
        assert status == 401 and body["error"]["type"] == "AuthenticationError", (key, body)
    for path_ in ("/v1/speakers", "/v1/articles", "/v1/quotes?speaker=Lavrov"):
        assert call(url, path_)[0] == 401
    assert call(url, "/v1/articles", method="POST", body={"paths": ["x.txt"]})[0] == 401
    # the key is checked before the body is read: a bad body without a key is still a 401
    assert call(url, "/v1/ask", method="POST", raw=b"{not json")[0] == 401
    assert call(url, "/v1/health") == (200, {"status": "ok"})


def test_answers_quotes_speakers_and_articles_with_a_read_key(served):
    url, read, _, _, assistant = served
    status, body = call(url, "/v1/ask", method="POST", body={"question": "prisoner exchange", "k": 3}, key=read)
    assert status == 200 and len(body["hits"]) == 3
    expected = assistant.ask("prisoner exchange", k=3).to_dict()
    assert [h["citation"] for h in body["hits"]] == [h["citation"] for h in expected["hits"]]
    hit = body["hits"][0]["passage"]
    assert hit["text"] and isinstance(hit["char_start"], int)
    follow = {"question": "and what did he say about it?", "history": ["what did Lavrov say about a summit?"]}
    status, body = call(url, "/v1/ask", method="POST", body=follow, key=read)
    assert status == 200 and body["query"] != body["question"]
    status, speakers = call(url, "/v1/speakers", key=read)
    assert status == 200 and speakers and {"name", "quotes", "outlets"} <= set(speakers[0])
    name = speakers[0]["name"]
    status, quotes = call(url, f"/v1/quotes?speaker={urllib.request.quote(name)}&limit=2", key=read)
    assert status == 200 and 0 < len(quotes) <= 2 and quotes[0]["speaker"] == name and quotes[0]["citation"]
    status, listing = call(url, "/v1/articles", key=read)
    assert status == 200 and listing["documents"] == len(listing["ids"]) == 5
    doc_id = listing["ids"][0]
    status, article = call(url, f"/v1/articles/{urllib.request.quote(doc_id)}", key=read)
    assert status == 200 and article["doc_id"] == doc_id and article["text"] and article["blocks"]


def test_errors_are_json_with_the_librarys_message(served):
    url, read, _, _, _ = served
    status, body = call(url, "/v1/ask", method="POST", body={"question": "  "}, key=read)
    assert status == 400 and body["error"]["type"] == "EmptyQuestionError" and "empty" in body["error"]["message"]
    status, body = call(url, "/v1/ask", method="POST", body={"question": "x", "date_from": "May 5"}, key=read)
    assert status == 400 and body["error"]["type"] == "FilterError"
    for wrong in ({"question": 12}, {"question": "x", "k": "5"}, {"question": "x", "k": 0}, {"q": "x"}):
        status, body = call(url, "/v1/ask", method="POST", body=wrong, key=read)
        assert status == 422 and body["error"]["status"] == 422 and "openapi" in body["error"]["message"], wrong
    status, body = call(url, "/v1/ask", method="POST", raw=b"{not json", key=read)
    assert status == 422
    status, body = call(url, "/v1/articles/no/such.txt", key=read)
    assert status == 404 and "GET /v1/articles" in body["error"]["message"]
    status, body = call(url, "/v1/quotes?speaker=Lavrov&kinds=rumour", key=read)
    assert status == 400 and "rumour" in body["error"]["message"]


def test_writes_need_a_write_key_and_are_seen_on_the_next_question(served):
    url, read, write, path, assistant = served
    corpus = Path(assistant.corpus)
    article = corpus / "added" / "zebra.txt"
    article.parent.mkdir()
    article.write_text("Zebra crossings return\n\nThe council said on Monday that zebra crossings will return.\n")
    status, body = call(url, "/v1/articles", method="POST", body={"paths": ["added/zebra.txt"]}, key=read)
    assert status == 403 and body["error"]["type"] == "PermissionDeniedError" and "--write" in body["error"]["message"]
    status, body = call(url, "/v1/articles", method="POST", body={"paths": ["../outside.txt"]}, key=write)
    assert status == 400 and "outside the corpus folder" in body["error"]["message"]
    status, body = call(url, "/v1/articles", method="POST", body={"paths": ["added/zebra.txt"]}, key=write)
    assert status == 200 and body["added"] == ["added/zebra.txt"] and body["encoded"] >= 1
    status, body = call(url, "/v1/ask", method="POST", body={"question": "zebra crossings council"}, key=read)
    assert body["hits"][0]["passage"]["doc_id"] == "added/zebra.txt"
    assert call(url, "/v1/articles/added/zebra.txt", method="DELETE", key=read)[0] == 403
    status, body = call(url, "/v1/articles/added/zebra.txt", method="DELETE", key=write)
    assert status == 200 and body["removed"] == ["added/zebra.txt"]
    assert article.exists()  # the file is left alone
    assert call(url, "/v1/articles/added/zebra.txt", key=read)[0] == 404
    status, body = call(url, "/v1/articles/added/zebra.txt", method="DELETE", key=write)
    assert status == 404 and body["error"]["type"] == "DocumentNotFoundError"
    revoke_key(path, "ingest")
    status, body = call(url, "/v1/articles", method="POST", body={"paths": ["added/zebra.txt"]}, key=write)
    assert status == 401 and "revoked" in body["error"]["message"]


def test_openapi_document_lists_the_endpoints_and_the_bearer_scheme(served):
    url, *_ = served
    status, doc = call(url, "/v1/openapi.json")
    assert status == 200 and doc["info"]["version"] == "v1"
    assert {"/v1/ask", "/v1/quotes", "/v1/speakers", "/v1/articles", "/v1/articles/{doc_id}"} <= set(doc["paths"])
    assert {"post", "delete"} <= set(doc["paths"]["/v1/articles"]) | set(doc["paths"]["/v1/articles/{doc_id}"])
    assert any(s.get("scheme") == "bearer" for s in doc["components"]["securitySchemes"].values())


def test_the_chat_needs_a_login_when_keys_are_in_force(served):
    from gradio_client import Client

    url, read, *_ = served
    status, _ = call(url, "/gradio_api/info")
    assert status == 401
    with pytest.raises(ValueError, match="credentials were not provided"):
        Client(url, verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(url, auth=("reader", "qa_wrong"), verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(url, auth=("someone-else", read), verbose=False)  # the key's own name, not any
    client = Client(url, auth=("reader", read), verbose=False)
    answer = client.predict("prisoner exchange", [], 2, None, "", "", "", api_name="/ask")
    assert len(answer["hits"]) == 2


def test_without_keys_on_loopback_reads_are_open_and_writes_refused(fake_assistant, tmp_path):
    from qa.apps.server import build_server, start

    running = start(build_server(fake_assistant, keys=KeyRing(tmp_path / "none.json")), port=0, block=False, quiet=True)
    try:
        assert call(running.url, "/v1/ask", method="POST", body={"question": "summit"})[0] == 200
        status, body = call(running.url, "/v1/articles/x.txt", method="DELETE")
        assert status == 403 and "write rights" in body["error"]["message"]
        assert call(running.url, "/v1/ask", method="POST", body={"question": "summit"}, key="qa_wrong")[0] == 401
    finally:
        running.stop()


# --------------------------------------------------------------------------- bound to every interface


def _namespace_unavailable() -> str | None:
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("ip") is None:
        return "binding 0.0.0.0 is tested inside a loopback-only network namespace, which needs root and ip"
    return None


@pytest.mark.skipif(_namespace_unavailable() is not None, reason=str(_namespace_unavailable()))
def test_bound_to_every_interface_no_request_without_a_key_succeeds(tmp_path, corpus_copy):
    """``qa serve``'s own code bound to 0.0.0.0 (in a namespace with only loopback, so nothing
    outside can reach it): refused without keys; with keys, no request without one succeeds."""
    name = f"qa-api-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        done = subprocess.run(
            ["ip", "netns", "exec", name, sys.executable, str(HERE / "exposed_server.py"), str(corpus_copy)],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        seen = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    assert seen["refused_without_keys"].startswith("ExposedError")
    assert seen["no_key"] == seen["wrong_key"] == seen["chat_without_login"] == 401
    assert seen["read_key"] == 200 and seen["read_key_writes"] == 403 and seen["health"] == 200


def test_a_store_that_cannot_be_reached_is_a_503_with_the_message(fake_assistant, tmp_path, monkeypatch):
    from qa.apps.server import build_server, start
    from qa.errors import StoreUnavailableError

    def down(*_args, **_kwargs):
        raise StoreUnavailableError("the Milvus server at http://127.0.0.1:1 failed; check that the server is running")

    monkeypatch.setattr(fake_assistant, "ask", down)
    running = start(build_server(fake_assistant, keys=KeyRing(tmp_path / "none.json")), port=0, block=False, quiet=True)
    try:
        status, body = call(running.url, "/v1/ask", method="POST", body={"question": "summit"})
        assert status == 503 and body["error"]["type"] == "StoreUnavailableError"
        assert "check that the server is running" in body["error"]["message"]
    finally:
        running.stop()
