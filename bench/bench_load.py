"""Load benchmark of the web chat: N concurrent gradio_client sessions x M questions, next to one user;
or, with ``--replicas N``, of N stateless replicas on a real Milvus server through the REST API.

Usage: ``python bench/bench_load.py [--sessions 20] [--questions 10] [--concurrency 4 ...]``
       ``python bench/bench_load.py --replicas 2 [--archive] [--sessions 20] [--questions 10]``

With ``--replicas``: a real Milvus 2.3.5 server is started in a loopback-only network namespace
(as the tests start it: :mod:`tests.milvus_server`, root), the index (the five articles, or the
news archive's with ``--archive``, from ``bench/out/archive-index`` without encoding again) is
written to it by this process (the ingest side), and N ``qa serve --replica`` processes start in
empty folders. One user asks the questions of one replica; then ``--sessions`` users ask them
at once, each request sent to the next replica in turn (a round-robin balancer), while a
``qa add`` of a new article runs in a third process a few seconds in. Afterwards every replica
is asked about the new article. Reported: errors, p50/p95 of each scenario, whether each
replica cited the added article, the add's time, and each replica's RSS (now and peak).

For each queue concurrency given, it starts the app (``ui.py``) in a subprocess on a free
127.0.0.1 port over a temporary index, then

1. single user: one gradio_client session asks the questions one after another;
2. load: ``--sessions`` sessions, each in its own thread with its own client, ask the same
   questions (each session starting at a different one) through the ``/answer`` chat
   endpoint, as fast as replies come back.

It prints errors and latency percentiles (per question, as the client sees it) and, with
``--out``, writes them as a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.apps.evaluation import load_questions  # noqa: E402

QUESTIONS = ROOT.parent / "shared" / "questions" / "dev.jsonl"
#: The ``qa`` command in a subprocess of this Python.
QA = [sys.executable, "-c", "import sys; from qa.apps.cli import main; sys.exit(main(sys.argv[1:]))"]


@dataclass
class Run:
    """Latencies (seconds) and errors of one scenario."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100) of the latencies (linear interpolation, as numpy and bench_core)."""
        return float(np.percentile(self.latencies, q)) if self.latencies else float("nan")

    def row(self, concurrency: int | None) -> str:
        """One Markdown table row."""
        n = len(self.latencies)
        return (
            f"| {concurrency if concurrency is not None else 'none'} | {self.name} | {n + len(self.errors)} "
            f"| {len(self.errors)} | {1000 * self.percentile(50):.0f} | {1000 * self.percentile(95):.0f} "
            f"| {1000 * max(self.latencies, default=float('nan')):.0f} "
            f"| {1000 * statistics.fmean(self.latencies) if n else float('nan'):.0f} | {n / self.wall:.1f} "
            f"| {self.server_cpu / self.wall:.2f} | {self.client_cpu / self.wall:.2f} |"
        )


def _cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of process ``pid`` (this process when None), all its threads."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measured(run_fn, *args, server_pid: int) -> Run:
    client0, server0 = _cpu_seconds(), _cpu_seconds(server_pid)
    run = run_fn(*args)
    run.client_cpu, run.server_cpu = _cpu_seconds() - client0, _cpu_seconds(server_pid) - server0
    return run


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(*, corpus: Path, index: Path, concurrency: int | None, log: Path) -> tuple[subprocess.Popen, str]:
    """Start ``ui.py`` in a subprocess and wait until it answers HTTP; returns the process and URL."""
    port = _free_port()
    env = dict(os.environ)
    cmd = [sys.executable, str(ROOT / "ui.py"), "--corpus", str(corpus), "--index", str(index), "--port", str(port)]
    cmd += ["--concurrency", str(concurrency if concurrency is not None else 0)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url + "config", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"the server did not start within 180 s; see {log}")


def _timed(run: Run, lock: threading.Lock, label: str, ask) -> None:
    """Time one ``ask()`` into ``run``: its latency, or its error under ``label``."""
    t0 = time.perf_counter()
    try:
        ask()
    except Exception as exc:
        with lock:
            run.errors.append(f"{label!r}: {exc}")
        return
    with lock:
        run.latencies.append(time.perf_counter() - t0)


def _chat_answer(client, question: str) -> None:
    reply = client.predict(question, 5, [], "", "", api_name="/answer")
    if not isinstance(reply, str) or not reply.startswith('<div class="qa-reply">') or "qa-error" in reply:
        raise ValueError(f"unexpected reply: {str(reply)[:120]!r}")


