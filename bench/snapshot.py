"""What ingest makes of every article, written down to compare two versions of the code.

    python bench/snapshot.py write OUT.jsonl CORPUS_DIR [CORPUS_DIR ...]
    python bench/snapshot.py compare A.jsonl B.jsonl

``write`` records, per article: its passages (source spans and sentence spans), its quotes
(speaker, span, direct or not), the full names the quotes view resolves its speakers to, and a
hash of its sentence facts. ``compare`` says how many articles differ between two snapshots, in
which of these, and names the first few. A change meant to keep behaviour (a move, a rename, a
faster path) should compare equal on the five articles and the archive.

The project's modules are found by their last name (``documents``, ``passages``, ``facts``,
``speakers``) wherever the layout puts them, so the same script runs on an older checkout:
``PYTHONPATH=OLD_CHECKOUT python bench/snapshot.py write ...``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import pkgutil
import sys
from pathlib import Path

FIELDS = ("passages", "quotes", "names", "facts")


def _module(name: str):
    import qa

    for info in pkgutil.walk_packages(qa.__path__, "qa."):
        if info.name.rsplit(".", 1)[-1] == name:
            return importlib.import_module(info.name)
    raise ImportError(f"no module named {name} under qa/")


def write(out: Path, folders: list[Path]) -> int:
    documents, passages, facts, speakers = (_module(n) for n in ("documents", "passages", "facts", "speakers"))
    count = 0
    with open(out, "w", encoding="utf-8") as fh:
        for folder in folders:
            meta = documents.load_metadata(folder)
            for doc_id in sorted(documents.scan_corpus(folder)):
                doc = documents.load_document(folder, doc_id, meta.get(doc_id))
                cut = passages.make_passages(doc)
                sentence_facts = facts.SentenceFacts.of_article(cut)
                quotes = [(q.speaker, q.char_start, q.char_end, q.direct) for p in cut for q in p.quotes]
                text = "\n".join(p.text for p in cut)
                names = speakers.resolve_article({q[0] for q in quotes}, text, speakers.AliasTable())
                f = sentence_facts
                fact_repr = repr(
                    (
                        f.number.tolist(),
                        f.date.tolist(),
                        f.lead_in.tolist(),
                        f.colon.tolist(),
                        [[sorted(g) for g in groups] for groups in f.groups],
                        [sorted(c) for c in f.counted],
                        [sorted(s) for s in f.speakers],
                    )
                )
                row = {
                    "doc": f"{folder.name}/{doc_id}",
                    "passages": [[p.char_start, p.char_end, [list(s) for s in p.sentences]] for p in cut],
                    "quotes": [list(q) for q in quotes],
                    "names": sorted([k, v] for k, v in names.items()),
                    "facts": hashlib.sha256(fact_repr.encode("utf-8")).hexdigest(),
                }
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
    return count


def compare(a: Path, b: Path) -> dict:
    def rows(path: Path) -> dict[str, dict]:
        with open(path, encoding="utf-8") as fh:
            return {row["doc"]: row for row in map(json.loads, fh)}

    left, right = rows(a), rows(b)
    both = sorted(set(left) & set(right))
    differing = {f: [d for d in both if left[d][f] != right[d][f]] for f in FIELDS}
    return {
        "articles": len(both),
        "only_in_a": sorted(set(left) - set(right)),
        "only_in_b": sorted(set(right) - set(left)),
        "quotes": sum(len(left[d]["quotes"]) for d in both),
        "differing": {f: len(ds) for f, ds in differing.items()},
        "examples": {f: ds[:5] for f, ds in differing.items() if ds},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("out", type=Path)
    w.add_argument("folders", type=Path, nargs="+")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    if args.command == "write":
        print(f"{write(args.out, args.folders)} articles written to {args.out}", file=sys.stderr)
        return 0
    result = compare(args.a, args.b)
    print(json.dumps(result, indent=2))
    same = not result["only_in_a"] and not result["only_in_b"] and not any(result["differing"].values())
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
