"""The web chat end to end: a real server with the real model, driven by headless chromium and gradio_client.

Each module-scoped server is started once, in this process, on a free 127.0.0.1 port, over
its own temporary index. Where Debian's chromium is missing, the browser tests are skipped
with the reason (``make browser`` installs it).
"""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import CORPUS

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000

FIRST = "who led Russia's delegation?"
FOLLOW_UP = "what did he say about compromises?"
MEDINSKY = "prepared for potential compromises"

XSS_ARTICLE = """Negotiators met again in Geneva on Tuesday to discuss the exchange of prisoners of war.
The mediator said <script>window.__xss = 1; alert("script ran")</script> that both sides had agreed to a schedule.
A spokesman added <img src=x onerror="window.__xss = 2; alert('img ran')"> that the lists of names were ready.
The **final** list is [here](javascript:window.__xss=5) and $$x^2$$ marks the spot.
Observers noted that the talks lasted three hours and that a further meeting on prisoner exchanges is planned for next
month, with the mediator promising to publish the agreed lists once both capitals have approved them formally.
"""
XSS_METADATA = """["evil.txt"]
title = "<img src=y onerror=\\"window.__xss = 3\\"> Prisoner talks"
outlet = "<b>Evil</b> Times"
date = "2025-06-01"
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(assistant) -> Iterator[str]:
    from qa.apps.server import build_server, start

    running = start(build_server(assistant), host="127.0.0.1", port=_free_port(), block=False, quiet=True)
    try:
        yield running.url
    finally:
        running.stop()


@pytest.fixture(scope="module")
def chat_url(tmp_path_factory, real_encoder) -> Iterator[str]:
    """The chat over the repository's corpus, with the real model and a temporary index."""
    from qa import Assistant

    index = tmp_path_factory.mktemp("browser") / "index"
    assistant = Assistant.load(corpus=CORPUS, index=index, encoder=real_encoder, progress=False)
    yield from _serve(assistant)


@pytest.fixture(scope="module")
def xss_url(tmp_path_factory, real_encoder) -> Iterator[str]:
    """The chat over a temporary corpus whose article and metadata carry script and img-onerror markup."""
    from qa import Assistant

    root = tmp_path_factory.mktemp("xss")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "evil.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    (corpus / "metadata.toml").write_text(XSS_METADATA, encoding="utf-8")
    shutil.copy(CORPUS / "003_e354e611adafdd87.txt", corpus)
    assistant = Assistant.load(corpus=corpus, index=root / "index", encoder=real_encoder, progress=False)
    yield from _serve(assistant)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (make browser) to run the browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    yield page
    context.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#qa-question textarea")


def _ask(page, question: str):
    """Type ``question``, send it, and return the locator of the new reply."""
    before = page.locator("#qa-chat .qa-reply").count()
    page.fill("#qa-question textarea", question)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#qa-chat .qa-reply').length > n", arg=before, timeout=TIMEOUT_MS
    )
    return page.locator("#qa-chat .qa-reply").nth(before)


# --------------------------------------------------------------------------- the chat


def test_reply_quotes_cited_passages_with_the_answer_highlighted(page, chat_url):
    _open(page, chat_url)
    reply = _ask(page, FIRST)
    citations = reply.locator("a.qa-cite")
    assert citations.count() == 5
    first = citations.first.inner_text()
    assert re.fullmatch(r"\[1\] [^,]+, (untitled|“.+”), (\d{4}-\d\d-\d\d|undated) — \S+\.txt, chars \d+–\d+.*", first)
    marks = reply.locator("blockquote.qa-passage mark")
    assert marks.count() == 5
    assert any("Medinsky" in t for t in marks.all_inner_texts())
    assert reply.locator(".qa-outlets").inner_text().startswith("Sources from 3 outlets:")
    assert "outlet not stated" in reply.inner_text()
    assert page.dialogs == []


def test_citation_opens_the_whole_article_with_the_passage_highlighted(page, chat_url):
    _open(page, chat_url)
    reply = _ask(page, FIRST)
    hit = reply.locator(".qa-hit").nth(1)
    sentence = hit.locator("mark").inner_text()
    doc_id = hit.locator("a.qa-cite").inner_text().split(" — ")[1].split(",")[0]
    hit.locator("a.qa-cite").click()
    panel = page.locator("#qa-article-panel .qa-article")
    panel.locator("mark").wait_for()
    assert panel.locator("mark").inner_text() == sentence
    assert doc_id in panel.locator(".qa-article-meta").inner_text()
    article_text = (CORPUS / doc_id).read_text(encoding="utf-8")
    shown = panel.locator(".qa-article-text").inner_text()
    assert len(shown) > 0.9 * len(article_text.strip())  # the whole article, not only the passage
    assert sentence in panel.locator(".qa-ctx").inner_text()
    # another citation replaces the view
    reply.locator(".qa-hit").first.locator("a.qa-cite").click()
    page.wait_for_function(
        "s => document.querySelector('#qa-article-panel mark')?.innerText === s",
        arg=reply.locator(".qa-hit").first.locator("mark").inner_text(),
    )
    assert page.url.startswith(chat_url.rstrip("/"))  # no navigation