def _rest_answer(url: str, question: dict) -> None:
    if not _ask_rest(url, question).get("hits"):
        raise ValueError("no passage")


def session(url: str, questions: list[str], run: Run, lock: threading.Lock, start: threading.Barrier | None) -> None:
    """One chat session: a client asks ``questions`` in order through ``/answer``."""
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    except Exception as exc:
        with lock:
            run.errors.extend([f"connect: {exc}"] * len(questions))
        if start:
            start.abort()
        return
    if start:
        start.wait()
    for question in questions:
        _timed(run, lock, question, lambda q=question: _chat_answer(client, q))
    client.close()


def single_user(url: str, questions: list[str]) -> Run:
    """One client, the questions in order."""
    run = Run("1 user")
    t0 = time.perf_counter()
    session(url, questions, run, threading.Lock(), None)
    run.wall = time.perf_counter() - t0
    return run


def warm_up(url: str, questions: list[str]) -> None:
    """Ask every question once, so that first-call costs do not count."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    for question in questions:
        client.predict(question, 5, [], "", "", api_name="/answer")
    client.close()


def engine_only(corpus: Path, index: Path, questions: list[str], repeat: int = 3) -> Run:
    """The same questions answered and rendered in-process (``respond``), without HTTP, queue or client."""
    from qa import Assistant
    from qa.apps.webchat import respond

    assistant = Assistant.load(corpus=corpus, index=index, progress=False)
    for question in questions:
        respond(question, [], assistant=assistant)
    run = Run("respond() in-process, no server")
    t0 = time.perf_counter()
    for _ in range(repeat):
        for question in questions:
            t = time.perf_counter()
            respond(question, [], assistant=assistant)
            run.latencies.append(time.perf_counter() - t)
    run.wall = time.perf_counter() - t0
    return run


def load(url: str, questions: list[str], sessions: int) -> Run:
    """``sessions`` concurrent clients; session ``i`` starts at question ``i``."""
    run = Run(f"{sessions} users")
    lock = threading.Lock()
    barrier = threading.Barrier(sessions + 1)
    threads = []
    for i in range(sessions):
        mine = questions[i % len(questions) :] + questions[: i % len(questions)]
        t = threading.Thread(target=session, args=(url, mine, run, lock, barrier), daemon=True)
        t.start()
        threads.append(t)
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    run.wall = time.perf_counter() - t0
    return run


HEADER = (
    "| queue concurrency | scenario | questions | errors | p50 ms | p95 ms | max ms | mean ms | questions/s "
    "| server cores busy | client cores busy |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def _rss_mb(pid: int) -> tuple[float, float]:
    """(RSS now, peak RSS) of process ``pid`` in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _ask_rest(url: str, question: dict) -> dict:
    import json

    request = urllib.request.Request(
        f"{url}/v1/ask", data=json.dumps(question).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def _rest_users(urls: list[str], questions: list[dict], users: int, name: str, during=None) -> Run:
    """``users`` threads, each asking every question once (user ``i`` from question ``i``), request
    ``n`` of the whole run sent to replica ``n % len(urls)``; ``during`` runs in its own thread."""
    run = Run(name)
    lock = threading.Lock()
    counter = iter(range(10**9))
    barrier = threading.Barrier(users + 1)

    def user(i: int) -> None:
        mine = questions[i % len(questions) :] + questions[: i % len(questions)]
        barrier.wait()
        for q in mine:
            with lock:
                url = urls[next(counter) % len(urls)]
            _timed(run, lock, q["question"], lambda u=url, q=q: _rest_answer(u, q))

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for t in threads:
        t.start()
    side = threading.Thread(target=during, daemon=True) if during else None
    barrier.wait()
    t0 = time.perf_counter()
    if side:
        side.start()
    for t in threads:
        t.join()
    run.wall = time.perf_counter() - t0
    if side:
        side.join()
    return run


NEW_ARTICLE = (
    "Zebra crossings return to the old town\n\n"
    "The town council said on Monday that the zebra crossings removed from the old town last year will be "
    "painted again before the winter, after a petition signed by 4,200 residents.\n"
)


def replicas(args) -> int:
    """The ``--replicas`` benchmark (see the module docstring)."""
    import json
    import shutil
    import uuid

    from qa import Assistant
    from tests.milvus_server import RealMilvus, unavailable

    why = unavailable()
    if why:
        print(f"cannot run: {why}", file=sys.stderr)
        return 2
    archive = ROOT.parent / "shared" / "news-archive"
    if args.archive:
        source = ROOT / "bench" / "out" / "archive-index"
        if not (source / "index.sqlite").is_file():
            print("build the archive index first: python bench/bench_archive.py", file=sys.stderr)
            return 2
        rows = load_questions(archive / "questions.jsonl")
        questions = [{"question": q.question, "as_of": q.asked_on, "k": 5} for q in rows][: args.questions]
    else:
        rows = load_questions(args.questions_file)
        questions = [{"question": q.question, "history": list(q.history), "k": 5} for q in rows][: args.questions]
    with tempfile.TemporaryDirectory(prefix="qa-bench-replicas-") as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus"
        if args.archive:
            shutil.copytree(archive / "corpus", corpus)
            shutil.copytree(source, tmp / "index")
        else:
            shutil.copytree(args.corpus, corpus)
        with RealMilvus(tmp / "milvus") as server:
            spec = f"{server.uri}/bench_{uuid.uuid4().hex[:8]}"
            t0 = time.perf_counter()
            writer = Assistant.load(corpus=corpus, index=tmp / "index", store=spec, progress=False)
            written = time.perf_counter() - t0
            print(f"index written to the server in {written:.1f} s ({writer.store.passage_count} passages)")
            del writer
            procs, urls = [], []
            for i in range(args.replicas):
                folder = tmp / f"replica-{i + 1}"
                folder.mkdir()
                port = _free_port()
                log = (folder / "log").open("w")
                env = {k: v for k, v in os.environ.items() if k not in ("QA_API_KEYS", "QA_KEYS_FILE")}
                cmd = [*QA, "serve", "--replica", "--store", spec, "--port", str(port)]
                procs.append(subprocess.Popen(cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT))
                urls.append(f"http://127.0.0.1:{port}")
            try:
                for proc, url in zip(procs, urls):
                    deadline = time.monotonic() + 300
                    while True:
                        try:
                            with urllib.request.urlopen(f"{url}/v1/health", timeout=2):
                                break
                        except OSError:
                            if proc.poll() is not None or time.monotonic() > deadline:
                                raise RuntimeError(f"a replica did not start; see {tmp}") from None
                            time.sleep(0.5)
                rss_start = [_rss_mb(p.pid) for p in procs]
                same = None
                if args.archive:  # every archive question: the replica's first passage against the FAISS store's
                    faiss = Assistant.load(corpus=corpus, index=source, progress=False, refresh=False)
                    agree = []
                    for q in rows:
                        mine = faiss.ask(q.question, k=5, as_of=q.asked_on).hits
                        theirs = _ask_rest(urls[0], {"question": q.question, "as_of": q.asked_on, "k": 5})["hits"]
                        agree.append(
                            bool(mine)
                            and bool(theirs)
                            and (mine[0].passage.doc_id, mine[0].passage.char_start)
                            == (theirs[0]["passage"]["doc_id"], theirs[0]["passage"]["char_start"])
                        )
                    same = sum(agree) / len(agree)
                    print(f"same first passage as the FAISS store: {sum(agree)}/{len(agree)}")
                    del faiss
                for url in urls:  # warm up: first-call costs and each generation's tables
                    for q in questions:
                        _ask_rest(url, q)
                pids = {"replicas": [p.pid for p in procs], "milvus": [server.server.pid], "clients": [None]}

                def cpu() -> dict[str, float]:
                    return {k: sum(_cpu_seconds(pid) for pid in v) for k, v in pids.items()}

                before = cpu()
                single = _rest_users(urls[:1], questions, 1, "1 user, 1 replica")
                after = cpu()
                cpu_single = {k: 1000 * (after[k] - before[k]) / max(len(single.latencies), 1) for k in after}
                article = corpus / "zz_added" / "zebra-crossings.txt"
                article.parent.mkdir()
                article.write_text(NEW_ARTICLE, encoding="utf-8")
                added: dict = {}

                def add() -> None:
                    time.sleep(args.add_after)
                    cmd = [*QA, "add", str(article), "--corpus", str(corpus), "--index", str(tmp / "index")]
                    cmd += ["--store", spec]
                    t = time.perf_counter()
                    done = subprocess.run(cmd, capture_output=True, text=True)
                    added.update(seconds=time.perf_counter() - t, status=done.returncode, err=done.stderr[-500:])

                before = cpu()
                crowd = _rest_users(urls, questions, args.sessions, f"{args.sessions} users, {len(urls)} replicas", add)
                after = cpu()
                cpu_crowd = {k: 1000 * (after[k] - before[k]) / max(len(crowd.latencies), 1) for k in after}
                cited = []
                for url in urls:
                    answer = _ask_rest(url, {"question": "when will the zebra crossings in the old town return?"})
                    cited.append(answer["hits"][0]["passage"]["doc_id"].endswith("zebra-crossings.txt"))
                rss_end = [_rss_mb(p.pid) for p in procs]
            finally:
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    try:
                        proc.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
    lines = [
        "| scenario | questions | errors | p50 ms | p95 ms | max ms | mean ms | questions/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in (single, crowd):
        n = len(run.latencies)
        lines.append(
            f"| {run.name} | {n + len(run.errors)} | {len(run.errors)} | {1000 * run.percentile(50):.0f} "
            f"| {1000 * run.percentile(95):.0f} | {1000 * max(run.latencies, default=float('nan')):.0f} "
            f"| {1000 * statistics.fmean(run.latencies) if n else float('nan'):.0f} | {n / run.wall:.1f} |"
        )
        for error in run.errors[:5]:
            print(f"  error: {error}", file=sys.stderr)
    report = {
        "corpus": "news archive" if args.archive else str(args.corpus),
        "replicas": len(urls),
        "written_seconds": round(written, 1),
        "add": {k: (round(v, 1) if isinstance(v, float) else v) for k, v in added.items()},
        "cited_by_each_replica": cited,
        "same_first_passage_as_faiss": same,
        "p95_ratio": round(crowd.percentile(95) / single.percentile(95), 2),
        "cpu_ms_per_question_1_user": {k: round(v, 1) for k, v in cpu_single.items()},
        "cpu_ms_per_question_crowd": {k: round(v, 1) for k, v in cpu_crowd.items()},
        "note": "the crowd's questions include the qa add's commit on the server; clients = this process",
        "rss_mb_start": [round(r[0]) for r in rss_start],
        "rss_mb_end": [round(r[0]) for r in rss_end],
        "rss_mb_peak": [round(r[1]) for r in rss_end],
    }
    info = (
        f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}; the server, the replicas and the clients on this machine"
    )
    text = f"{info}\n\n" + "\n".join(lines) + "\n\n```\n" + json.dumps(report, indent=2) + "\n```\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 1 if (single.errors or crowd.errors or not all(cited) or added.get("status")) else 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for each concurrency and print (and optionally write) the table."""
    from qa.apps.webchat import DEFAULT_CONCURRENCY

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--questions-file", type=Path, default=QUESTIONS)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10, help="questions per session")
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[0 if DEFAULT_CONCURRENCY is None else DEFAULT_CONCURRENCY],
        help="queue default_concurrency_limit values to compare (0: no limit; default: the app's default)",
    )
    parser.add_argument("--out", type=Path, default=None, help="write the table (Markdown) here")
    parser.add_argument("--replicas", type=int, default=0, help="N stateless replicas on a real Milvus server")
    parser.add_argument("--archive", action="store_true", help="with --replicas: the news archive's index")
    parser.add_argument("--add-after", type=float, default=3.0, help="with --replicas: seconds before the qa add")
    args = parser.parse_args(argv)
    if args.replicas:
        return replicas(args)

    questions = [q.question for q in load_questions(args.questions_file)][: args.questions]
    load_before = os.getloadavg()[0]
    rows = [HEADER]
    failed = False
    with tempfile.TemporaryDirectory(prefix="qa-bench-load-") as tmp:
        for concurrency in args.concurrency:
            limit = concurrency or None
            log = Path(tmp) / f"server-{concurrency}.log"
            proc, url = start_server(corpus=args.corpus, index=Path(tmp) / "index", concurrency=limit, log=log)
            try:
                warm_up(url, questions)
                runs = [
                    _measured(single_user, url, questions, server_pid=proc.pid),
                    _measured(load, url, questions, args.sessions, server_pid=proc.pid),
                ]
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            for run in runs:
                rows.append(run.row(limit))
                print(rows[-1], flush=True)
                for error in run.errors[:5]:
                    print(f"  error: {error}", file=sys.stderr)
                failed |= bool(run.errors)
        engine = engine_only(args.corpus, Path(tmp) / "index", questions)
        engine.client_cpu = float("nan")
        engine.server_cpu = float("nan")
        rows.append(engine.row(None).replace("| none |", "| - |", 1))
        print(rows[-1], flush=True)
    table = "\n".join(rows)
    info = (
        f"{platform.node()}: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')}; load average "
        f"{load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end (other processes included)"
    )
    print(f"\n{info}\n\n{table}")
    if args.out:
        args.out.write_text(f"{info}\n\n{table}\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
