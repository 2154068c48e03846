"""Speaker attribution against quotes labelled by reading: precision and recall.

    python bench/bench_quotes.py

Label sets, each one JSON object per quoted sentence (``doc``, ``char_start``,
``char_end``, ``speaker``, ``direct``), labelled by readers who did not see the rules:

* ``tests/data/quotes.jsonl``: every quote of the five articles in ``corpus/``;
* ``bench/data/archive_quotes.jsonl``: every quote of a sample of the shared news archive's
  articles (offsets and a hash only: the texts stay in ``../shared``);
* ``bench/data/archive_quotes_2.jsonl``: a second sample, labelled after the rules had been
  changed by reading the first one's misses; its articles that are not in the first sample
  are reported apart, as the check no rule was written for;
* ``bench/data/archive_quotes_3.jsonl``: a third sample of 10 articles in none of the others,
  labelled while attribution v7 was being written from the first two samples' misses, and
  scored once v7 was committed: no rule has been written from it;
* ``bench/data/archive_quotes_4.jsonl``: a fourth sample of 10 more articles, labelled after
  v7 was committed, while the parser was tried; scored once, with no change made after.
  (Attribution v8 was then written from the misses of all four samples, which are therefore
  no longer unseen.)
* ``bench/data/archive_quotes_5.jsonl``: a fifth sample of 20 articles in none of the others,
  labelled by two readers while v8 was written, and scored once v8 was committed. Attribution
  v9 was then written from its misses too.
* ``bench/data/archive_quotes_6.jsonl``: a sixth sample of 20 more articles (6 of The Week's, 7
  of USA Today's, 7 of CNN's), labelled by two more readers while v9 was written, and scored
  once v9 was committed. Attribution v10 was then written from its misses too.
* ``bench/data/archive_quotes_7.jsonl``: a seventh sample of 20 more articles (6, 7 and 7 of the
  three outlets), labelled by two more readers while v10 was written, and scored once v10 was
  committed: no rule has been written from it. Every way of joining a trained tagger to the rules
  was then scored on it, so it is no longer unseen either.
* ``bench/data/archive_quotes_8.jsonl``: an eighth sample of 20 more articles (7 of CNN's, 7 of
  USA Today's, 6 of The Week's, drawn at random with seed 8 among articles of 300 to 1,400
  words in no other sample), labelled by two more readers by ``bench/data/LABELLING.md`` while
  the tagger's second round was built, and scored once that was committed.

The articles go through the same cleaning, sentence splitting and attribution as the index.
A labelled sentence is **found** when a sentence the system attributes overlaps it by half its
length or more; it is **right** when the speakers agree: they share a name word (surnames,
"TASS"), or, for unnamed speakers ("a senior Ukrainian official"), a content word. Precision is
right system attributions over all system attributions that overlap a labelled sentence or
none (a sentence attributed where the readers saw no speaker counts against it); recall is
right over labelled sentences. A possessive is its name ("NASA's website", NASA), and an
acronym is the name it abbreviates ("KFC", "Kentucky Fried Chicken"). Writes
``bench/out/quotes.json`` and prints a table.

The system is ``qa.attribute``: the rules alone by default, as the index stores them; with
``--model DIR`` a trained tagger joins them (``--combine fill|prefer|tagger``, ``--threshold``,
``--fill-threshold``; see :func:`qa.ingest.attribution.attribute`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.ingest.attribution import attribute  # noqa: E402
from qa.ingest.documents import load_document, load_metadata  # noqa: E402
from qa.ingest.quotes.kinds import CONFIDENT, KINDS, SPEECH  # noqa: E402
from qa.lexical import STOPWORDS  # noqa: E402

ARCHIVE = ROOT.parent / "shared" / "news-archive" / "corpus"
_TITLE_WORDS = frozenset(
    "president prime minister foreign defense defence secretary deputy spokesman spokeswoman spokesperson "
    "kremlin official officials senior former chief head aide adviser advisor analyst political ukrainian "
    "russian us u.s. american state department sen senator rep representative gov governor mr mrs ms dr".split()
)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def _words(name: str) -> set[str]:
    words = (re.sub(r"^\W+|\W+$", "", w) for w in _fold(name).replace("-", " ").split())
    return {w.removesuffix("’s").removesuffix("'s") for w in words} - {""}


def _acronym_of(short: str, long: str) -> bool:
    """Whether ``short`` is the initials of ``long`` ("KFC", "Kentucky Fried Chicken")."""
    initials = "".join(
        w.replace(".", "") if re.fullmatch(r"(?:[A-Z]\.)+", w) else w[0] for w in long.split() if w[:1].isupper()
    )  # "U.S. Geological Survey": USGS
    return bool(re.fullmatch(r"[A-Z]{2,6}", short)) and initials == short


def same_speaker(label: str, system: str) -> bool:
    """Whether two ways of naming a speaker are the same speaker (see the module docstring)."""
    short = [w.strip(".,()") for w in label.split() + system.split() if re.fullmatch(r"\(?[A-Z]{2,6}\)?", w)]
    if any(_acronym_of(s, label) or _acronym_of(s, system) for s in short):
        return True  # "KFC" and "Kentucky Fried Chicken"
    a, b = _words(label), _words(system)
    names_a = {w for w in a if w not in STOPWORDS and w not in _TITLE_WORDS}
    names_b = {w for w in b if w not in STOPWORDS and w not in _TITLE_WORDS}
    if names_a and names_b:
        return bool(names_a & names_b)
    return bool((a - STOPWORDS) & (b - STOPWORDS))


def system_quotes(
    folder: Path, doc_id: str, *, min_confidence: float = 0.0, kinds: tuple[str, ...] = KINDS, **options
) -> list[tuple[int, int, str]]:
    """(start, end, speaker) of every sentence the attribution gives a speaker, in ``doc_id``, with the
    names the quotes view gives them (a short form or a role resolved to the article's full name):
    ``qa.attribute`` of the article's text, with ``options`` (the tagger and how it is used)."""
    meta = load_metadata(folder).get(doc_id)
    doc = load_document(folder, doc_id, meta)
    found = attribute(doc.text, **options)
    return sorted(
        (a.char_start, a.char_end, a.speaker) for a in found if a.confidence >= min_confidence and a.kind in kinds
    )


def score(folder: Path, labels: list[dict], **options) -> dict:
    """Precision and recall of the attribution on ``labels`` (all from articles in ``folder``)."""
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for row in labels:
        by_doc[row["doc"]].append(row)
    found = right = attributed = attributed_right = 0
    direct = {True: [0, 0], False: [0, 0]}  # recall by kind: [right, labelled]
    misses: list[dict] = []
    for doc_id, rows in sorted(by_doc.items()):
        text = (folder / doc_id).read_text(encoding="utf-8")
        for row in rows:
            span = text[row["char_start"] : row["char_end"]]
            if "sha1" in row and hashlib.sha1(span.encode("utf-8")).hexdigest()[:12] != row["sha1"]:
                raise SystemExit(f"{doc_id}:{row['char_start']}: the label's hash does not match the article")
        quotes = system_quotes(folder, doc_id, **options)
        for row in rows:
            s, e = row["char_start"], row["char_end"]
            overlapping = [q for q in quotes if min(e, q[1]) - max(s, q[0]) >= (e - s) / 2]
            hit = any(same_speaker(row["speaker"], q[2]) for q in overlapping)
            found += bool(overlapping)
            right += hit
            direct[bool(row["direct"])][0] += hit
            direct[bool(row["direct"])][1] += 1
            if not hit:
                misses.append(
                    {"doc": doc_id, "char_start": s, "label": row["speaker"], "system": [q[2] for q in overlapping]}
                )
        for qs, qe, who in quotes:
            attributed += 1
            near = [r for r in rows if min(qe, r["char_end"]) - max(qs, r["char_start"]) > 0]
            attributed_right += any(same_speaker(r["speaker"], who) for r in near)
    n = len(labels)
    return {
        "articles": len(by_doc),
        "labelled": n,
        "attributed": attributed,
        "recall": right / n if n else 0.0,
        "precision": attributed_right / attributed if attributed else 0.0,
        "found (any speaker)": found / n if n else 0.0,
        "recall direct": direct[True][0] / direct[True][1] if direct[True][1] else None,
        "recall reported": direct[False][0] / direct[False][1] if direct[False][1] else None,
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--five", default=str(ROOT / "tests" / "data" / "quotes.jsonl"))
    parser.add_argument("--archive", default=str(ROOT / "bench" / "data" / "archive_quotes.jsonl"))
    parser.add_argument("--archive-2", default=str(ROOT / "bench" / "data" / "archive_quotes_2.jsonl"))
    parser.add_argument("--archive-3", default=str(ROOT / "bench" / "data" / "archive_quotes_3.jsonl"))
    parser.add_argument("--archive-4", default=str(ROOT / "bench" / "data" / "archive_quotes_4.jsonl"))
    parser.add_argument("--archive-5", default=str(ROOT / "bench" / "data" / "archive_quotes_5.jsonl"))
    parser.add_argument("--archive-6", default=str(ROOT / "bench" / "data" / "archive_quotes_6.jsonl"))
    parser.add_argument("--archive-7", default=str(ROOT / "bench" / "data" / "archive_quotes_7.jsonl"))
    parser.add_argument("--archive-8", default=str(ROOT / "bench" / "data" / "archive_quotes_8.jsonl"))
    parser.add_argument("--model", type=Path, help="a trained attribution tagger's folder (default: the rules alone)")
    parser.add_argument("--combine", default="vote", help="how the tagger's speakers join the rules' (qa.attribute)")
    parser.add_argument("--threshold", type=float, default=None, help="default: 0.8; with vote, the model's floor")
    parser.add_argument("--fill-threshold", type=float, default=None)
    parser.add_argument("--min-confidence", type=float, default=0.0, help="score only attributions this sure")
    parser.add_argument("--kinds", default=",".join(KINDS), help="score only attributions of these kinds")
    parser.add_argument("--shown", action="store_true", help="score what the quotes view shows by default")
    parser.add_argument("--only", help="score only the label sets whose name holds this")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "quotes.json")
    args = parser.parse_args()
    options: dict = {}
    if args.model:
        from qa.ingest.quotes.tagger import Tagger

        options = {
            "tagger": Tagger(args.model),
            "combine": args.combine,
            "threshold": args.threshold,
            "fill_threshold": args.fill_threshold,
        }
    options["min_confidence"] = CONFIDENT if args.shown else args.min_confidence
    options["kinds"] = SPEECH if args.shown else tuple(args.kinds.split(","))
    results = {}
    sets = {}
    for name, labels, folder in (
        ("five articles", args.five, ROOT / "corpus"),
        ("archive sample", args.archive, ARCHIVE),
        ("second archive sample", args.archive_2, ARCHIVE),
        ("third archive sample", args.archive_3, ARCHIVE),
        ("fourth archive sample", args.archive_4, ARCHIVE),
        ("fifth archive sample", args.archive_5, ARCHIVE),
        ("sixth archive sample", args.archive_6, ARCHIVE),
        ("seventh archive sample", args.archive_7, ARCHIVE),
        ("eighth archive sample (unseen)", args.archive_8, ARCHIVE),
    ):
        if not Path(labels).exists() or not folder.exists():
            print(f"{name}: {labels} or {folder} is missing; skipped")
            continue
        lines = Path(labels).read_text(encoding="utf-8").splitlines()
        sets[name] = (folder, [json.loads(line) for line in lines if line.strip()])
    if "archive sample" in sets and "second archive sample" in sets:
        first = {r["doc"] for r in sets["archive sample"][1]}
        rows = [r for r in sets["second archive sample"][1] if r["doc"] not in first]
        sets["second sample, articles not in the first"] = (ARCHIVE, rows)
    for name, (folder, rows) in sets.items():
        if args.only is None or args.only in name:
            results[name] = score(folder, rows, **options)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(
        "| labels | articles | labelled sentences | attributed by the system | precision | recall "
        "| recall, direct | recall, reported |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        fmt = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
        print(
            f"| {name} | {r['articles']} | {r['labelled']} | {r['attributed']} | {r['precision']:.3f} | "
            f"{r['recall']:.3f} | {fmt(r['recall direct'])} | {fmt(r['recall reported'])} |"
        )


if __name__ == "__main__":
    main()