def test_replies_group_sources_by_outlet_and_say_who_said_it(page, chat_url):
    _open(page, chat_url)
    reply = _ask(page, FIRST)
    groups = reply.locator(".qa-by-outlet li").all_inner_texts()
    assert len(groups) == 3
    ranks = sorted(int(n) for g in groups for n in re.findall(r"\[(\d)\]", g))
    assert ranks == [1, 2, 3, 4, 5]  # every passage listed once, under its outlet
    reply = _ask(page, "what did Lavrov say about a summit?")
    said = reply.locator(".qa-hit").first.locator(".qa-said").inner_text()
    assert said.endswith("said:") and "Lavrov" in said
    assert "Lavrov" in reply.locator(".qa-hit").first.locator("mark").inner_text()


def test_sources_differ_above_the_passages(page, chat_url):
    _open(page, chat_url)
    reply = _ask(page, "how many prisoners were to be exchanged?")
    differ = reply.locator(".qa-differ")
    assert differ.count() == 1 and differ.inner_text().startswith("Sources differ")
    assert "1,000" in differ.inner_text() and "1,200" in differ.inner_text()
    box = differ.bounding_box()
    assert box["y"] < reply.locator(".qa-hit").first.bounding_box()["y"]
    assert _ask(page, "what did Lavrov say about a summit?").locator(".qa-differ").count() == 0


def test_who_said_what_view_lists_a_speakers_quotes_and_opens_them(page, chat_url):
    _open(page, chat_url)
    page.locator("#qa-speakers").get_by_text("Who said what").click()
    page.fill("#qa-speaker input", "Lavrov")
    page.fill("#qa-about textarea, #qa-about input", "a summit with Zelensky")
    page.click("#qa-quotes-button")
    panel = page.locator("#qa-quotes .qa-quotes")
    panel.wait_for()
    assert panel.locator(".qa-status").inner_text() == "2 quotes by Sergey Lavrov"
    quotes = panel.locator(".qa-quote")
    assert quotes.count() == 2
    first = quotes.first.locator("mark").inner_text()
    assert "Lavrov" in first and quotes.first.inner_text().count("Sergey Lavrov said") == 1
    quotes.first.locator("a.qa-cite").click()
    page.wait_for_function("s => document.querySelector('#qa-article-panel mark')?.innerText === s", arg=first)
    page.fill("#qa-speaker input", "Yermak")
    page.fill("#qa-about textarea, #qa-about input", "")
    page.click("#qa-quotes-button")
    page.wait_for_function("() => document.querySelector('#qa-quotes')?.innerText.includes('No quote by Yermak')")
    page.locator("#qa-kinds").get_by_label("document").check()  # a report by him: shown on request
    page.click("#qa-quotes-button")
    page.wait_for_function("() => document.querySelector('#qa-quotes')?.innerText.includes('1 quote by Andriy Yermak')")
    assert "reports, in a document or data" in panel.inner_text()
    page.fill("#qa-speaker input", "Macron")
    page.click("#qa-quotes-button")
    page.wait_for_function("() => document.querySelector('#qa-quotes')?.innerText.includes('No quote by Macron')")
    assert page.dialogs == []


def test_follow_up_uses_the_conversation(page, chat_url):
    _open(page, chat_url)
    _ask(page, FIRST)
    reply = _ask(page, FOLLOW_UP)
    assert MEDINSKY in reply.inner_text()
    assert "Searched as:" in reply.inner_text()


def test_as_of_defaults_to_today_and_reaches_the_time_words(page, chat_url):
    _open(page, chat_url)
    box = page.locator("#qa-as-of textarea, #qa-as-of input")
    assert box.input_value() == "" and box.get_attribute("placeholder").startswith("today")
    question = "what was agreed at the peace talks this week?"
    dates = {}
    for day in ("2025-05-21", "2025-07-24"):
        box.fill(day)
        reply = _ask(page, question)
        dates[day] = reply.locator("a.qa-cite").first.inner_text().split(", ")[2].split(" — ")[0]
    assert dates == {"2025-05-21": "2025-05-20", "2025-07-24": "2025-07-23"}
    box.fill("next week")
    assert "YYYY-MM-DD" in _ask(page, question).inner_text()


