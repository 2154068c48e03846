"""Wire copies: near-duplicate passages from several outlets become one hit that lists them all."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from qa import Assistant
from qa.apps.webchat import render_answer
from qa.search.copies import COPY_JACCARD, collapse, jaccard, shingles

SOURCE = "002_99214e3abbb71cf3.txt"
QUESTION = "how many prisoners of war were to be exchanged after the Istanbul talks?"


def test_shingles_and_jaccard():
    a, b, c = (np.array(t, dtype=np.int64) for t in ([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 7], [9, 8, 7, 6]))
    sa, sb, sc = shingles(a), shingles(b), shingles(c)
    assert len(sa) == 4 and len(sc) == 2
    assert jaccard(sa, sb) == 3 / 5
    assert jaccard(sa, sc) == 0.0
    assert jaccard(sa, frozenset()) == 0.0
    assert shingles(np.array([5, 6], dtype=np.int64)) == frozenset({(5, 6)})  # shorter than a shingle: one


def test_collapse_keeps_the_best_copy_and_fills_the_freed_places():
    sets = [
        frozenset({1, 2, 3, 4}),
        frozenset({1, 2, 3, 5}),
        frozenset({7, 8}),
        frozenset({9}),
        frozenset({1, 2, 3, 4}),
    ]
    groups = collapse([0, 1, 2, 4, 3], sets.__getitem__, 3)
    assert groups == [(0, (1, 4)), (2, ()), (3, ())]
    assert collapse([0, 1, 2], sets.__getitem__, 3, threshold=0.99) == [(0, ()), (1, ()), (2, ())]
    assert COPY_JACCARD == 0.5


def _with_a_wire_copy(corpus):
    """Add another outlet's lightly edited copy of the News.Az article, a day later."""
    text = (corpus / SOURCE).read_text(encoding="utf-8")
    edited = text.replace(" date 2025-05-20 + ↺ − 16 px", "Istanbul talks: cautious hopes").replace(
        "steps hailed by some experts", "moves praised by some analysts"
    )
    assert edited != text
    (corpus / "005_wire_copy.txt").write_text(edited, encoding="utf-8")
    with open(corpus / "metadata.toml", "a", encoding="utf-8") as fh:
        fh.write('\n["005_wire_copy.txt"]\noutlet = "Wire <b>Daily</b>"\ndate = "2025-05-21"\nkind = "report"\n')


def test_a_wire_copy_becomes_one_hit_that_lists_every_outlet(corpus_copy, tmp_path, fake_encoder):
    _with_a_wire_copy(corpus_copy)
    assistant = Assistant.load(corpus=corpus_copy, index=tmp_path / "index", encoder=fake_encoder, progress=False)
    answer = assistant.ask(QUESTION, k=5)
    copied = [h for h in answer.hits if h.copies]
    assert copied, "the two outlets' copies of the lead should be one hit"
    hit = copied[0]
    docs = {hit.passage.doc_id, *(c.doc_id for c in hit.copies)}
    assert {SOURCE, "005_wire_copy.txt"} <= docs
    assert {"News.Az", "Wire <b>Daily</b>"} <= set(answer.outlets)
    assert [f"{c.outlet}, {c.date}" for c in hit.copies] == [line.split(" — ")[0] for line in hit.carried_by]
    data = hit.to_dict()["copies"]
    assert {c["doc_id"] for c in data} == {c.doc_id for c in hit.copies}
    assert all(c["char_end"] > c["char_start"] for c in data)
    html = render_answer(answer)
    assert "Also carried by" in html and "Wire &lt;b&gt;Daily&lt;/b&gt;" in html and "<b>Daily" not in html
    # the freed place goes to another passage: turned off, the copy takes a place of its own
    assistant.retriever.config = replace(assistant.retriever.config, collapse_copies=0)
    separate = assistant.ask(QUESTION, k=5)
    assert not any(h.copies for h in separate.hits)
    rows = [(h.passage.doc_id, h.passage.char_start) for h in separate.hits]
    collapsed = [(h.passage.doc_id, h.passage.char_start) for h in answer.hits]
    assert rows != collapsed
    copy_keys = {(c.doc_id, c.char_start) for c in hit.copies}
    assert copy_keys & set(rows)
    assert not copy_keys & set(collapsed)
