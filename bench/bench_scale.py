"""Archive scale: ingest rate on the shared archive, and the index's costs at 1k to 1M passages.

    python bench/bench_scale.py --archive               # ingest ../shared/news-archive/corpus with the real model
    python bench/bench_scale.py --passages 100000       # one JSON object for that size
    python bench/bench_scale.py --report                # table and plot of every size measured so far
    python bench/bench_scale.py --codes                 # quality with float16 and 8-bit sentence vectors

``--archive`` ingests the shared archive (1,835 articles) with all-MiniLM-L6-v2 through
``open_index``, as ``qa index`` does, then encodes the same passages with a bare
``model.encode``; it keeps the index in ``bench/out/archive-index`` for the other runs.

``--passages N`` builds an index of N passages from real text: the passages of the shared
archive and of its 6,000-article pool, cut and analysed by the real text side, repeated under
new article ids where N is larger than that (about 110,000). Their vectors are fed straight to
the index layer, since encoding a million passages on 2 cores would take about ten hours: the
archive's passages keep their real vectors, every other passage gets the real vector of a
random archive passage plus noise (cosine about 0.9 to it). Questions are the archive's 200
quiz questions, encoded by the real model. A fresh process then opens the index and measures
(after one untimed pass over the questions): open time; RSS by component (Python, database,
FAISS, model, serving caches); search and ``ask()`` latency without the query encode, and a
profile of ``ask()`` by stage; ``ask()`` with the real model divided by one query encode, both
timed in this run; recall@10 of the vector index against an exact search; the BM25 top 100
against a plain numpy sum over every posting; adding and removing 10 real articles (with the
real model), the peak RSS while doing it and RSS across three more add/remove cycles; disk
per file and per table. Results go to ``bench/out/scale-N.json``.

``--reprobe`` (with ``--passages N``) measures a kept index (``--keep``) again.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from embeddings import load_encoder  # noqa: E402
from embeddings.encoder import PASSAGE_BATCH, release_memory  # noqa: E402
from qa.ingest.documents import ArticleMeta, CorpusFolder  # noqa: E402
from qa.ingest.passages import Chunking  # noqa: E402

SHARED = ROOT.parent / "shared" / "news-archive"
OUT = ROOT / "bench" / "out"
ARCHIVE_INDEX = OUT / "archive-index"
HELD_BACK = 10  # pool articles kept out of every build, for the add-10 measurement


def _rss_mb() -> float:
    """Peak resident memory of this process so far (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_now_mb() -> float:
    """Resident memory of this process now (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> None:
    """Start VmHWM again from the present resident size (Linux: ``clear_refs`` 5)."""
    Path("/proc/self/clear_refs").write_text("5")


def _disk_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


# --------------------------------------------------------------------------- the shared archive


def archive(args) -> dict:
    """Ingest the shared archive with the real model; compare with a bare encode of the same passages."""
    from qa.indexing import open_index

    encoder = load_encoder()
    encoder.encode(["warm up"] * 8)
    corpus = SHARED / "corpus"
    if args.articles:
        tmp = Path(tempfile.mkdtemp(prefix="archive-"))
        for name in sorted(p.name for p in corpus.glob("*.txt"))[: args.articles]:
            shutil.copy(corpus / name, tmp / name)
        corpus = tmp
    index = ARCHIVE_INDEX if not args.articles else Path(tempfile.mkdtemp()) / "index"
    if index.exists():
        shutil.rmtree(index)
    started = time.perf_counter()
    store = open_index(corpus, index, encoder, progress=True)
    build = time.perf_counter() - started
    texts = [p.text for p in store.passages]
    started = time.perf_counter()
    encoder.encode(texts, batch_size=64)
    bare = time.perf_counter() - started
    result = {
        "articles": store.document_count,
        "passages": len(texts),
        "sentences": store.manifest["sentences"],
        "build_s": round(build, 1),
        "build_passages_per_s": round(len(texts) / build, 2),
        "bare_encode_s": round(bare, 1),
        "bare_encode_passages_per_s": round(len(texts) / bare, 2),
        "build_rate_over_bare": round(bare / build, 3),
        "disk_mb": round(_disk_mb(index), 1),
        "vector_index": store.manifest["vector_index"]["kind"],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "scale-archive.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


# --------------------------------------------------------------------------- index of N passages


def _pool_folder() -> Path:
    """The pool's articles as a corpus folder under /tmp (never in the repository)."""
    folder = Path(tempfile.gettempdir()) / "qa-bench-pool"
    if (folder / ".complete").exists():
        return folder
    folder.mkdir(exist_ok=True)
    meta = []
    with gzip.open(SHARED / "pool.jsonl.gz", "rt", encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            row = json.loads(line)
            name = f"pool-{i:05d}.txt"
            (folder / name).write_text(f"{row.get('title') or ''}\n\n{row['text']}\n", encoding="utf-8")
            meta.append((name, row))
    with open(folder / "metadata.toml", "w", encoding="utf-8") as fh:
        for name, row in meta:
            fh.write(f'["{name}"]\n')
            for key in ("title", "outlet", "date", "url"):
                value = str(row.get(key) or "").replace("\\", "\\\\").replace('"', '\\"')
                value = "".join(c if c >= " " else " " for c in value)
                if key == "date" and value and len(value) != 10:
                    value = ""
                fh.write(f'{key} = "{value}"\n')
    (folder / ".complete").write_text("")
    return folder


def _prepared_articles(enough: int) -> tuple[list, list]:
    """Archive, then pool articles through the real text side until they hold ``enough`` passages
    (all of them, for more than they hold), and the held-back pool articles."""
    from qa.indexing.ingest import _loader
    from qa.indexing.reading import Work, prepare

    out, held, passages = [], [], 0
    for folder in (SHARED / "corpus", _pool_folder()):
        source = CorpusFolder(folder)
        states = source.scan({})
        metadata = source.metadata()
        names = sorted(states)
        for name in names:
            work = Work(name, "corpus", states[name], metadata.get(name, ArticleMeta()), _loader(source, name), False)
            if folder.name == "qa-bench-pool" and len(held) < HELD_BACK and name.endswith("7.txt"):
                held.append(folder / name)
                continue
            if passages >= enough:
                continue
            try:
                out.append(prepare(work.load(), work, Chunking()))
            except Exception:  # the bad input the ingest would name and leave out
                continue
            passages += len(out[-1].passages)
    return out, held


def build(args) -> dict:
    """Build the N-passage index (vectors fed to the index layer), then probe it in a fresh process."""
    from qa.indexing.ingest import _create
    from qa.store.writer import StoreWriter

    if not (ARCHIVE_INDEX / "index.sqlite").exists():
        sys.exit("run python bench/bench_scale.py --archive first (it makes the real vectors)")
    from qa.store import IndexStore

    real = IndexStore.open(ARCHIVE_INDEX)
    real_ids = real.live_ids()
    real_keys = {(p.doc_id, p.char_start): int(i) for i, p in zip(real_ids, real.passages_by_id(real_ids))}
    real_p = real.passage_file.read(real_ids)
    row_of = {int(i): r for r, i in enumerate(real_ids)}
    print("text side of the archive and the pool ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    articles, held = _prepared_articles(args.passages or 10**9)
    text_s = time.perf_counter() - started
    available = sum(len(a.passages) for a in articles)
    print(f"{len(articles)} articles, {available} passages in {text_s:.0f} s", file=sys.stderr, flush=True)

    class Spec:
        name, dimension = real.model, real.dimension

    name = f"{args.passages}" if args.passages else f"{args.articles}-articles"
    index = Path(args.index or (OUT / f"scale-index-{name}"))
    if index.exists():
        shutil.rmtree(index)
    store = _create(index, Spec, Chunking())
    writer = StoreWriter(store)
    rng = np.random.default_rng(0)
    noise = 0.45 / np.sqrt(real.dimension)
    batch, in_batch, total, copy, count = [], 0, 0, 0, 0
    want_passages = args.passages or 10**12
    want_articles = args.articles or 10**12
    timings = {"commit_s": 0.0, "vectors_s": 0.0}

    def vectors_of(article) -> tuple[np.ndarray, np.ndarray]:
        p_rows, s_rows = [], []
        for p in article.passages:
            rid = real_keys.get((article.doc_id, p.char_start)) if copy == 0 else None
            if rid is not None:
                pv = real_p[row_of[rid]]
                first, n = real.sentence_ranges([rid])[rid]
                sv = real.sentence_file.read(np.arange(first, first + n))
            else:
                base = real_p[int(rng.integers(len(real_p)))]
                pv = base + rng.normal(0, noise, real.dimension)
                sv = base + rng.normal(0, noise, (len(p.sentences), real.dimension))
            p_rows.append(pv)
            s_rows.append(np.atleast_2d(sv))
        P = np.vstack(p_rows).astype(np.float32)
        S = np.vstack(s_rows).astype(np.float32)
        P /= np.linalg.norm(P, axis=1, keepdims=True)
        S /= np.linalg.norm(S, axis=1, keepdims=True)
        return P, S

    def flush() -> None:
        nonlocal batch, in_batch
        if not batch:
            return
        t = time.perf_counter()
        vectors = [vectors_of(a) for a in batch]
        first_p, first_s = writer.next_ids()
        writer.write_vectors(first_p, np.vstack([v[0] for v in vectors]), first_s, np.vstack([v[1] for v in vectors]))
        timings["vectors_s"] += time.perf_counter() - t
        t = time.perf_counter()
        writer.commit(add=batch, first_passage=first_p, first_sentence=first_s)
        writer.merge()
        timings["commit_s"] += time.perf_counter() - t
        batch, in_batch = [], 0

    started = time.perf_counter()
    while total < want_passages and count < want_articles:
        for article in articles:
            if total >= want_passages or count >= want_articles:
                break
            take = article if copy == 0 else replace(article, doc_id=f"copy{copy}/{article.doc_id}")
            count += 1
            if total + len(take.passages) > want_passages:
                n = want_passages - total
                cut = sum(len(p.sentences) for p in take.passages[:n])
                take = replace(take, passages=take.passages[:n], tokens=take.tokens[:n], facts=take.facts.rows(0, cut))
            batch.append(take)
            in_batch += len(take.passages)
            total += len(take.passages)
            if in_batch >= 2048:
                flush()
        copy += 1
    flush()
    t = time.perf_counter()
    writer.finish(force=True)
    finish_s = time.perf_counter() - t
    build_s = time.perf_counter() - started
    store.close()
    archive_figures = (
        json.loads((OUT / "scale-archive.json").read_text()) if (OUT / "scale-archive.json").exists() else {}
    )
    result = {
        "articles": count,
        "passages": total,
        "sentences": IndexStore.open(index).manifest["sentences"],
        "copies_of_the_real_text": copy,
        "build_s": round(build_s, 1),
        "build_passages_per_s": round(total / build_s, 1),
        "build_commit_s": round(timings["commit_s"], 1),
        "build_vector_index_s": round(finish_s, 1),
        "disk_mb": round(_disk_mb(index), 1),
    }
    if archive_figures:
        result["bare_encode_s_projected"] = round(total / archive_figures["bare_encode_passages_per_s"], 1)
    (index / "held.json").write_text(json.dumps([str(p) for p in held]))
    result.update(_probe_in_a_new_process(index))
    (OUT / f"scale-{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    if not args.keep:
        shutil.rmtree(index)
    return result


def _probe_in_a_new_process(index: Path) -> dict:
    held = (index / "held.json").read_text()
    probe = subprocess.run(
        [sys.executable, __file__, "--probe", str(index), "--held", held], capture_output=True, text=True
    )
    if probe.returncode:
        sys.exit(probe.stderr)
    return json.loads(probe.stdout.strip().splitlines()[-1])


def reprobe(args) -> dict:
    """Measure a kept index again (after a change to the query side), updating its JSON."""
    name = f"{args.passages}" if args.passages else f"{args.articles}-articles"
    index = OUT / f"scale-index-{name}"
    result = json.loads((OUT / f"scale-{name}.json").read_text())
    result.update(_probe_in_a_new_process(index))
    (OUT / f"scale-{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def probe(args) -> dict:
    """In a fresh process: open, RSS by component, latency (and ``ask()`` over one query encode,
    both timed in this run), a profile by stage, recall, the BM25 top 100, adding and removing 10
    articles."""
    import cProfile
    import pstats

    from embeddings import encode_queries
    from qa import Assistant
    from qa.apps.evaluation import load_questions
    from qa.lexical import tokenize
    from qa.store import IndexStore

    index = Path(args.probe)
    out: dict = {}
    memory = {"python_and_libraries": _rss_now_mb()}
    started = time.perf_counter()
    store = IndexStore.open(index)
    opened = _rss_now_mb()
    store.refresh()
    out["open_s"] = round(time.perf_counter() - started, 3)
    memory["database_opened"] = opened - memory["python_and_libraries"]
    memory["vector_index"] = _rss_now_mb() - opened  # FAISS's library and the index
    out["rss_mb_index_only"] = round(_rss_mb(), 1)
    before = _rss_now_mb()
    encoder = load_encoder()
    questions = [q.question for q in load_questions(SHARED / "questions.jsonl")]
    vectors = encode_queries(encoder, questions)
    memory["model"] = _rss_now_mb() - before
    cache = {q: v for q, v in zip(questions, vectors)}

    class Cached:
        """The real encoder, with the questions' vectors already computed (ask() without the encode)."""

        name, dimension, max_tokens = encoder.name, encoder.dimension, encoder.max_tokens

        def encode(self, texts, **kw):
            return np.vstack([cache[t] for t in texts]) if all(t in cache for t in texts) else encoder.encode(texts)

        def count_tokens(self, text):
            return encoder.count_tokens(text)

    assistant = Assistant(store, Cached(), corpus=SHARED / "corpus")
    before = _rss_now_mb()
    for q in questions:  # one pass first, so that every figure below is of a warm page cache
        assistant.ask(q)
    dense, lexical, asks = [], [], []
    pool = assistant.retriever.config.candidates  # what each candidate search asks for
    for q, v in zip(questions, vectors):
        t = time.perf_counter()
        store.search_dense(v, pool)
        dense.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        store.search_lexical(tokenize(q), pool)
        lexical.append(1000 * (time.perf_counter() - t))
        assistant._turns.clear()
        t = time.perf_counter()
        assistant.ask(q, k=5)
        asks.append(1000 * (time.perf_counter() - t))
    memory["serving_caches"] = _rss_now_mb() - before
    out.update(
        {
            "vector_index": store.manifest["vector_index"]["kind"],
            "search_dense_ms_p50": round(_pct(dense, 50), 2),
            "search_dense_ms_p95": round(_pct(dense, 95), 2),
            "search_bm25_ms_p50": round(_pct(lexical, 50), 2),
            "search_bm25_ms_p95": round(_pct(lexical, 95), 2),
            "ask_minus_encode_ms_p50": round(_pct(asks, 50), 2),
            "ask_minus_encode_ms_p95": round(_pct(asks, 95), 2),
        }
    )
    out["stages_ms_per_question"] = _profile_stages(cProfile, pstats, assistant, questions)
    # ask() with the real encoder against one query encode, both timed here, question by question
    real = Assistant(store, encoder, corpus=SHARED / "corpus")
    encodes, real_asks = [], []
    for q in questions[:3]:
        real.ask(q)
    for q in questions:
        t = time.perf_counter()
        encode_queries(encoder, [q])
        encodes.append(1000 * (time.perf_counter() - t))
        real._turns.clear()
        t = time.perf_counter()
        real.ask(q, k=5)
        real_asks.append(1000 * (time.perf_counter() - t))
    out["query_encode_ms_p50"] = round(_pct(encodes, 50), 2)
    out["query_encode_ms_p95"] = round(_pct(encodes, 95), 2)
    out["ask_ms_p50"] = round(_pct(real_asks, 50), 2)
    out["ask_ms_p95"] = round(_pct(real_asks, 95), 2)
    out["ask_over_encode_p50"] = round(_pct(real_asks, 50) / _pct(encodes, 50), 2)
    out["ask_over_encode_p95"] = round(_pct(real_asks, 95) / _pct(encodes, 95), 2)
    out["rss_mb"] = round(_rss_mb(), 1)  # peak: model, index and questions answered
    out["rss_mb_serving_now"] = round(_rss_now_mb(), 1)
    out["rss_mb_by_component"] = {k: round(v, 1) for k, v in memory.items()}
    # add and remove 10 real articles, with the real model
    held = [Path(p) for p in json.loads(args.held)]
    from qa.indexing.ingest import _loader
    from qa.indexing.reading import Work, prepare

    source = CorpusFolder(held[0].parent)
    states = source.scan({})
    texts = []
    for path in held:
        work = Work(path.name, "corpus", states[path.name], ArticleMeta(), _loader(source, path.name), False)
        texts.extend(p.text for p in prepare(work.load(), work, Chunking()).passages)
    encoder.encode(texts[:8])
    t = time.perf_counter()
    encoder.encode(texts, batch_size=PASSAGE_BATCH)  # as the ingest batches them
    out["encode_10_s"] = round(time.perf_counter() - t, 2)
    release_memory()
    _reset_peak()  # the peak of what follows: adding and removing 10 articles
    before_add = _rss_now_mb()
    t = time.perf_counter()
    report = real.add(held)
    out["add_10_s"] = round(time.perf_counter() - t, 2)
    out["add_10_over_encode"] = round(out["add_10_s"] / out["encode_10_s"], 2)
    out["add_10_passages"] = len(texts)
    out["rss_mb_add_10_growth"] = round(_rss_now_mb() - before_add, 1)
    t = time.perf_counter()
    real.remove(report.added)
    out["remove_10_s"] = round(time.perf_counter() - t, 2)
    out["rss_mb_after_add"] = round(_rss_mb(), 1)  # peak while adding and removing 10 articles
    out["rss_mb_after_add_now"] = round(_rss_now_mb(), 1)
    cycles = [out["rss_mb_after_add_now"]]
    for _ in range(3):  # memory that stays flat: the same 10 articles added and removed again
        real.remove(real.add(held).added)
        for q in questions[:20]:
            real.ask(q)
        cycles.append(round(_rss_now_mb(), 1))
    out["rss_mb_after_each_add_remove"] = cycles
    out["rss_mb_peak_after_cycles"] = round(_rss_mb(), 1)
    # recall@10 of the vector index against an exact search over every stored vector
    ids = store.live_ids()
    scores = np.full((len(vectors), 10), -np.inf, np.float32)
    best = np.zeros((len(vectors), 10), np.int64)
    for at in range(0, len(ids), 200_000):
        chunk = ids[at : at + 200_000]
        s = store.passage_file.read(chunk) @ vectors.T
        both = np.concatenate([scores, s.T], axis=1)
        both_ids = np.concatenate([best, np.broadcast_to(chunk, (len(vectors), len(chunk)))], axis=1)
        top = np.argsort(-both, axis=1)[:, :10]
        scores, best = np.take_along_axis(both, top, 1), np.take_along_axis(both_ids, top, 1)
    recall = [len(set(store.search_dense(v, 10).tolist()) & set(b.tolist())) / 10 for v, b in zip(vectors, best)]
    out["recall_at_10"] = round(float(np.mean(recall)), 4)
    # the BM25 top 100 against scoring every passage, in numpy, from every posting of every term
    kept, searched_ms = [], []
    for q in questions:
        tokens = tokenize(q)
        t = time.perf_counter()
        got = store.search_lexical(tokens, 100)
        searched_ms.append(1000 * (time.perf_counter() - t))
        full = _every_passage_bm25(store, tokens, 100)
        if len(full):
            kept.append(len(set(full.tolist()) & set(got[0].tolist())) / len(full))
    out["bm25_top100_kept"] = round(float(np.mean(kept)), 4)
    out["bm25_top100_ms_p50"] = round(_pct(searched_ms, 50), 2)
    out["bm25_top100_ms_p95"] = round(_pct(searched_ms, 95), 2)
    out["disk_mb"] = round(_disk_mb(index), 1)
    out["disk_mb_by_part"] = _disk_by_part(index)
    print(json.dumps(out))
    return out


def _every_passage_bm25(store, tokens: list[str], k: int) -> np.ndarray:
    """The top ``k`` passage ids by BM25 from a plain numpy sum over every posting of every query
    term (the reference the store's search must equal), ties by the lower id."""
    from qa.store import postings
    from qa.store.store import query_terms

    stats = store.stats()
    terms = query_terms(store.terms(tokens), tokens, stats)
    if not terms:
        return np.zeros(0, np.int64)
    weight = {t[0]: t[1] for t in terms}
    scores = np.zeros(int(store.manifest["next_passage"]), np.float64)
    held = np.zeros(len(scores), dtype=bool)
    for term, ids, tfs, lens in postings.reader(store.db.connection)(sorted(weight)):
        ids = np.frombuffer(ids, "<u4").astype(np.int64)
        tf = np.frombuffer(tfs, "<u2").astype(np.float64)
        norm = postings.K1 * (1 - postings.B + postings.B * np.frombuffer(lens, "<u2") / stats["passage_length"])
        scores[ids] += weight[term] * tf / (tf + norm)
        held[ids] = True
    held[store._deleted()] = False
    found = np.flatnonzero(held)
    top = found[np.lexsort((found, -scores[found].astype(np.float32)))][:k]
    return top


def _disk_by_part(index: Path) -> dict[str, float]:
    """Megabytes per file of the index, and per table (with its indexes) of the database."""
    import sqlite3

    parts = {p.name: round(p.stat().st_size / 1e6, 1) for p in sorted(index.iterdir()) if p.is_file()}
    try:
        conn = sqlite3.connect(f"file:{index / 'index.sqlite'}?mode=ro", uri=True)
        tables = dict(conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
        for name, size in conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            key = "index.sqlite: " + tables.get(name, name)
            parts[key] = round(parts.get(key, 0.0) + size / 1e6, 1)
        conn.close()
    except sqlite3.Error as exc:  # no dbstat in this SQLite build
        parts["index.sqlite: tables"] = str(exc)
    return parts


def _profile_stages(cProfile, pstats, assistant, questions: list[str]) -> dict[str, float]:
    """Milliseconds per question in each stage of ``ask()`` (without the encode), from a profile
    of one more pass over the questions (profiling slows every call alike)."""
    profile = cProfile.Profile()
    profile.enable()
    for q in questions:
        assistant._turns.clear()
        assistant.ask(q, k=5)
    profile.disable()
    stats = pstats.Stats(profile).stats
    stages = {
        "ask": ("assistant.py", "ask_batch"),
        "dense search": ("store.py", "search_dense"),
        "BM25 search": ("store.py", "search_lexical"),
        "candidate rows and vectors": ("store.py", "candidates"),
        "signals": ("retrieval.py", "_features"),
        "ranking and copies": ("retrieval.py", "rank"),
        "question analysis": ("assistant.py", "_prepare"),
        "passages of the hits": ("store.py", "passage_map"),
        "abstention": ("abstain.py", "probability"),
        "disagreements": ("disagree.py", "find_disagreements"),
        "quotes first": ("assistant.py", "_said_first"),
    }
    out = {}
    for label, (file, function) in stages.items():
        found = [v for (f, _, name), v in stats.items() if f.endswith(file) and name == function]
        out[label] = round(1000 * sum(v[3] for v in found) / len(questions), 2)  # cumulative time
    return out


# --------------------------------------------------------------------------- 8-bit sentence vectors


def codes(args) -> dict:
    """Quality with float16 and with 8-bit sentence vectors, everything else the same: the archive's
    200 questions and SciFact's test queries, each over one index whose sentence vectors are
    written in float16 (encoded again from its passages, pooled as the ingest does), evaluated,
    converted to 8 bits by the writer, and evaluated again."""
    from qa import Assistant
    from qa.apps.beir import BeirCorpus, BeirSet, open_beir, read_qrels, read_queries
    from qa.apps.evaluation import evaluate, evaluate_beir_set, load_questions
    from qa.store import IndexStore

    encoder = load_encoder()
    out: dict = {}
    scifact = ROOT.parent / "shared" / "beir" / "scifact"
    sets = {
        "archive": (ARCHIVE_INDEX, SHARED / "corpus"),
        "scifact": (OUT / "codes-scifact-index", BeirCorpus(scifact)),
    }
    if not (ARCHIVE_INDEX / "index.sqlite").exists():
        sys.exit("run python bench/bench_scale.py --archive first (it builds the archive's index)")
    if not (OUT / "codes-scifact-index" / "index.sqlite").exists():
        open_beir(scifact, index=OUT / "codes-scifact-index", encoder=encoder, progress=True).assistant.store.close()
    qrels = read_qrels(scifact, "test")
    queries = read_queries(scifact)
    for name, (built, corpus) in sets.items():
        work = Path(tempfile.mkdtemp(prefix=f"codes-{name}-")) / "index"
        shutil.copytree(built, work)
        _float16_sentences(work, encoder)
        figures = {}
        for label in ("float16", "8 bits"):
            store = IndexStore.open(work)
            if label == "8 bits":
                from qa.store.writer import StoreWriter

                StoreWriter(store)  # the writer converts the float16 file
            assistant = Assistant(store, encoder, corpus=corpus)
            if name == "archive":
                report = evaluate(assistant, load_questions(SHARED / "questions.jsonl"), k=10, progress=False)
                keep = ("hit@1", "hit@5", "mrr@10", "answer_sentence", "false_abstention_rate")
            else:
                beir = BeirSet(assistant, qrels, queries, sorted(qrels, key=lambda q: (len(q), q)))
                report = evaluate_beir_set(beir, k=100, progress=False, name="scifact")
                keep = ("ndcg@10", "recall@100")
            figures[label] = {m: round(float(report.metrics[m]), 4) for m in keep}
            figures[label]["disk_mb_sentences"] = round(store.sentence_file.path.stat().st_size / 1e6, 1)
            store.close()
        out[name] = figures
        shutil.rmtree(work.parent)
    (OUT / "scale-codes.json").write_text(json.dumps(out, indent=2) + "\n")
    return out


def _float16_sentences(index: Path, encoder) -> None:
    """Write the index's sentence vectors in float16 (encoded again from its passages, pooled as the
    ingest does) and make them the index's sentence file, as an index made before 8-bit codes."""
    import sqlite3

    from embeddings import VectorFile, encode_passages
    from qa.store import IndexStore

    store = IndexStore.open(index)
    if store.sentence_file.codes == "f16":
        store.close()
        return
    ids = store.live_ids()
    passages = store.passages_by_id(ids)
    ranges = store.sentence_ranges(ids)
    target = VectorFile(index / "sentences.f16", store.dimension)
    target.truncate(0)
    for at in range(0, len(passages), 2048):
        part = passages[at : at + 2048]
        spans = [[(a - p.char_start, b - p.char_start) for a, b in p.sentences] for p in part]
        _, sentences = encode_passages(encoder, [p.text for p in part], spans)
        for pid, vectors in zip(ids[at : at + 2048], sentences):
            target.write(ranges[int(pid)][0], vectors)
    target.sync()
    store.close()
    with sqlite3.connect(index / "index.sqlite") as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'sentence_file'", (json.dumps("sentences.f16"),))
    (index / "sentences.i8").unlink()


# --------------------------------------------------------------------------- report


def report() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = sorted(
        (json.loads(p.read_text()) for p in OUT.glob("scale-*.json") if p.stem.split("-")[1].isdigit()),
        key=lambda r: (r["passages"], r.get("articles", 0)),
    )
    keys = [
        ("articles", "articles"),
        ("passages", "passages"),
        ("vector_index", "vector index"),
        ("build_s", "build s (vectors fed)"),
        ("bare_encode_s_projected", "bare encode s (projected)"),
        ("add_10_s", "add 10 s"),
        ("add_10_over_encode", "add 10 / encode 10"),
        ("remove_10_s", "remove 10 s"),
        ("open_s", "open s"),
        ("rss_mb", "RSS MB (model in)"),
        ("disk_mb", "disk MB"),
        ("search_dense_ms_p50", "dense p50 ms"),
        ("search_dense_ms_p95", "dense p95 ms"),
        ("search_bm25_ms_p50", "BM25 p50 ms"),
        ("search_bm25_ms_p95", "BM25 p95 ms"),
        ("ask_minus_encode_ms_p50", "ask() - encode p50 ms"),
        ("ask_minus_encode_ms_p95", "ask() - encode p95 ms"),
        ("recall_at_10", "recall@10"),
        ("ask_over_encode_p50", "ask() / encode p50"),
        ("ask_over_encode_p95", "ask() / encode p95"),
        ("bm25_top100_kept", "BM25 top 100 kept"),
    ]
    print("| " + " | ".join(label for _, label in keys) + " |")
    print("|" + "---|" * len(keys))
    for r in rows:
        print("| " + " | ".join(f"{r.get(k, '')}" for k, _ in keys) + " |")
    if rows:
        fig, axes = plt.subplots(1, 3, figsize=(13, 4))
        n = [r["passages"] for r in rows]
        for key, label in (("ask_minus_encode_ms_p50", "ask() - encode, p50"), ("search_dense_ms_p50", "dense"),
                           ("search_bm25_ms_p50", "BM25")):  # fmt: skip
            axes[0].plot(n, [r[key] for r in rows], marker="o", label=label)
        axes[0].set(xscale="log", yscale="log", xlabel="passages", ylabel="ms per question", title="latency")
        axes[0].legend()
        axes[1].plot(n, [r["open_s"] for r in rows], marker="o", label="open s")
        axes[1].plot(n, [r["add_10_s"] for r in rows], marker="o", label="add 10 articles s")
        axes[1].set(xscale="log", xlabel="passages", ylabel="seconds", title="open and add")
        axes[1].legend()
        axes[2].plot(n, [r["rss_mb"] for r in rows], marker="o", label="RSS MB")
        axes[2].plot(n, [r["disk_mb"] for r in rows], marker="o", label="disk MB")
        axes[2].set(xscale="log", yscale="log", xlabel="passages", ylabel="MB", title="memory and disk")
        axes[2].legend()
        fig.tight_layout()
        fig.savefig(ROOT / "bench" / "scale.png", dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", action="store_true", help="ingest the shared archive with the real model")
    parser.add_argument("--passages", type=int, default=0, help="build and measure an index of N passages")
    parser.add_argument(
        "--articles", type=int, default=0, help="build and measure an index of N articles (with --archive: ingest N)"
    )
    parser.add_argument("--index", default=None, help="where to build it (default bench/out/scale-index-N)")
    parser.add_argument("--keep", action="store_true", help="keep the N-passage index")
    parser.add_argument(
        "--reprobe", action="store_true", help="measure a kept index again (with --passages or --articles)"
    )
    parser.add_argument("--report", action="store_true", help="table and bench/scale.png of the sizes measured")
    parser.add_argument(
        "--codes", action="store_true", help="archive and SciFact quality with float16 and 8-bit sentence vectors"
    )
    parser.add_argument("--probe", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--held", default="[]", help=argparse.SUPPRESS)
    args = parser.parse_args()
    random.seed(0)
    if args.probe:
        probe(args)
    elif args.codes:
        print(json.dumps(codes(args), indent=2))
    elif args.archive:
        print(json.dumps(archive(args), indent=2))
    elif args.reprobe:
        print(json.dumps(reprobe(args), indent=2))
    elif args.passages or args.articles:
        print(json.dumps(build(args), indent=2))
    elif args.report:
        report()
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
