"""The web chat's logic without a browser: rendering, escaping, citations, respond, the app's endpoints."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest

from qa import Answer, Hit, Passage
from qa.apps.webchat import (
    CLOSEST,
    NO_OUTLET,
    NOT_ANSWERABLE,
    REF_PREFIX,
    article_ref,
    build_app,
    open_article,
    outlets_line,
    parse_ref,
    render_answer,
    render_article,
    render_error,
    render_hit,
    render_passage,
    respond,
)

EVIL = 'Talks <script>window.__xss=1;alert("x")</script> went on. <img src=x onerror=alert(1)> & "more" \'quotes\''


def _passage(
    text: str,
    *,
    outlet: str = "Outlet A",
    title: str = "A title",
    date: str = "2025-05-20",
    doc_id="a.txt",
    kind: str = "report",
):
    return Passage(doc_id, title, outlet, date, text, 100, 100 + len(text), kind=kind)


def _hit(rank: int, passage: Passage, sentence: tuple[int, int] | None = None, score: float = 0.7) -> Hit:
    a, b = sentence or (0, len(passage.text))
    return Hit(rank, score, passage, (passage.char_start + a, passage.char_start + b))


def _answer(*hits: Hit, answerable: bool = True, notes: tuple[str, ...] = (), query: str = "q") -> Answer:
    return Answer("q", query, tuple(hits), answerable, 0.7, notes)


def _hrefs(reply: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', reply)]


# --------------------------------------------------------------------------- escaping


def test_corpus_text_is_escaped_everywhere():
    passage = _passage(EVIL, outlet="<b>Evil</b> Times", title="<img src=y onerror=alert(2)>", doc_id="<x>.txt")
    start = EVIL.index("<img")
    reply = render_answer(_answer(_hit(1, passage, (start, start + 28)), _hit(2, _passage("plain"))))
    for raw in ("<script", "<img", "<b>", "<x>", "onerror=alert(1)>"):
        assert raw not in reply
    assert "&lt;script&gt;window.__xss=1;alert(&quot;x&quot;)&lt;/script&gt;" in reply
    assert "&lt;b&gt;Evil&lt;/b&gt; Times" in reply
    assert "&lt;img src=y onerror=alert(2)&gt;" in reply
    assert "&amp; &quot;more&quot; &#x27;quotes&#x27;" in reply
    # the only tags are the ones the renderer writes
    tags = {"div", "p", "a", "span", "blockquote", "mark", "strong", "em", "br", "ul", "li"}
    assert set(re.findall(r"<(\w+)", reply)) <= tags


def test_reply_is_one_html_block_without_newlines():
    passage = _passage("First line.\n\nSecond line.\r\nThird.")
    reply = render_answer(_answer(_hit(1, passage, (0, 11))))
    assert "\n" not in reply and "\r" not in reply
    assert reply.startswith('<div class="qa-reply">') and reply.endswith("</div>")
    assert "First line.</mark><br><br>Second line.<br>Third." in reply


def test_article_view_is_escaped_and_highlights_in_context():
    from qa.assistant import Article
    from qa.ingest.documents import ArticleMeta

    text = "Intro.\n" + EVIL + "\nOutro."
    ps = text.index("Talks")
    hs = text.index("<img")
    meta = ArticleMeta(title="<i>T</i>", outlet="", date="", url="javascript:alert(1)", kind="opinion")
    view = render_article(Article("evil.txt", meta, text, ()), passage=(ps, ps + len(EVIL)), highlight=(hs, hs + 28))
    assert "<script" not in view and "<img" not in view and "<i>" not in view
    assert '<mark class="qa-hl">&lt;img src=x onerror=alert(1)&gt;</mark>' in view
    assert '<span class="qa-ctx">Talks &lt;script&gt;' in view
    assert "Intro.<br>" in view
    assert "outlet not stated · undated · opinion" in view
    assert 'href="javascript' not in view  # only http(s) URLs become links
    assert "&lt;i&gt;T&lt;/i&gt;" in view


def test_error_messages_are_escaped():
    assert render_error(ValueError("bad <b>date</b>")) == (
        '<div class="qa-reply"><p class="qa-error"><strong>Error:</strong> bad &lt;b&gt;date&lt;/b&gt;</p></div>'
    )


# --------------------------------------------------------------------------- citations and highlight


def test_citations_are_numbered_and_name_outlet_title_date_and_file(fake_assistant):
    answer = fake_assistant.ask("what did Lavrov say about a summit", k=3)
    reply = render_answer(answer)
    for hit in answer.hits:
        p = hit.passage
        cite = (
            f"[{hit.rank}] {p.outlet or NO_OUTLET}, {f'“{p.title}”' if p.title else 'untitled'}, {p.date or 'undated'}"
        )
        assert html.escape(cite) in reply
        assert html.escape(p.doc_id) in reply
    refs = [h for h in _hrefs(reply) if h.startswith(REF_PREFIX)]
    assert [parse_ref(r)[0] for r in refs] == [h.passage.doc_id for h in answer.hits]


def test_citation_names_the_kind_and_who_speaks_the_highlighted_sentence(fake_assistant):
    from qa.apps.cli import format_answer

    passages = fake_assistant.passages
    p = next(p for p in passages if p.doc_id.startswith("002") and any(q.speaker == "Dymov" for q in p.quotes))
    quote = next(q for q in p.quotes if q.speaker == "Dymov")
    hit = Hit(1, 1.0, p, (quote.char_start, quote.char_end))
    assert hit.speakers == ("Dymov",) and hit.to_dict()["speakers"] == ["Dymov"]
    assert hit.reference == f"[1] {hit.citation} · interview"
    block = render_hit(hit)
    assert html.escape(hit.reference) in block and "said by Dymov" in block
    assert "said by Dymov" in format_answer(Answer("q", "q", (hit,), True))
    # a narrated sentence that nobody speaks names no speaker
    narrated = next(
        (q, start, end)
        for q in passages
        for start, end in q.sentences
        if not any(x.char_start < end and start < x.char_end for x in q.quotes)
    )
    plain = Hit(1, 1.0, narrated[0], narrated[1:])
    assert plain.speakers == () and "said by" not in render_hit(plain)


def test_highlighted_sentence_is_marked_inside_the_verbatim_passage(fake_assistant):
    answer = fake_assistant.ask("how many working groups did moscow propose?", k=5)
    reply = render_answer(answer)
    for hit in answer.hits:
        block = render_passage(hit)
        assert f'<mark class="qa-hl">{html.escape(hit.highlight_text).replace(chr(10), "<br>")}</mark>' in block
        assert block in reply
        # verbatim: removing the markup gives back the passage text
        plain = html.unescape(re.sub(r"<br>", "\n", re.sub(r"<(?!br>)[^>]+>", "", block)))
        assert plain == hit.passage.text


def test_ref_round_trip():
    ref = article_ref("dir/odd name:1.txt", (10, 200), (50, 90))
    assert re.fullmatch(r"[A-Za-z0-9_.~%\-:]+", ref)
    assert parse_ref(ref) == ("dir/odd name:1.txt", (10, 200), (50, 90))
    assert parse_ref(REF_PREFIX + ref) == parse_ref(ref)
    with pytest.raises(ValueError):
        parse_ref("nonsense")


def test_open_article_from_a_citation(fake_assistant):
    answer = fake_assistant.ask("what did Lavrov say about a summit", k=1)
    hit = answer.hits[0]
    ref = parse_ref(_hrefs(render_answer(answer))[0])
    view = open_article(fake_assistant, article_ref(ref[0], ref[1], ref[2]))
    assert f'<mark class="qa-hl">{html.escape(hit.highlight_text)}' in view.replace("<br>", "\n")
    assert view.count("<mark") == 1
    article = fake_assistant.article(hit.passage.doc_id)
    assert len(re.sub(r"<[^>]+>", "", view.replace("<br>", "\n"))) >= len(html.escape(article.text)) - 1
    assert "no article" in open_article(fake_assistant, article_ref("nope.txt", (0, 1), (0, 1)))
    assert "not a citation reference" in open_article(fake_assistant, "garbage")
    assert "Click a citation" in open_article(fake_assistant, "")


# --------------------------------------------------------------------------- reply wording


def test_not_answerable_is_said_first_then_closest_passages():
    answer = _answer(_hit(1, _passage("Something else entirely.")), answerable=False)
    reply = render_answer(answer)
    text = re.sub(r"<[^>]+>", " ", reply)
    assert text.strip().startswith(NOT_ANSWERABLE)
    assert reply.index(NOT_ANSWERABLE) < reply.index(CLOSEST) < reply.index("qa-passage")
    assert NOT_ANSWERABLE not in render_answer(dataclasses.replace(answer, answerable=True))


def test_filter_that_matches_nothing_says_so(fake_assistant):
    reply = respond("what did Lavrov say", [], assistant=fake_assistant, outlets=["Pravda"])
    assert "No article matches the filter" in reply and "pravda" in reply
    assert "qa-passage" not in reply
    reply = respond("talks", [], assistant=fake_assistant, date_from="2030-01-01")
    assert "No article matches the filter" in reply and "2030-01-01" in reply


def test_several_outlets_line():
    hits = [
        _hit(1, _passage("a", outlet="News.Az")),
        _hit(2, _passage("b", outlet="")),
        _hit(3, _passage("c", outlet="The Moscow Times")),
        _hit(4, _passage("d", outlet="News.Az")),
    ]
    line = "Sources from 3 outlets: News.Az, outlet not stated, The Moscow Times"
    assert outlets_line(_answer(*hits)) == line
    assert f'<p class="qa-outlets">{line}</p>' in render_answer(_answer(*hits))
    assert outlets_line(_answer(hits[0], hits[3])) is None
    assert "Sources from" not in render_answer(_answer(hits[0], hits[3]))


def test_outlet_without_name_shows_as_not_stated(fake_assistant):
    reply = respond("what did Lavrov say about a summit", [], assistant=fake_assistant, k=10)
    assert "outlet not stated, " in reply


def test_notes_and_rewritten_query_are_shown():
    reply = render_answer(_answer(_hit(1, _passage("x")), notes=("The question is <long>.",), query="q plus"))
    assert '<p class="qa-note">Note: The question is &lt;long&gt;.</p>' in reply
    assert "Searched as: <em>q plus</em>" in reply


def test_no_passage_at_all():
    assert "No passage found." in render_answer(_answer(answerable=False))


# --------------------------------------------------------------------------- respond


def test_respond_passes_controls_to_ask(fake_assistant):
    reply = respond("talks", [], assistant=fake_assistant, k=2, outlets=["News.Az"])
    assert reply.count('class="qa-hit"') == 2
    assert reply.count("News.Az, ") == 2
    reply = respond("talks", [], assistant=fake_assistant, k=10, date_from="2025-07-01", date_to="2025-07-31")
    assert reply.count("2025-07-23 — ") == reply.count('class="qa-hit"') > 0
    reply = respond("talks", [], assistant=fake_assistant, k=50, outlets=[NO_OUTLET])
    assert "News.Az" not in reply and "Moscow Times" not in reply and "outlet not stated" in reply


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"date_from": "16/05/2025"}, "YYYY-MM-DD"),
        ({"date_from": "2025-08-01", "date_to": "2025-07-01"}, "after"),
        ({"k": 0, "message": "   "}, "the question is empty"),
    ],
)
def test_errors_become_a_message_not_a_traceback(fake_assistant, kwargs, message):
    question = kwargs.pop("message", "talks")
    reply = respond(question, [], assistant=fake_assistant, **kwargs)
    assert reply.startswith('<div class="qa-reply"><p class="qa-error"><strong>Error:</strong>')
    assert message in reply and "Traceback" not in reply


def test_unexpected_errors_are_logged_not_shown(fake_assistant, monkeypatch, caplog):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(fake_assistant, "ask", boom)
    reply = respond("talks", [], assistant=fake_assistant)
    assert "could not be answered" in reply and "secret internals" not in reply
    assert "secret internals" in caplog.text


def test_gradio_history_shape_is_understood():
    from qa.search.followup import user_turns

    history = [
        {"role": "user", "content": [{"type": "text", "text": "who led Russia's delegation?"}], "metadata": None},
        {"role": "assistant", "content": [{"type": "text", "text": "<div>reply</div>"}]},
        {"role": "user", "content": "plain"},
        ("pair question", "pair answer"),
        "bare string",
        {"role": "user", "content": [{"type": "file", "file": {"path": "x.png"}}]},
    ]
    # the chat passes Gradio's history as it comes; the assistant reads the user turns from it
    assert user_turns(history) == ["who led Russia's delegation?", "plain", "pair question", "bare string"]


def test_follow_up_uses_the_gradio_history(fake_assistant):
    history = [
        {"role": "user", "content": [{"type": "text", "text": "who led Russia's delegation?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "<div>…</div>"}]},
    ]
    reply = respond("what did he say about compromises?", history, assistant=fake_assistant)
    assert "Searched as: <em>what did he say about compromises? who led Russia&#x27;s delegation?</em>" in reply


# --------------------------------------------------------------------------- the app


def test_app_exposes_named_endpoints(fake_assistant):
    demo = build_app(fake_assistant)
    names = {d.get("api_name") for d in demo.config["dependencies"] if d.get("api_visibility", "public") == "public"}
    assert {"answer", "ask", "article"} <= names
    outlet_box = next(c for c in demo.config["components"] if c["props"].get("elem_id") == "qa-outlets")
    assert [c[0] for c in outlet_box["props"]["choices"]] == ["News.Az", "The Moscow Times", NO_OUTLET]


def test_ui_parses_arguments_and_binds_localhost(monkeypatch):
    import qa.apps.server
    import ui

    seen = {}
    monkeypatch.setattr(qa.apps.server, "serve", lambda **kwargs: seen.update(kwargs))
    assert ui.main(["--corpus", "c", "--index", "i", "--port", "9999"]) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 9999 and seen["corpus"] == "c" and seen["index"] == "i"
    assert seen["concurrency"] is None and seen["keys"] is None and seen["insecure"] is False
    assert ui.main(["--host", "0.0.0.0", "--keys", "k.json", "--insecure"]) == 0
    assert (seen["host"], seen["keys"], seen["insecure"]) == ("0.0.0.0", "k.json", True)
    assert ui.main(["--concurrency", "0", "--weights", "w.json"]) == 0
    assert seen["concurrency"] == 0 and seen["weights"] == "w.json"


def test_concurrency_setting_reaches_the_chat_queue_and_the_api(fake_assistant, monkeypatch):
    import qa.apps.api
    import qa.apps.webchat
    from qa.apps.server import build_server

    seen = {}
    real_api, real_mount = qa.apps.api.build_api, qa.apps.webchat.mount
    monkeypatch.setattr(
        qa.apps.api, "build_api", lambda a, **kw: seen.update(api=kw["concurrency"]) or real_api(a, **kw)
    )
    monkeypatch.setattr(
        qa.apps.webchat,
        "mount",
        lambda app, demo, **kw: seen.update(chat=kw["concurrency"]) or real_mount(app, demo, **kw),
    )
    build_server(fake_assistant)
    assert seen == {"api": qa.apps.webchat.DEFAULT_CONCURRENCY, "chat": qa.apps.webchat.DEFAULT_CONCURRENCY}
    build_server(fake_assistant, concurrency=0)
    assert seen == {"api": None, "chat": None}
    build_server(fake_assistant, concurrency=3)
    assert seen == {"api": 3, "chat": 3}


def test_ui_reports_library_errors(tmp_path, capsys):
    import ui

    assert ui.main(["--corpus", str(tmp_path / "missing"), "--index", str(tmp_path / "index")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_qa_serve_calls_the_web_chat(monkeypatch):
    import inspect

    import qa.apps.server
    from qa.apps.cli import main

    real_serve, seen = qa.apps.server.serve, {}
    monkeypatch.setattr(qa.apps.server, "serve", lambda **kwargs: seen.update(kwargs))
    assert main(["serve", "--corpus", "c", "--index", "i", "--port", "7000"]) == 0
    assert {k: seen[k] for k in ("corpus", "index", "model", "host", "port")} == {
        "corpus": "c",
        "index": "i",
        "model": None,
        "host": "127.0.0.1",
        "port": 7000,
    }
    main(["serve", "--attribution-model", "rules", "--sentence-vectors", "separate"])
    assert (seen["attribution_model"], seen["sentence_vectors"]) == ("rules", "separate")  # every model option
    assert set(seen) <= set(inspect.signature(real_serve).parameters)  # the real serve takes them all


# --------------------------------------------------------------------------- real model


@pytest.mark.model
def test_follow_up_retrieves_medinskys_words(real_assistant):
    first = "who led Russia's delegation?"
    history = [{"role": "user", "content": [{"type": "text", "text": first}]}]
    history.append(
        {"role": "assistant", "content": [{"type": "text", "text": respond(first, [], assistant=real_assistant)}]}
    )
    reply = respond("what did he say about compromises?", history, assistant=real_assistant)
    assert "prepared for potential compromises" in reply


@pytest.mark.model
def test_macron_question_is_not_answerable(real_assistant):
    reply = respond("what did Macron say at the Istanbul talks in July?", [], assistant=real_assistant)
    assert re.sub(r"<[^>]+>", " ", reply).strip().startswith(NOT_ANSWERABLE)


def test_replies_group_passages_by_outlet_and_mark_opinion_pieces():
    from qa.apps.webchat import render_outlets

    hits = [
        _hit(1, _passage("a", outlet="News.Az", kind="interview", date="2025-05-20")),
        _hit(2, _passage("b", outlet="", kind="opinion", date="")),
        _hit(3, _passage("c", outlet="<i>Times</i>", kind="report")),
        _hit(4, _passage("d", outlet="News.Az", kind="interview", date="2025-05-20")),
    ]
    answer = _answer(*hits)
    assert [(o, [h.rank for h in g]) for o, g in answer.by_outlet()] == [
        ("News.Az", [1, 4]),
        ("", [2]),
        ("<i>Times</i>", [3]),
    ]
    assert answer.to_dict()["by_outlet"][0] == {"outlet": "News.Az", "ranks": [1, 4]}
    block = render_outlets(answer)
    assert (
        "<strong>News.Az</strong>: <span>[1] interview, 2025-05-20</span>; <span>[4] interview, 2025-05-20</span>"
        in block
    )
    assert '<span class="qa-opinion">[2] opinion, undated</span>' in block
    assert "&lt;i&gt;Times&lt;/i&gt;" in block and "<i>" not in block
    html = render_answer(answer)
    assert block in html and html.count('class="qa-kind qa-opinion">opinion piece</span>') == 1
    assert render_outlets(_answer(hits[0], hits[3])) == ""


def test_quotes_view_is_escaped_and_cites_each_quote():
    from qa.answers.speakers import Quoted
    from qa.apps.webchat import render_quotes

    p = _passage("He said <script>x()</script> now.", outlet="<b>O</b>", kind="opinion")
    q = Quoted("<i>Evil</i> Name", "Evil", p.char_start, p.char_end, True, p, 0.5)
    html_out = render_quotes("evil", [q])
    assert "<script>" not in html_out and "&lt;script&gt;" in html_out
    assert "&lt;i&gt;Evil&lt;/i&gt; Name said:" in html_out and "<i>" not in html_out
    assert html_out.count('class="qa-cite"') == 1 and "opinion piece" in html_out
    assert _hrefs(html_out)[0].startswith(REF_PREFIX)
    assert "No quote by &lt;x&gt;" in render_quotes("<x>", [])
    belief = Quoted("Jane Doe", "Doe", p.char_start, p.char_end, False, p, attribution="belief", confidence=0.5)
    assert "Jane Doe believes, wants or plans (belief) [doubtful speaker: confidence 0.50]:" in render_quotes(
        "Doe", [belief]
    )
