"""Print an archive article's sentences with their offsets, for readers who label who said what.

    python bench/label_sentences.py 1495_walnut-recall-tied-to-e-coli-outbreak-in.txt

Each line is ``start end | sentence``: offsets into the article file, cut exactly as the index
cuts sentences. Labels (bench/data/archive_quotes_N.jsonl, see bench/data/LABELLING.md) use
these offsets. The attribution itself is never shown: readers label without seeing it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.ingest.documents import load_document, load_metadata  # noqa: E402
from qa.ingest.passages import Chunking, make_passages  # noqa: E402

ARCHIVE = ROOT.parent / "shared" / "news-archive" / "corpus"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("docs", nargs="+", help="article file names in the archive's corpus folder")
    parser.add_argument("--folder", type=Path, default=ARCHIVE)
    args = parser.parse_args()
    metadata = load_metadata(args.folder)
    for doc_id in args.docs:
        doc = load_document(args.folder, doc_id, metadata.get(doc_id))
        print(f"# {doc_id} ({doc.meta.outlet}): {doc.meta.title}")
        for passage in make_passages(doc, Chunking()):
            for start, end in passage.sentences:
                print(f"{start} {end} | {doc.text[start:end]}")
        print()


if __name__ == "__main__":
    main()
