"""Sources: feeds, sitemaps, URL lists, WARC files and exports, fetched from a real HTTP server on 127.0.0.1.

Every web test runs against :class:`tests.web_server.Site`, a real server the test starts; WARC files are written by
warcio, exports by the tests. The encoder is the fake one (counting what it encodes), so that "nothing re-encoded"
is measured, not assumed.
"""

from __future__ import annotations

import gzip
import io
import json
import time
import warnings
from pathlib import Path

import pytest

from qa import Assistant
from qa.collect import Fetcher, canonical_url
from qa.errors import CorpusError, FetchError, SourceError, SourceNotFoundError
from qa.ingest.documents import CorpusFolder

from .conftest import FakeEncoder
from .web_server import Site, article_html, atom, rss, sitemap, sitemap_index

FAST = {"delay": 0.05, "timeout": 2.0, "retries": 2, "backoff": 0.05}


def _paragraphs(topic: str, n: int = 5) -> list[str]:
    return [
        f"In the {topic} story, paragraph {j} says the delegation met on Tuesday and agreed to talk again "
        f"about {topic} before the end of the month, officials said."
        for j in range(n)
    ]


def _assistant(tmp_path: Path, encoder=None) -> Assistant:
    return Assistant.load(
        corpus=CorpusFolder(tmp_path / "corpus", optional=True),
        index=tmp_path / "index",
        encoder=encoder or FakeEncoder(),
        progress=False,
    )