def test_unanswerable_question_says_so_first(page, chat_url):
    _open(page, chat_url)
    reply = _ask(page, "what did Macron say at the Istanbul talks in July?")
    assert reply.inner_text().startswith("The corpus does not answer this question.")


def test_controls_reach_retrieval(page, chat_url):
    _open(page, chat_url)
    page.fill("#qa-k input[type=number]", "2")
    page.locator("#qa-k input[type=number]").press("Enter")
    reply = _ask(page, FIRST)
    assert reply.locator(".qa-hit").count() == 2

    page.fill("#qa-date-from textarea, #qa-date-from input", "2025-07-01")
    reply = _ask(page, "talks in Istanbul")
    dates = [t.split(", ")[2].split(" — ")[0] for t in reply.locator("a.qa-cite").all_inner_texts()]
    assert dates and set(dates) == {"2025-07-23"}

    page.fill("#qa-date-from textarea, #qa-date-from input", "2030-01-01")
    reply = _ask(page, "talks in Istanbul")
    assert "No article matches the filter" in reply.inner_text()
    assert reply.locator(".qa-hit").count() == 0

    page.fill("#qa-date-from textarea, #qa-date-from input", "1st of May")
    reply = _ask(page, "talks in Istanbul")
    assert "Error: date_from is '1st of May'; write dates as YYYY-MM-DD" in reply.inner_text()


def test_outlet_filter(page, chat_url):
    _open(page, chat_url)
    page.click("#qa-outlets input")
    page.get_by_role("option", name="The Moscow Times").click()
    page.keyboard.press("Escape")
    reply = _ask(page, FIRST)
    outlets = {t.split(", ")[0][4:] for t in reply.locator("a.qa-cite").all_inner_texts()}
    assert outlets == {"The Moscow Times"}


# --------------------------------------------------------------------------- untrusted content


def _nothing_ran(page) -> None:
    page.wait_for_timeout(300)  # give any injected handler a chance to fire
    assert page.evaluate("() => window.__xss") is None, "injected script ran"
    assert page.dialogs == [], f"dialogs opened: {page.dialogs}"
    assert (
        page.locator("#qa-chat img[src=x], #qa-article-panel img, #qa-chat script, #qa-article-panel script").count()
        == 0
    )


def test_article_markup_is_shown_literally_and_never_runs(page, xss_url):
    _open(page, xss_url)
    reply = _ask(page, "what did the mediator say about the prisoner exchange schedule in Geneva?")
    _nothing_ran(page)
    text = reply.inner_text()
    assert "<script>" in text and "onerror=" in text and "<b>Evil</b> Times" in text
    assert "The **final** list is [here](javascript:window.__xss=5) and $$x^2$$" in text  # no Markdown, no LaTeX
    assert page.locator("#qa-chat a[href^=javascript], #qa-chat .katex").count() == 0

    reply.locator("a.qa-cite").first.click()
    panel = page.locator("#qa-article-panel .qa-article")
    panel.locator("mark").wait_for()
    _nothing_ran(page)
    article = panel.inner_text()
    assert '<script>window.__xss = 1; alert("script ran")</script>' in article
    assert "<img src=x onerror=" in article and "<img src=y onerror=" in article


# --------------------------------------------------------------------------- gradio_client


def test_gradio_client_endpoints(chat_url):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(chat_url, verbose=False)
    reply = client.predict(FIRST, 3, [], "", "", api_name="/answer")
    assert reply.startswith('<div class="qa-reply">') and reply.count('class="qa-hit"') == 3
    follow_up = client.predict(FOLLOW_UP, 5, [], "", "", api_name="/answer")  # the session keeps the conversation
    assert MEDINSKY in follow_up

    answer = client.predict(FOLLOW_UP, history=[FIRST], k=5, api_name="/ask")
    assert answer["query"] != answer["question"]
    assert any(MEDINSKY in h["passage"]["text"] for h in answer["hits"])
    assert {"answerable", "notes", "hits"} <= answer.keys()

    nothing = client.predict("talks", outlets=["Pravda"], api_name="/ask")
    assert nothing["hits"] == [] and "No article matches the filter" in nothing["notes"][0]
    with pytest.raises(AppError, match="YYYY-MM-DD"):
        client.predict("talks", date_from="May 1", api_name="/ask")


@pytest.fixture(scope="module")
def growing(tmp_path_factory, real_encoder):
    """A chat over its own index, and the path of an article another process will add to it."""
    from qa import Assistant

    root = tmp_path_factory.mktemp("growing")
    assistant = Assistant.load(corpus=CORPUS, index=root / "index", encoder=real_encoder, progress=False)
    late = root / "late" / "zorblatt.txt"
    late.parent.mkdir()
    late.write_text(
        "Zorblatt talks\n\nThe Zorblatt envoy said on Friday that the Black Sea grain corridor would reopen "
        "within a week, after a third round of talks in Geneva ended with a signed protocol.\n",
        encoding="utf-8",
    )
    for url in _serve(assistant):
        yield url, root, late


