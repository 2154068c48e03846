"""Attribution on PolNeAR's dev split, scored as ``../shared/polnear/score.py`` scores it, system by system.

    python bench/bench_polnear.py [--systems rules,tagger,fill,prefer] [--thresholds 0.6,0.8] [--model DIR]

The units (CoreNLP sentences), the gold classes and the speaker matching are score.py's own
(imported from ``../shared/polnear/score.py``): the lenient figures for ``rules`` equal its
``project [lenient]``. Besides precision and recall, each system's precision is given by the kind
it gives its attributions (direct, reported, other; :mod:`qa.ingest.attribution`), and by
confidence band, which is what the confidence threshold is chosen from (dev, never the archive
samples). The dev split's texts are read from ``../shared``; nothing is copied.

    python bench/bench_polnear.py --calibrate --model DIR [--floor 0.5]

measures, for a trained tagger voting with the rules (``combine="vote"``), how often each case of
the vote is right on dev (:data:`qa.ingest.attribution.VOTE_CASES`), and writes that table into
the model's ``config.json`` as the confidence of each case (``make train-attribution`` runs it).
A case seen fewer than :data:`MIN_CASE` times takes the precision of all the votes of its basis.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POLNEAR = ROOT.parent / "shared" / "polnear"

from qa.ingest.quotes.kinds import CONFIDENT, KINDS, SPEECH  # noqa: E402


def _score_module():
    spec = importlib.util.spec_from_file_location("polnear_score", POLNEAR / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gold(sc, split: str = "dev", n: int = 80, seed: int = 20161108) -> tuple[list[dict], dict[str, str]]:
    """score.py's units of the split's sample, and the article texts."""
    meta = sc.read_metadata(POLNEAR)
    units, texts = [], {}
    for name in sc.choose(POLNEAR, split, n, seed):
        text = (POLNEAR / split / "text" / f"{name}.txt").read_text(encoding="utf-8")
        xml = POLNEAR / split / "corenlp" / f"{name}.txt.xml"
        if not xml.exists():
            continue
        texts[name] = text
        atts = sc.parse_ann(sc.annotation_file(POLNEAR, split, name, meta), text)
        sents, toks, chains = sc.parse_corenlp(xml)
        units += sc.gold_units(name, text, atts, sents, toks, chains)
    return units, texts


def evaluate(sc, units: list[dict], said: dict[tuple, tuple[str, str, float]]) -> dict:
    """score.py's lenient figures, plus precision by the system's kind and by confidence band."""
    plain = {key: who for key, (who, _, _) in said.items()}
    out = {"lenient": sc.score(units, plain, "lenient")}
    by_kind: Counter = Counter()
    by_band: Counter = Counter()
    for u in units:
        found = said.get((u["doc"], u["start"], u["end"]))
        if found is None or u["class"] not in ("SOURCED", "NONE"):
            continue
        who, kind, confidence = found
        ok = u["class"] == "SOURCED" and sc.matches(who, u, "lenient")
        band = f"{min(int(confidence * 10), 9) / 10:.1f}"
        by_kind[(kind, "n")] += 1
        by_kind[(kind, "right")] += ok
        by_band[(band, "n")] += 1
        by_band[(band, "right")] += ok
    out["precision_by_kind"] = {
        k: {"n": by_kind[(k, "n")], "precision": round(by_kind[(k, "right")] / by_kind[(k, "n")], 3)}
        for k in KINDS
        if by_kind[(k, "n")]
    }
    out["precision_by_confidence"] = {
        b: {"n": by_band[(b, "n")], "precision": round(by_band[(b, "right")] / by_band[(b, "n")], 3)}
        for b in sorted({b for b, _ in by_band})
    }
    return out


def attribute_all(texts: dict[str, str], system) -> tuple[dict[str, list], float]:
    """Each article's attributions by ``system`` (a function from a text to attributions), and the
    seconds it took an article."""
    started = time.perf_counter()
    found = {name: system(text) for name, text in texts.items()}
    return found, (time.perf_counter() - started) / max(1, len(texts))


def judged(sc, units, found: dict[str, list], keep=lambda a: True) -> dict[tuple, tuple]:
    """score.py's assignment of the kept attributions to its units: (doc, start, end) -> (speaker,
    the attribution that gave it)."""
    said = {}
    for name, attributions in found.items():
        mine = [u for u in units if u["doc"] == name]
        kept = [a for a in attributions if keep(a)]
        for (start, end), who in sc.assign(mine, [(a.char_start, a.char_end, a.speaker) for a in kept]).items():
            said[(name, start, end)] = (
                who,
                next(a for a in kept if a.speaker == who and a.char_start < end and a.char_end > start),
            )
    return said


def run(sc, units, texts, system) -> tuple[dict, float]:
    """Score one system (a function from an article's text to attributions): every attribution,
    and (``"shown"``) what the quotes view shows by default, from one run of it."""
    found, seconds = attribute_all(texts, system)
    figures = evaluate(sc, units, {k: (w, a.kind, a.confidence) for k, (w, a) in judged(sc, units, found).items()})
    shown = judged(sc, units, found, keep=lambda a: a.kind in SPEECH and a.confidence >= CONFIDENT)
    figures["shown"] = sc.score(units, {k: w for k, (w, _) in shown.items()}, "lenient")
    return figures, seconds


#: The fewest votes a case needs for its own precision (else its basis's, pooled).
MIN_CASE = 20


def calibrate(sc, units, texts, tagger, *, floor: float) -> dict[str, dict]:
    """Per case of the vote: how many votes, and how often right (score.py, lenient)."""
    import qa
    from qa.ingest.attribution import VOTE_CASES

    tagger.confidence = {case: float(i + 1) for i, case in enumerate(VOTE_CASES)}  # each case's own mark
    case_of = {v: k for k, v in tagger.confidence.items()}
    found, _ = attribute_all(texts, lambda text: qa.attribute(text, tagger=tagger, combine="vote", threshold=floor))
    said = {k: (who, case_of[a.confidence]) for k, (who, a) in judged(sc, units, found).items()}
    tally: Counter = Counter()
    for u in units:
        found = said.get((u["doc"], u["start"], u["end"]))
        if found is None or u["class"] not in ("SOURCED", "NONE"):
            continue
        who, case = found
        ok = u["class"] == "SOURCED" and sc.matches(who, u, "lenient")
        for key in {case, case.split()[0]}:
            tally[(key, "n")] += 1
            tally[(key, "right")] += ok
    table = {}
    for case in VOTE_CASES:
        own = tally[(case, "n")] >= MIN_CASE
        key = case if own else case.split()[0]
        n, right = tally[(key, "n")], tally[(key, "right")]
        table[case] = {"n": tally[(case, "n")], "precision": round(right / n, 3) if n else 0.0, "pooled": not own}
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", default="rules", help="rules, tagger, fill, prefer (comma-separated)")
    parser.add_argument("--model", type=Path, default=ROOT / "build" / "attribution", help="a trained tagger's folder")
    parser.add_argument("--thresholds", default="0.8", help="confidence thresholds to try (comma-separated)")
    parser.add_argument("--fill-threshold", type=float, default=None, help="with prefer: fill from the tagger at this")
    parser.add_argument("--contents", action="store_true", help="a tagger's attribution covers its content spans too")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "polnear.json")
    parser.add_argument("--calibrate", action="store_true", help="write the model's vote confidence table")
    parser.add_argument("--encode", action="store_true", help="also time encoding the articles' passages")
    parser.add_argument("--floor", type=float, default=0.5, help="with --calibrate: the tagger's least confidence")
    args = parser.parse_args(argv)
    import qa

    sc = _score_module()
    units, texts = gold(sc)
    if args.calibrate:
        from qa.ingest.quotes.tagger import CONFIG, Tagger

        table = calibrate(sc, units, texts, Tagger(args.model), floor=args.floor)
        for case, row in table.items():
            print(f"{case}: {row['n']} votes, right {row['precision']}{' (pooled)' if row['pooled'] else ''}")
        config = json.loads((args.model / CONFIG).read_text(encoding="utf-8"))
        config["confidence"] = {case: row["precision"] for case, row in table.items()}
        config["calibration"] = {"data": "PolNeAR dev (score.py, lenient)", "floor": args.floor, "cases": table}
        (args.model / CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        metrics = args.model / "metrics.json"
        if metrics.exists():  # the model card, with the confidence of each case
            from qa.ingest.quotes.training import CARD, model_card

            figures = json.loads(metrics.read_text(encoding="utf-8"))
            card = model_card(figures, calibration=config["calibration"])
            (args.model / CARD).write_text(card, encoding="utf-8")
        print(f"wrote the confidence table into {args.model / CONFIG}")
        return 0
    tagger = None
    if args.systems != "rules":
        from qa.ingest.quotes.tagger import Tagger

        tagger = Tagger(args.model)
    results = {}
    for system in args.systems.split(","):
        for threshold in [0.0] if system == "rules" else [float(t) for t in args.thresholds.split(",")]:
            name = system if system == "rules" else f"{system} @ {threshold}"
            options: dict = {}
            if system != "rules":
                options = {"tagger": tagger, "combine": system, "threshold": threshold, "contents": args.contents}
                options["fill_threshold"] = args.fill_threshold

            def attribute(text, options=options):
                return qa.attribute(text, **options)

            figures, per_article = run(sc, units, texts, attribute)
            figures["seconds_per_article"] = round(per_article, 4)
            results[name] = figures
            lenient = figures["lenient"]
            print(
                f"{name}: precision {lenient['precision']} recall {lenient['recall']} "
                f"(direct {lenient['recall_direct']}, say {lenient['recall_indirect_say_cue']}, "
                f"other {lenient['recall_other_cues']}); {per_article * 1000:.1f} ms an article"
            )
            shown = figures["shown"]
            print(
                f"  shown by default (speech, confidence >= {CONFIDENT}): precision {shown['precision']} "
                f"recall {shown['recall']} (direct {shown['recall_direct']}, say {shown['recall_indirect_say_cue']})"
            )
            print("  precision by kind:", json.dumps(figures["precision_by_kind"]))
            print("  precision by confidence:", json.dumps(figures["precision_by_confidence"]))
    if args.encode:
        results["encode"] = encode_time(texts)
        print(f"encoding the articles' passages: {results['encode']['ms_per_article']} ms an article")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def encode_time(texts: dict[str, str]) -> dict:
    """What encoding the dev articles' passages takes, as ingest encodes them (the default model),
    to set the attribution time beside."""
    from embeddings import encode_passages, load_encoder
    from qa.ingest.documents import document_from_text
    from qa.ingest.passages import make_passages

    encoder = load_encoder()
    passages = [p for text in texts.values() for p in make_passages(document_from_text(text))]
    spans = [[(a - p.char_start, b - p.char_start) for a, b in p.sentences] for p in passages]
    encode_passages(encoder, [p.text for p in passages[:16]], spans[:16])  # warm up
    started = time.perf_counter()
    encode_passages(encoder, [p.text for p in passages], spans)
    seconds = time.perf_counter() - started
    return {"passages": len(passages), "ms_per_article": round(1000 * seconds / len(texts), 1)}


if __name__ == "__main__":
    sys.exit(main())