def _add(assistant: Assistant, *paths, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = assistant.add(list(paths), allow_private=True, fetch=FAST, **options)
    return done, [str(w.message) for w in caught]


def _sync(assistant: Assistant, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reports = assistant.sync(allow_private=True, fetch=FAST, **options)
    return reports, [str(w.message) for w in caught]


@pytest.fixture
def site():
    with Site(etags=False) as s:
        yield s


def _news_site(site: Site, topics: list[str]) -> list[dict]:
    items = []
    for k, topic in enumerate(topics):
        site.put(f"/news/{topic}", article_html(f"The {topic} talks", _paragraphs(topic), date=f"2024-03-{k + 1:02d}"))
        items.append(
            {
                "title": f"The {topic} talks",
                "link": site.url(f"/news/{topic}?utm_source=rss&utm_medium=feed"),
                "pubDate": f"Tue, {k + 1:02d} Mar 2024 10:00:00 GMT",
                "author": "Ann Writer",
            }
        )
    return items


# --------------------------------------------------------------------------- URLs


def test_canonical_urls_join_tracking_amp_and_www_variants():
    base = canonical_url("https://example.com/world/summit-ends")
    assert canonical_url("https://www.Example.com/world/summit-ends/?utm_source=x&fbclid=abc#top") == base
    assert canonical_url("https://example.com/amp/world/summit-ends") == base
    assert canonical_url("https://example.com/world/summit-ends/amp/") == base
    assert canonical_url("https://example.com/world/summit-ends?outputType=amp") == base
    assert canonical_url("https://example.com/world/summit-ends.amp.html") == canonical_url(
        "https://example.com/world/summit-ends.html"
    )
    assert canonical_url("https://example.com/world/summit-ends?id=2") != base  # a real parameter stays
    assert canonical_url("https://example.com/world/other") != base


# --------------------------------------------------------------------------- fetching


def test_fetcher_is_polite_and_safe(site):
    site.put("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.put("/a", article_html("A", _paragraphs("a")))
    site.put("/private/b", article_html("B", _paragraphs("b")))
    site.put_sequence("/flaky", [(500, "oops", "text/plain"), (200, article_html("F", _paragraphs("f")), "text/html")])
    site.redirect("/old", "/a")
    site.slow("/slow", article_html("S", _paragraphs("s")), delay=5)
    site.big("/huge", 20_000_000)
    site.big_unannounced("/huge-unannounced", 20_000_000)
    with Fetcher(allow_private=True, delay=0.2, timeout=1.0, retries=2, backoff=0.05, max_bytes=5_000_000) as fetcher:
        assert fetcher.get(site.url("/a")).status == 200
        assert fetcher.get(site.url("/a")).status == 200
        with pytest.raises(FetchError, match=r"robots\.txt"):
            fetcher.get(site.url("/private/b"))
        assert site.hits["/private/b"] == 0  # never asked for
        assert fetcher.get(site.url("/flaky")).status == 200  # a 500, then a 200 on the retry
        assert site.hits["/flaky"] == 2
        page = fetcher.get(site.url("/old"))
        assert page.url == site.url("/a") and page.requested == site.url("/old")
        started = time.monotonic()
        with pytest.raises(FetchError, match="in time"):
            fetcher.get(site.url("/slow"))
        assert time.monotonic() - started < 10
        with pytest.raises(FetchError, match="cap"):
            fetcher.get(site.url("/huge"))
        with pytest.raises(FetchError, match="cap"):
            fetcher.get(site.url("/huge-unannounced"))
        with pytest.raises(FetchError, match="404"):
            fetcher.get(site.url("/nowhere"))
        with pytest.raises(FetchError, match="only http"):
            fetcher.get("ftp://127.0.0.1/file")
    agents = {headers.get("user-agent", "") for _, _, headers in site.requests}
    assert agents and all(a.startswith("newsqa/") for a in agents)
    times = [t for t, path, _ in site.requests if path == "/a"]
    assert times[1] - times[0] >= 0.18  # one request at a time per host, with the delay between
    with Fetcher(delay=0) as careful, pytest.raises(FetchError, match=r"private or local address.*--allow-private"):
        careful.get(site.url("/a"))


def test_pages_in_another_encoding_are_decoded(site):
    text = "Der Außenminister sagte, die Gespräche über Getreide würden in Genf fortgesetzt, berichtete die Zeitung."
    page = article_html("Gespräche", [text] * 3, charset="windows-1252")
    site.put("/declared", page.encode("windows-1252"), content_type="text/html; charset=windows-1252")
    site.put("/in-page", page.encode("windows-1252"), content_type="text/html")
    with Fetcher(allow_private=True, delay=0) as fetcher:
        for path in ("/declared", "/in-page"):
            decoded, note = fetcher.get(site.url(path)).text()
            assert text in decoded and note is None


# --------------------------------------------------------------------------- feeds


def test_feed_end_to_end_with_every_fault(site, tmp_path):
    topics = ["grain", "ceasefire", "prisoners"]
    items = _news_site(site, topics)
    site.put("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.put("/private/secret", article_html("Secret", _paragraphs("secret")))
    site.put_sequence(
        "/news/flaky", [(500, "down", "text/plain"), (200, article_html("Flaky", _paragraphs("flaky")), "text/html")]
    )
    site.redirect("/news/moved", "/news/relocated")
    site.put("/news/relocated", article_html("Relocated", _paragraphs("relocated")))
    site.big("/news/huge", 20_000_000)
    site.put("/files/report.pdf", b"%PDF-1.4 not a page", content_type="application/pdf")
    site.slow("/news/slow", article_html("Slow", _paragraphs("slow")), delay=6)
    for path in ("/private/secret", "/news/flaky", "/news/moved", "/news/huge", "/files/report.pdf", "/news/slow"):
        items.append({"title": path, "link": site.url(path), "pubDate": "Wed, 06 Mar 2024 10:00:00 GMT"})
    items.append({"title": "missing", "link": site.url("/news/missing")})
    items.append({"title": "the feed itself", "link": site.url("/feed.xml")})
    items.append({"title": "grain again, AMP", "link": site.url("/amp/news/grain")})
    site.put("/feed.xml", rss("Example feed", site.base, items), content_type="application/rss+xml")

    encoder = FakeEncoder()
    assistant = _assistant(tmp_path, encoder)
    done, said = _add(assistant, site.url("/feed.xml"))
    indexed = set(assistant.store.document_ids())
    expected = {canonical_url(site.url(f"/news/{t}")) for t in [*topics, "flaky", "relocated"]}
    assert indexed == expected, said
    assert sorted(done.added) == sorted(expected)
    assert site.hits["/private/secret"] == 0
    assert site.hits["/news/grain"] == 1  # the AMP link is the same article: fetched once
    assert site.hits["/feed.xml"] == 1  # fetched to tell its kind, and read from that one answer
    for needle in ("robots.txt", "/news/huge", "report.pdf", "/news/slow", "/news/missing", "points at the feed"):
        assert any(needle in message for message in said), (needle, said)

    # citations and the article view need no file
    answer = assistant.ask("when will they talk again about the ceasefire?")
    hit = answer.hits[0]
    assert hit.passage.doc_id == canonical_url(site.url("/news/ceasefire"))
    assert (hit.passage.outlet, hit.passage.title, hit.passage.date) == (
        "Example News",
        "The ceasefire talks",
        "2024-03-02",
    )
    article = assistant.article(hit.passage.doc_id)
    assert article.text[hit.passage.char_start : hit.passage.char_end] == hit.passage.text
    origin = assistant.provenance(hit.passage.doc_id)
    assert origin.source == assistant.sources()[0].name and origin.fetched.startswith("20") and origin.author

    (record,) = assistant.sources()
    assert record.kind == "feed" and record.articles == 5 and record.allow_private
    assert any("/news/missing" in e for e in record.errors)

    # an unchanged feed: no page fetched, nothing encoded
    encoded, page_hits = encoder.encoded, sum(n for p, n in site.hits.items() if p.startswith("/news/"))
    (report,), _ = _sync(assistant)
    assert encoder.encoded == encoded
    assert report.unchanged == 5 and not report.ingest.added and not report.ingest.updated
    failed_paths = {"/news/huge", "/news/missing", "/news/slow"}  # tried again: they failed last time
    fetched_again = sum(n for p, n in site.hits.items() if p.startswith("/news/")) - page_hits
    assert fetched_again <= sum(1 for p in failed_paths) * 3

    # a changed entry replaces the old version; only it is encoded
    site.put("/news/grain", article_html("The grain talks", [*_paragraphs("grain", 3), "A new paragraph on grain."]))
    items[0]["pubDate"] = "Sat, 09 Mar 2024 10:00:00 GMT"
    site.put("/feed.xml", rss("Example feed", site.base, items), content_type="application/rss+xml")
    before = encoder.encoded
    (report,), _ = _sync(assistant)
    grain_id = canonical_url(site.url("/news/grain"))
    assert report.ingest.updated == [grain_id]
    assert encoder.encoded > before and report.ingest.encoded == assistant.store.document(grain_id).count
    assert len(assistant.store.document_ids()) == 5
    grain = assistant.article(canonical_url(site.url("/news/grain")))
    assert "A new paragraph on grain." in grain.text


def test_feed_with_etag_is_not_read_again_and_atom_feeds_work(tmp_path):
    with Site(etags=True) as site:
        site.put("/a", article_html("A", _paragraphs("alpha")))
        site.put(
            "/atom.xml",
            atom(
                "Atom news",
                site.base,
                [{"title": "A", "link": site.url("/a"), "id": "a", "updated": "2024-01-02T00:00:00Z"}],
            ),
            content_type="application/atom+xml",
        )
        assistant = _assistant(tmp_path)
        done, _ = _add(assistant, site.url("/atom.xml"))
        assert len(done.added) == 1
        (report,), _ = _sync(assistant)
        assert report.not_modified
        assert [h for _, p, h in site.requests if p == "/atom.xml"][-1].get("if-none-match")


def test_private_addresses_are_refused_unless_allowed(site, tmp_path):
    site.put("/feed.xml", rss("F", site.base, []), content_type="application/rss+xml")
    assistant = _assistant(tmp_path)
    with pytest.raises(FetchError, match="--allow-private"):
        assistant.add([site.url("/feed.xml")], fetch=FAST)
    assert assistant.sources() == []


def test_malformed_feed_is_a_clear_error_and_loses_nothing(site, tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"text": "\n".join(_paragraphs("kept")), "title": "Kept"}) + "\n")
    assistant = _assistant(tmp_path)
    _add(assistant, good)
    site.put("/news/a", article_html("A", _paragraphs("alpha")))
    broken = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A</title>'
        f"<link>{site.url('/news/a')}</link></item><item><title>B & C</title><link>{site.url('/news/b')}</link></item>"
        "</channel>"
    )
    site.put("/broken.xml", broken, content_type="application/rss+xml")
    done, said = _add(assistant, site.url("/broken.xml"))
    assert done.added == [canonical_url(site.url("/news/a"))]
    assert any("broken.xml: the feed is malformed" in m for m in said)
    site.put("/garbage.xml", b"\x00\x01 not xml at all", content_type="application/rss+xml")
    with pytest.raises(SourceError, match=r"garbage\.xml"):
        _add(assistant, site.url("/garbage.xml"), kind="feed")
    assert len(assistant.store.document_ids()) == 2
    assert len(assistant.sources()) == 2  # the jsonl file and the broken feed; not the garbage


# --------------------------------------------------------------------------- sitemaps and URL lists


def test_news_sitemap_and_a_sitemap_index_pointing_at_itself(site, tmp_path):
    for topic in ("summit", "harvest"):
        site.put(f"/news/{topic}", article_html(f"{topic} day", _paragraphs(topic)))
    site.put(
        "/news-sitemap.xml",
        sitemap([(site.url("/news/summit"), "2024-05-01"), (site.url("/news/harvest"), "2024-05-02")], news=True),
        content_type="application/xml",
    )
    site.put(
        "/sitemap.xml",
        sitemap_index([site.url("/news-sitemap.xml"), site.url("/sitemap.xml")]),
        content_type="application/xml",
    )
    assistant = _assistant(tmp_path)
    done, said = _add(assistant, site.url("/sitemap.xml"))
    assert len(done.added) == 2
    assert any("listed already" in m for m in said)
    stored = assistant.store.document(canonical_url(site.url("/news/summit")))
    assert stored.meta.date == "2024-05-01" and stored.meta.outlet == "Example News"
    assert assistant.sources()[0].kind == "sitemap"


def test_url_list_file_with_bad_lines(site, tmp_path):
    site.put("/one", article_html("One", _paragraphs("one")))
    site.put("/two", article_html("Two", _paragraphs("two")))
    urls = tmp_path / "urls.txt"
    urls.write_text(
        f"# my list\n{site.url('/one')}\nnot a url\n\n{site.url('/two')}?utm_campaign=x\n{site.url('/one')}\n"
    )
    assistant = _assistant(tmp_path)
    done, said = _add(assistant, urls)
    assert len(done.added) == 2
    assert any("urls.txt line 3" in m and "not an http(s) URL" in m for m in said)
    assert assistant.sources()[0].kind == "urls"


def test_a_page_in_an_undeclared_encoding_is_read_and_named(site, tmp_path):
    text = "Le ministre a déclaré à Genève que les négociations reprendraient lundi, selon l'agence de presse."
    page = article_html("Genève", [text] * 3).replace('<meta charset="utf-8">', "")
    assert "charset" not in page
    site.put("/fr", page.encode("windows-1252"), content_type="text/html")
    urls = tmp_path / "urls.txt"
    urls.write_text(site.url("/fr") + "\n")
    assistant = _assistant(tmp_path)
    done, said = _add(assistant, urls)
    assert "négociations" in assistant.article(done.added[0]).text
    assert any(site.url("/fr") in m and "declares no encoding" in m for m in said)
    assert assistant.sources()[0].kind == "urls"


# --------------------------------------------------------------------------- WARC


def _warc(path: Path, pages: list[tuple[str, bytes, str]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=path.suffix == ".gz")
        for url, body, kind in pages:
            headers = StatusAndHeaders("200 OK", [("Content-Type", kind)], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": "2023-07-08T09:10:11Z"},
            )
            writer.write_record(record)


def test_warc_files_whole_and_truncated(tmp_path):
    pages = [
        (
            f"https://www.example.org/news/{t}",
            article_html(t, _paragraphs(t), date="").encode(),
            "text/html; charset=utf-8",
        )
        for t in ("alpha", "beta", "gamma")
    ]
    pages.insert(1, ("https://www.example.org/logo.png", b"\x89PNG...", "image/png"))
    whole = tmp_path / "crawl.warc.gz"
    _warc(whole, pages)
    assistant = _assistant(tmp_path)
    done, _ = _add(assistant, whole)
    assert sorted(done.added) == [canonical_url(u) for u in sorted(u for u, _, k in pages if k.startswith("text/html"))]
    stored = assistant.store.document(canonical_url("https://example.org/news/alpha"))
    assert stored.meta.outlet == "Example News" and stored.meta.url == "https://www.example.org/news/alpha"

    cut = tmp_path / "cut.warc"
    _warc(cut, pages)
    raw = cut.read_bytes()
    cut.write_bytes(raw[: int(len(raw) * 0.8)])
    other = _assistant(tmp_path / "second")
    done, said = _add(other, cut)
    assert 1 <= len(done.added) < 3
    assert any("cut.warc" in m and "cut short" in m for m in said)


# --------------------------------------------------------------------------- exports


def test_jsonl_export_gzipped_with_bad_lines(tmp_path):
    rows = [
        json.dumps({"title": "A", "text": "\n".join(_paragraphs("a")), "date": "2024-02-03", "outlet": "Wire"}),
        "{not json",
        json.dumps({"title": "No text"}),
        json.dumps({"title": "B", "text": "\n".join(_paragraphs("b")), "date": "the day after", "id": "b-1"}),
        json.dumps(["a", "list"]),
        json.dumps({"title": "C", "text": "\n".join(_paragraphs("c")), "url": "https://news.example/c?utm_source=x"}),
    ]
    export = tmp_path / "export.jsonl.gz"
    export.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    assistant = _assistant(tmp_path)
    done, said = _add(assistant, export)
    assert sorted(done.added) == ["export.jsonl.gz/b-1", "export.jsonl.gz/line-1", "https://news.example/c"]
    for needle in (
        "line 2 is not JSON",
        "line 3 has no text",
        "line 4: the date 'the day after'",
        "line 5 is not a JSON object",
    ):
        assert any(needle in m for m in said), (needle, said)
    a = assistant.store.document("export.jsonl.gz/line-1")
    assert (a.meta.title, a.meta.date, a.meta.outlet) == ("A", "2024-02-03", "Wire")
    assert assistant.store.document("https://news.example/c").meta.outlet == "news.example"
    assert assistant.store.document("export.jsonl.gz/b-1").meta.date == ""

    # the same file again: nothing read; a changed row: only it is encoded
    (report,), _ = _sync(assistant)
    assert report.not_modified
    rows[0] = json.dumps({"title": "A", "text": "\n".join(_paragraphs("a", 2)), "date": "2024-02-03", "outlet": "Wire"})
    export.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    (report,), _ = _sync(assistant)
    assert report.ingest.updated == ["export.jsonl.gz/line-1"] and not report.ingest.added


def test_csv_exports(tmp_path):
    latin = tmp_path / "latin.csv"
    text = "Le ministre a déclaré que les négociations reprendraient à Genève la semaine prochaine, selon l'agence."
    latin.write_bytes(f'title,date,outlet,text\nGenève,05/06/2024,Le Temps,"{text}\n{text}"\n'.encode("latin-1"))
    assistant = _assistant(tmp_path)
    done, said = _add(assistant, latin)
    assert len(done.added) == 1
    (doc_id,) = done.added
    assert "négociations" in assistant.article(doc_id).text
    assert any("latin.csv" in m and "not UTF-8" in m for m in said)

    missing = tmp_path / "no-text.csv"
    missing.write_text("title,body\nA,some body\n")
    with pytest.raises(SourceError, match=r"no .text. column.*title, body"):
        _add(assistant, missing)
    assert assistant.store.document_ids() == [doc_id]  # nothing lost
    assert [s.name for s in assistant.sources()] == ["latin.csv"]


# --------------------------------------------------------------------------- duplicates


def test_one_article_across_feeds_warc_and_exports(site, tmp_path):
    site.put("/news/summit", article_html("Summit", _paragraphs("summit")))
    site.put("/news/copy", article_html("Summit copy", _paragraphs("summit")))  # same text, another URL
    feed_a = [{"title": "Summit", "link": site.url("/news/summit?utm_source=a")}]
    feed_b = [
        {"title": "Summit", "link": site.url("/news/summit/?fbclid=b")},
        {"title": "Copy", "link": site.url("/news/copy")},
    ]
    site.put("/a.xml", rss("A", site.base, feed_a), content_type="application/rss+xml")
    site.put("/b.xml", rss("B", site.base, feed_b), content_type="application/rss+xml")
    assistant = _assistant(tmp_path)
    _add(assistant, site.url("/a.xml"))
    done, said = _add(assistant, site.url("/b.xml"))
    assert done.added == []
    assert any("same text as" in m for m in said)
    warc = tmp_path / "crawl.warc"
    _warc(warc, [(site.url("/amp/news/summit"), article_html("Summit", _paragraphs("summit")).encode(), "text/html")])
    done, _ = _add(assistant, warc)
    assert done.added == [] and assistant.store.document_ids() == [canonical_url(site.url("/news/summit"))]
    assert site.hits["/news/summit"] == 1
    counts = {s.name: s.articles for s in assistant.sources()}
    assert sorted(counts.values()) == [1, 1, 1]

    # removing a source with its articles keeps those another source holds
    name_a = next(s.name for s in assistant.sources() if s.location.endswith("/a.xml"))
    assert assistant.remove_source(name_a, articles=True).removed == []
    assert len(assistant.store.document_ids()) == 1
    for s in assistant.sources():
        assistant.remove_source(s.name, articles=True)
    assert assistant.store.document_ids() == []
    with pytest.raises(SourceNotFoundError, match="no source named"):
        assistant.remove_source("nope")


# --------------------------------------------------------------------------- the corpus folder and crashes


def test_source_articles_survive_a_folder_refresh_and_need_no_folder(tmp_path, corpus_copy):
    export = tmp_path / "pool.jsonl"
    export.write_text(json.dumps({"text": " ".join(_paragraphs("pool", 4)), "title": "Pool"}) + "\n")
    encoder = FakeEncoder()
    assistant = Assistant.load(corpus=corpus_copy, index=tmp_path / "index", encoder=encoder, progress=False)
    files = len(assistant.store.document_ids())
    _add(assistant, export)
    again = Assistant.load(corpus=corpus_copy, index=tmp_path / "index", encoder=encoder, progress=False)
    assert len(again.store.document_ids()) == files + 1
    # an index of sources alone opens with no corpus folder at all
    only = tmp_path / "only"
    _add(_assistant(only), export)
    reopened = Assistant.load(corpus=only / "absent", index=only / "index", encoder=encoder, progress=False)
    assert reopened.store.document_ids() == ["pool.jsonl/line-1"]
    # new text rules re-cut an article from a source from the text the index keeps
    from qa.ingest.passages import Chunking

    before = reopened.store.document("pool.jsonl/line-1").count
    recut = Assistant.load(
        corpus=only / "absent", index=only / "index", encoder=encoder, progress=False, chunking=Chunking(20, 40)
    )
    assert recut.store.document("pool.jsonl/line-1").count > before == 1
    # but a folder whose articles are indexed may not vanish silently
    with pytest.raises(CorpusError, match="nothing was removed"):
        Assistant.load(corpus=tmp_path / "gone", index=tmp_path / "index", encoder=encoder, progress=False)
    assert len(again.store.document_ids()) == files + 1


class _Dying(FakeEncoder):
    """Dies on its n-th call, as a killed process would."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.left = calls

    def encode(self, texts, **kw):
        self.left -= 1
        if self.left < 0:
            raise KeyboardInterrupt
        return super().encode(texts, **kw)


def test_a_killed_sync_resumes_and_loses_only_the_batch_in_flight(tmp_path):
    rows = [
        json.dumps({"id": f"n{k}", "title": f"N{k}", "text": "\n".join(_paragraphs(f"topic{k}", 12))})
        for k in range(200)
    ]
    export = tmp_path / "big.jsonl"
    export.write_text("\n".join(rows) + "\n")
    first = _assistant(tmp_path, _Dying(3))
    with pytest.raises(KeyboardInterrupt):
        _add(first, export)
    kept = set(first.store.document_ids())
    assert 0 < len(kept) < 200
    first.store.close()
    encoder = FakeEncoder()
    again = _assistant(tmp_path, encoder)
    (report,), _ = _sync(again)
    assert len(again.store.document_ids()) == 200
    assert not set(report.ingest.added) & kept  # what was committed is not taken in twice
    assert report.unchanged == len(kept)


# --------------------------------------------------------------------------- the chat and the command line


def test_the_chat_shows_each_articles_source_and_fetch_date(site, tmp_path):
    from qa.apps.webchat import open_article, respond

    site.put("/news/harvest", article_html("Harvest", _paragraphs("harvest")))
    site.put("/feed.xml", rss("F", site.base, [{"title": "Harvest", "link": site.url("/news/harvest")}]))
    assistant = _assistant(tmp_path)
    _add(assistant, site.url("/feed.xml"), name="farm news")
    reply = respond("when will they talk about the harvest?", [], assistant=assistant)
    day = assistant.sources()[0].synced[:10]
    assert 'class="qa-origin"' in reply and "from <strong>farm news</strong>, fetched" in reply and day in reply
    ref = next(part.split('"')[0] for part in reply.split('href="')[1:] if "harvest" in part)
    from html import unescape

    view = open_article(assistant, unescape(ref).removeprefix("#qa-article="))
    assert 'class="qa-article-origin"' in view and "farm news" in view


def test_sync_interval_is_read_and_bounded():
    from qa.apps.cli import parse_interval

    assert parse_interval("30m") == 1800 and parse_interval("2h") == 7200 and parse_interval("90s") == 90
    assert parse_interval("15") == 900  # a bare number is minutes
    with pytest.raises(SourceError, match="under a minute"):
        parse_interval("10s")
    with pytest.raises(SourceError, match="not an interval"):
        parse_interval("soon")


@pytest.mark.model
def test_command_line_sources_with_no_corpus_folder(tmp_path):
    from .test_cli import _qa

    export = tmp_path / "wire.csv"
    text = " ".join(_paragraphs("wheat", 3))
    export.write_text(f'title,date,outlet,url,text\nWheat deal,2024-04-02,Wire,https://wire.example/wheat,"{text}"\n')
    index = tmp_path / "index"
    common = ["--corpus", str(tmp_path / "no-such-folder"), "--index", str(index)]
    added = _qa("add", str(export), *common)
    assert added.returncode == 0, added.stderr
    assert "wire.csv: 1 listed, 1 added" in added.stdout
    listed = _qa("sources", *common)
    assert listed.returncode == 0 and "wire.csv\tcsv\t1 articles\tlast sync 20" in listed.stdout
    asked = _qa("ask", "what about wheat?", "--json", *common)
    assert asked.returncode == 0, asked.stderr
    hit = json.loads(asked.stdout)["hits"][0]
    assert hit["passage"]["doc_id"] == "https://wire.example/wheat" and hit["passage"]["outlet"] == "Wire"
    again = _qa("sync", *common)
    assert again.returncode == 0 and "wire.csv: unchanged since the last sync" in again.stdout
    refused = _qa("add", "http://127.0.0.1:9/feed.xml", *common)
    assert refused.returncode == 2 and "--allow-private" in refused.stderr and "Traceback" not in refused.stderr
    removed = _qa("sources", "remove", "wire.csv", "--articles", *common)
    assert removed.returncode == 0 and "1 removed" in removed.stdout
    assert _qa("sources", *common).stdout.startswith("no source is recorded")


_SLOW_INGEST = """
import sys, time
sys.path.insert(0, {root!r})
from tests.conftest import FakeEncoder
from qa import Assistant
from qa.ingest.documents import CorpusFolder

class Slow(FakeEncoder):
    def encode(self, texts, **kw):
        time.sleep(0.3)
        return super().encode(texts, **kw)

a = Assistant.load(corpus=CorpusFolder({folder!r}, optional=True), index={index!r}, encoder=Slow(), progress=False)
a.add([{export!r}])
"""


def test_a_sync_killed_with_sigkill_resumes(tmp_path):
    import sqlite3
    import subprocess
    import sys

    from .conftest import ROOT

    rows = [json.dumps({"id": f"k{k}", "text": "\n".join(_paragraphs(f"subject{k}", 12))}) for k in range(200)]
    export = tmp_path / "big.jsonl"
    export.write_text("\n".join(rows) + "\n")
    index = tmp_path / "index"
    script = _SLOW_INGEST.format(root=str(ROOT), folder=str(tmp_path / "nc"), index=str(index), export=str(export))
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 120
        committed = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with sqlite3.connect(index / "index.sqlite", timeout=1) as conn:
                    committed = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            except sqlite3.Error:
                committed = 0
            if committed:
                break
            time.sleep(0.05)
        assert committed and proc.poll() is None, "no commit was seen before the ingest ended"
        proc.kill()  # SIGKILL: no cleanup runs
    finally:
        proc.wait(timeout=30)
    encoder = FakeEncoder()
    again = _assistant(tmp_path, encoder)
    kept = set(again.store.document_ids())
    assert 0 < len(kept) < 200
    (report,), _ = _sync(again)
    assert len(again.store.document_ids()) == 200
    assert not set(report.ingest.added) & kept and report.unchanged == len(kept)
    assert report.ingest.encoded == sum(again.store.document(d).count for d in report.ingest.added)


@pytest.mark.model
def test_sync_every_runs_until_stopped(tmp_path):
    import signal
    import subprocess
    import sys

    from .conftest import ROOT

    export = tmp_path / "wire.jsonl"
    export.write_text(json.dumps({"text": "\n".join(_paragraphs("oats", 3)), "title": "Oats"}) + "\n")
    common = ["--corpus", str(tmp_path / "none"), "--index", str(tmp_path / "index")]
    run = [sys.executable, "-m", "qa.apps.cli"]
    assert subprocess.run([*run, "add", str(export), *common], cwd=ROOT, capture_output=True).returncode == 0
    proc = subprocess.Popen(
        [*run, "sync", "--every", "1m", *common], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = ""
        deadline = time.monotonic() + 120
        while "next sync in" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "qa sync --every ended by itself"
        assert "next sync in 1 min" in line
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "wire.jsonl: unchanged since the last sync" in out


def test_the_rest_api_gives_an_articles_origin(tmp_path):
    from urllib.parse import quote

    from qa.apps.keys import KeyRing
    from qa.apps.server import build_server, start

    from .test_api import call

    export = tmp_path / "wire.jsonl"
    export.write_text(json.dumps({"text": "\n".join(_paragraphs("rye", 3)), "author": "Al Reporter"}) + "\n")
    assistant = _assistant(tmp_path)
    _add(assistant, export)
    running = start(build_server(assistant, keys=KeyRing(tmp_path / "none.json")), port=0, block=False, quiet=True)
    try:
        status, body = call(running.url, "/v1/articles/" + quote("wire.jsonl/line-1"))
        assert status == 200 and "rye story" in body["text"]
        assert body["origin"]["source"] == "wire.jsonl" and body["origin"]["author"] == "Al Reporter"
        assert body["origin"]["fetched"].startswith("20") and "text" not in body["origin"]
    finally:
        running.stop()
