"""Sources: ingesting an export at the folder ingest's rate, and re-syncing an unchanged feed.

1. ``pool``: ``../shared/news-archive/pool.jsonl.gz`` (6,000 articles) added as a JSONL export with
   the real model (``Assistant.add``, as ``qa add pool.jsonl.gz`` does, with its progress bar in
   articles) into a new index with no corpus folder; its build rate against a bare
   ``model.encode`` (batch 64) of a random sample of the same passages. Target: ≥ 0.8 ×.
2. ``feed``: a real HTTP server on 127.0.0.1 (``tests/web_server.py``) serves a feed of 100 article
   pages made from the pool's first 100 articles. The feed is added once, then synced again
   unchanged: without ETags (the feed is fetched and parsed again, no page is fetched), with
   ETags (a 304), and with ``refetch`` (every page fetched again, nothing re-encoded). Target: no
   article re-encoded, under 5 s beyond the fetches.

3. ``--compare N``: the pool's first N articles ingested as a corpus folder (the text in ``.txt``
   files, the rest in ``metadata.toml``) and as an export, and a bare encode of all their
   passages: the export path against the folder ingest on the same passages.

4. ``--bare-all``: every passage of the pool, cut as the ingest cuts it, encoded bare (batch 64):
   the pool's build rate without a sample in the denominator.

    python bench/bench_sources.py [--limit N] [--sample N] [--skip-pool] [--skip-feed] [--compare N] [--bare-all]

Writes ``bench/out/sources.json`` and prints the rows for ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings import load_encoder  # noqa: E402
from qa import Assistant  # noqa: E402
from qa.ingest.documents import CorpusFolder  # noqa: E402

POOL = ROOT.parent / "shared" / "news-archive" / "pool.jsonl.gz"
OUT = ROOT / "bench" / "out"


def _assistant(folder: Path, encoder) -> Assistant:
    return Assistant.load(
        corpus=CorpusFolder(folder / "no-corpus", optional=True), index=folder / "index", encoder=encoder
    )


def pool(args, encoder) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="pool-"))
    source = POOL
    if args.limit:
        source = folder / f"pool-{args.limit}.jsonl.gz"
        with gzip.open(POOL, "rt", encoding="utf-8") as fh:
            lines = [next(fh) for _ in range(args.limit)]
        source.write_bytes(gzip.compress("".join(lines).encode()))
    assistant = _assistant(folder, encoder)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        done = assistant.add([source], progress=True)
    build = time.perf_counter() - started
    store = assistant.store
    passages = store.passage_count
    ids = list(range(int(store.db.get("next_passage"))))
    rng = random.Random(0)
    sample = sorted(rng.sample(ids, min(args.sample, len(ids)))) if args.sample else ids
    texts = [p.text for p in store.passages_by_id(sample)]
    started = time.perf_counter()
    encoder.encode(texts, batch_size=64)
    bare = time.perf_counter() - started
    bare_rate = len(texts) / bare
    result = {
        "source": source.name,
        "articles": store.document_count,
        "added": len(done.added),
        "left_out": len(done.skipped),
        "warnings": len(caught),
        "passages": passages,
        "build_s": round(build, 1),
        "build_passages_per_s": round(passages / build, 2),
        "bare_sample_passages": len(texts),
        "bare_encode_passages_per_s": round(bare_rate, 2),
        "build_rate_over_bare": round(passages / build / bare_rate, 3),
    }
    shutil.rmtree(folder, ignore_errors=True)
    return result


def bare_all(args, encoder) -> dict:
    """A bare encode of every passage the whole pool is cut into (cut here, as the ingest cuts it, with
    no index): the denominator of the pool's build rate, without sampling."""
    from qa.collect import list_items
    from qa.ingest.documents import document_from_text
    from qa.ingest.passages import Chunking, make_passages

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        listing = list_items("jsonl", str(POOL), name=POOL.name, fetcher=None)
    chunking = Chunking()
    texts = []
    for item in listing.items[: args.limit or None]:
        document = document_from_text(item.text, doc_id=item.doc_id, meta=item.meta)
        texts.extend(p.text for p in make_passages(document, chunking))
    started = time.perf_counter()
    encoder.encode(texts, batch_size=64)
    bare = time.perf_counter() - started
    return {
        "passages": len(texts),
        "bare_encode_s": round(bare, 1),
        "bare_encode_passages_per_s": round(len(texts) / bare, 2),
    }