def test_a_running_chat_sees_an_added_article_on_its_next_question(page, growing, real_encoder):
    """An article added by another ``Assistant`` (as ``qa add`` in another process would) is cited by the
    chat's next question, with no restart."""
    from qa import Assistant

    url, root, late = growing
    _open(page, url)
    question = "what did the Zorblatt envoy say about the grain corridor?"
    assert "zorblatt.txt" not in _ask(page, question).inner_text()
    other = Assistant.load(corpus=CORPUS, index=root / "index", encoder=real_encoder, progress=False, refresh=False)
    other.add([late])
    reply = _ask(page, question)
    assert "zorblatt.txt" in reply.locator("a.qa-cite").first.inner_text()
    assert "grain corridor would reopen" in reply.locator("blockquote.qa-passage mark").first.inner_text()
    other.remove([str(late.resolve())])
    assert "zorblatt.txt" not in _ask(page, question).inner_text()


def test_an_article_from_a_feed_shows_its_source_and_fetch_date(page, growing, real_encoder):
    """A feed added by another process while the chat runs: its article is cited with the source's name and
    the day it was fetched, and opens from the text the index keeps (it has no file)."""
    from qa import Assistant

    from .web_server import Site, article_html, rss

    url, root, _ = growing
    with Site() as site:
        site.put(
            "/news/quorvex",
            article_html(
                "Quorvex harbour reopens",
                [
                    "The Quorvex harbour master said on Monday that the harbour would reopen to grain ships "
                    "within ten days, once the channel is cleared of debris.",
                    "Port officials added that insurers had agreed to cover the first convoys.",
                ],
            ),
        )
        site.put("/feed.xml", rss("Harbour news", site.base, [{"title": "Quorvex", "link": site.url("/news/quorvex")}]))
        other = Assistant.load(corpus=CORPUS, index=root / "index", encoder=real_encoder, progress=False, refresh=False)
        other.add([site.url("/feed.xml")], allow_private=True, name="harbour feed", fetch={"delay": 0})
    _open(page, url)
    reply = _ask(page, "when will the Quorvex harbour reopen?")
    hit = reply.locator(".qa-hit").first
    assert "quorvex" in hit.locator("a.qa-cite").inner_text()
    day = other.sources()[0].synced[:10]
    assert hit.locator(".qa-origin").inner_text() == f"· from harbour feed, fetched {day}"
    hit.locator("a.qa-cite").click()
    panel = page.locator("#qa-article-panel .qa-article")
    panel.locator("mark").wait_for()
    assert panel.locator(".qa-article-origin").inner_text() == f"from harbour feed, fetched {day}"
    assert "insurers had agreed" in panel.locator(".qa-article-text").inner_text()
    assert page.dialogs == []


# --------------------------------------------------------------------------- keys in force


@pytest.fixture(scope="module")
def keyed_url(tmp_path_factory, real_encoder) -> Iterator[tuple[str, str]]:
    """The chat with an API key in force: (URL, key)."""
    from qa import Assistant
    from qa.apps.keys import KeyRing, add_key
    from qa.apps.server import build_server, start

    root = tmp_path_factory.mktemp("keyed")
    key, _ = add_key(root / "keys.json", "newsroom")
    assistant = Assistant.load(corpus=CORPUS, index=root / "index", encoder=real_encoder, progress=False)
    server = build_server(assistant, keys=KeyRing(root / "keys.json"))
    running = start(server, host="127.0.0.1", port=_free_port(), block=False, quiet=True)
    try:
        yield running.url, key
    finally:
        running.stop()


def test_with_a_key_in_force_the_chat_asks_for_a_login_first(page, keyed_url):
    url, key = keyed_url
    page.goto(url)
    page.wait_for_selector("input[type=password]")
    assert page.locator("#qa-question textarea").count() == 0  # nothing of the chat before the login
    page.locator("input[type=text]").first.fill("newsroom")
    page.locator("input[type=password]").fill("qa_not_the_key")
    page.get_by_role("button", name=re.compile("login", re.I)).click()
    page.wait_for_timeout(1500)
    assert page.locator("#qa-question textarea").count() == 0  # a wrong key stays at the login
    page.locator("input[type=text]").first.fill("newsroom")
    page.locator("input[type=password]").fill(key)
    page.get_by_role("button", name=re.compile("login", re.I)).click()
    page.wait_for_selector("#qa-question textarea")
    reply = _ask(page, FIRST)
    assert reply.locator("a.qa-cite").count() == 5