def folder_against_export(args, encoder) -> dict:
    """The same articles ingested as a corpus folder and as an export, and a bare encode of all their
    passages: the export path should build at the folder ingest's rate."""
    from qa.indexing import open_index

    folder = Path(tempfile.mkdtemp(prefix="compare-"))
    with gzip.open(POOL, "rt", encoding="utf-8") as fh:
        lines = [next(fh) for _ in range(args.compare)]
    export = folder / "pool.jsonl.gz"
    export.write_bytes(gzip.compress("".join(lines).encode()))
    corpus = folder / "corpus"
    corpus.mkdir()
    entries = []
    for n, line in enumerate(lines, 1):
        row = json.loads(line)
        name = f"a{n:05d}.txt"
        (corpus / name).write_text(row["text"], encoding="utf-8")  # the text alone; the title goes in the metadata
        fields = {k: row.get(k) or "" for k in ("title", "outlet", "date", "url")}
        entries.append(f'["{name}"]\n' + "".join(f"{k} = {json.dumps(v)}\n" for k, v in fields.items()))
    (corpus / "metadata.toml").write_text("\n".join(entries), encoding="utf-8")
    started = time.perf_counter()
    store = open_index(corpus, folder / "folder-index", encoder, progress=True)
    folder_s = time.perf_counter() - started
    folder_passages = store.passage_count
    texts = [p.text for p in store.passages]
    store.close()
    assistant = _assistant(folder / "export", encoder)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assistant.add([export], progress=True)
    export_s = time.perf_counter() - started
    export_passages = assistant.store.passage_count
    started = time.perf_counter()
    encoder.encode(texts, batch_size=64)
    bare = time.perf_counter() - started
    result = {
        "articles": args.compare,
        "passages_folder": folder_passages,
        "passages_export": export_passages,
        "folder_build_s": round(folder_s, 1),
        "folder_passages_per_s": round(folder_passages / folder_s, 2),
        "export_build_s": round(export_s, 1),
        "export_passages_per_s": round(export_passages / export_s, 2),
        "bare_encode_s": round(bare, 1),
        "bare_encode_passages_per_s": round(len(texts) / bare, 2),
        "folder_over_bare": round(folder_passages / folder_s / (len(texts) / bare), 3),
        "export_over_bare": round(export_passages / export_s / (len(texts) / bare), 3),
        "export_over_folder": round((export_passages / export_s) / (folder_passages / folder_s), 3),
    }
    shutil.rmtree(folder, ignore_errors=True)
    return result


def feed(args, encoder) -> dict:
    from tests.web_server import Site, article_html, rss

    with gzip.open(POOL, "rt", encoding="utf-8") as fh:
        rows = [json.loads(next(fh)) for _ in range(100)]
    folder = Path(tempfile.mkdtemp(prefix="feed-"))
    fetch = {"delay": 0.0, "timeout": 10.0}
    result = {}
    for etags in (False, True):
        with Site(etags=etags) as site:
            items = []
            for k, row in enumerate(rows):
                paragraphs = [p for p in row["text"].split("\n") if p.strip()]
                site.put(
                    f"/news/{k}",
                    article_html(row["title"] or f"Article {k}", paragraphs, date=row["date"] or "2024-01-01"),
                )
                items.append(
                    {
                        "title": row["title"],
                        "link": site.url(f"/news/{k}?utm_source=rss"),
                        "pubDate": "Mon, 01 Jan 2024 00:00:00 GMT",
                    }
                )
            site.put("/feed.xml", rss("Pool feed", site.base, items), content_type="application/rss+xml")
            where = folder / ("etags" if etags else "plain")
            assistant = _assistant(where, encoder)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                started = time.perf_counter()
                added = assistant.add([site.url("/feed.xml")], allow_private=True, fetch=fetch)
                first = time.perf_counter() - started
                runs = []
                for refetch in (False, False, False, True):
                    pages = sum(n for p, n in site.hits.items() if p.startswith("/news/"))
                    (report,) = assistant.sync(allow_private=True, fetch=fetch, refetch=refetch)
                    runs.append(
                        {
                            "refetch": refetch,
                            "seconds": round(report.seconds, 3),
                            "fetch_seconds": round(report.fetch_seconds, 3),
                            "beyond_fetches_s": round(report.seconds - report.fetch_seconds, 3),
                            "not_modified": report.not_modified,
                            "pages_fetched": sum(n for p, n in site.hits.items() if p.startswith("/news/")) - pages,
                            "encoded": report.ingest.encoded,
                            "added_or_updated": len(report.ingest.added) + len(report.ingest.updated),
                        }
                    )
            result["etags" if etags else "no_etags"] = {
                "articles": len(added.added),
                "first_add_s": round(first, 1),
                "encoded_at_add": added.encoded,
                "resyncs": runs,
            }
    shutil.rmtree(folder, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="only the pool's first N articles (default: all)")
    parser.add_argument("--sample", type=int, default=10000, help="passages in the bare-encode sample (0: all)")
    parser.add_argument("--skip-pool", action="store_true")
    parser.add_argument("--skip-feed", action="store_true")
    parser.add_argument(
        "--bare-all", action="store_true", help="also encode every passage of the pool (cut with no index), bare"
    )
    parser.add_argument(
        "--compare",
        type=int,
        default=0,
        metavar="N",
        help="also ingest the pool's first N articles as a corpus folder and as an export, beside a bare encode",
    )
    parser.add_argument("--out", default=str(OUT / "sources.json"))
    args = parser.parse_args()
    encoder = load_encoder()
    encoder.encode(["warm up"] * 8)
    results = {}
    if not args.skip_feed:
        results["feed"] = feed(args, encoder)
        print(json.dumps(results["feed"], indent=2), flush=True)
    if not args.skip_pool:
        results["pool"] = pool(args, encoder)
        print(json.dumps(results["pool"], indent=2), flush=True)
    if args.bare_all:
        results["bare_all"] = bare_all(args, encoder)
        print(json.dumps(results["bare_all"], indent=2), flush=True)
    if args.compare:
        results["folder_against_export"] = folder_against_export(args, encoder)
        print(json.dumps(results["folder_against_export"], indent=2), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
