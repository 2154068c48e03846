"""The quotes view: who is quoted, what they said, name variants, aliases, filters, and the CLI."""

from __future__ import annotations

import json

import pytest

from qa.answers.speakers import AliasTable, asked_matches, name_key, resolve_article
from qa.errors import EmptyQuestionError, FilterError, MetadataError
from qa.ingest.passages import Quote
from qa.ingest.quotes.kinds import CONFIDENT, KINDS, RULES_PRECISION, SPEECH

from .conftest import CORPUS, ROOT


def test_name_keys_fold_case_accents_and_titles():
    assert name_key("Erdoğan") == name_key("erdogan") == "erdogan"
    assert name_key("Kremlin spokesperson Dmitry Peskov") == "dmitry peskov"
    assert name_key("President Recep Tayyip Erdoğan") == "recep tayyip erdogan"


def test_an_article_resolves_short_forms_and_roles_to_its_full_names():
    text = (
        "Kremlin spokesperson Dmitry Peskov said talks would go on. Peskov added more. "
        "The talks were led by former culture minister Vladimir Medinsky. Joining Medinsky were others."
    )
    names = resolve_article({"Peskov", "Dmitry Peskov", "Medinsky", "Kremlin spokesman"}, text, AliasTable())
    assert names["Peskov"] == names["Dmitry Peskov"] == "Dmitry Peskov"
    assert names["Medinsky"] == "Vladimir Medinsky"  # "Joining Medinsky" opens a sentence: not a first name
    assert names["Kremlin spokesman"] == "Dmitry Peskov"
    aliases = AliasTable({"Volodymyr Zelensky": ["Zelenskyy", "Zelenskiy"]})
    assert resolve_article({"Zelenskyy"}, "", aliases) == {"Zelenskyy": "Volodymyr Zelensky"}
    assert asked_matches("zelenskiy", "Volodymyr Zelensky", aliases)
    assert asked_matches("Lavrov", "Sergey Lavrov", AliasTable()) and not asked_matches(
        "Lavrov", "Peskov", AliasTable()
    )


def test_speakers_lists_who_is_quoted_with_counts_and_outlets(fake_assistant):
    speakers = fake_assistant.speakers()
    top = speakers[0]
    assert top.name == "Valeriy Dymov" and top.outlets == ("News.Az",)
    assert {"Dymov", "Valeriy Dymov"} <= set(top.variants) and top.quotes > 50
    medinsky = next(s for s in speakers if "Medinsky" in s.name)
    assert medinsky.name == "Vladimir Medinsky" and medinsky.articles == 2  # "Medinsky" in one, full name in other
    assert [s.quotes for s in speakers] == sorted((s.quotes for s in speakers), reverse=True)
    only = fake_assistant.speakers(outlets=["The Moscow Times"])
    assert only and all(s.outlets == ("The Moscow Times",) for s in only)


def test_unnamed_sources_are_listed_only_when_asked_for(fake_assistant):
    named = fake_assistant.speakers()
    every = fake_assistant.speakers(unnamed=True)
    assert all(s.name.split()[-1][:1].isupper() for s in named)  # "Valeriy Dymov", not "Russian officials"
    unnamed = {s.name for s in every} - {s.name for s in named}
    assert any("official" in name for name in unnamed), unnamed  # "Russian officials" in The Moscow Times
    assert fake_assistant.quotes("Russian officials")  # still found when asked for by their wording


def test_quotes_by_a_speaker_newest_first_with_citations(fake_assistant):
    found = fake_assistant.quotes("Lavrov")
    assert len(found) == 2 and {q.speaker for q in found} == {"Sergey Lavrov"}
    text = (CORPUS / found[0].passage.doc_id).read_text(encoding="utf-8")
    for q in found:
        assert text[q.char_start : q.char_end] == q.text  # verbatim, in source offsets
        assert q.citation.endswith(f"chars {q.char_start}–{q.char_end}") and "opinion" in q.citation
    assert [q.char_start for q in found] == sorted(q.char_start for q in found)
    dated = fake_assistant.quotes("Zelensky")
    days = [q.passage.date for q in dated]
    assert days == sorted([d for d in days if d], reverse=True) + [d for d in days if not d]
    assert fake_assistant.quotes("Peskov")[0].speaker == "Dmitry Peskov"
    assert fake_assistant.quotes("Macron") == []


def test_quotes_about_something_are_ranked_by_it(fake_assistant):
    found = fake_assistant.quotes("Dymov", about="the blame lies with Biden")
    assert all(q.score is not None for q in found)
    assert "Biden" in found[0].text
    assert [q.score for q in found] == sorted((q.score for q in found), reverse=True)
    assert len(fake_assistant.quotes("Dymov", about="Biden", limit=3)) == 3


def test_alias_table_joins_spellings_and_bad_tables_are_named(fake_assistant, corpus_copy):
    (corpus_copy / "aliases.toml").write_text('["Volodymyr Zelensky"]\nvariants = ["Zelenskyy", "Zelenskiy"]\n')
    assert {q.speaker for q in fake_assistant.quotes("Zelenskyy")} == {"Volodymyr Zelensky"}
    (corpus_copy / "aliases.toml").write_text('["Volodymyr Zelensky"]\nvariants = "Zelenskyy"\n')
    with pytest.raises(MetadataError, match="variants = "):
        fake_assistant.speakers()
    (corpus_copy / "aliases.toml").write_text("[broken\n")
    with pytest.raises(MetadataError, match="not valid"):
        fake_assistant.quotes("Lavrov")


def test_speech_alone_and_confident_by_default_other_kinds_and_doubtful_ones_on_request(fake_assistant):
    every = fake_assistant.speakers(unnamed=True, kinds=KINDS, min_confidence=0)
    default = fake_assistant.speakers(unnamed=True)
    assert sum(s.quotes for s in default) < sum(s.quotes for s in every)
    rows, _ = fake_assistant._quote_index()
    kinds = {r.quote.kind for r in rows}
    assert {"direct", "reported"} <= kinds and kinds - set(SPEECH), kinds  # the five articles hold beliefs too
    shown_by_default = [r for r in rows if r.quote.kind in SPEECH and r.quote.confidence >= CONFIDENT]
    assert sum(s.quotes for s in default) == len(shown_by_default)
    assert sum(s.quotes for s in every) == len(rows)
    name = next(r.speaker for r in rows if r.quote.kind == "document")  # "according to a report by Andriy Yermak"
    found = fake_assistant.quotes(name, kinds=["document"])
    assert found and {q.attribution for q in found} == {"document"}
    assert all(q.attribution in SPEECH for q in fake_assistant.quotes(name))
    for q in fake_assistant.quotes("Dymov"):
        assert q.attribution in SPEECH and q.confidence >= CONFIDENT
        assert q.to_dict()["attribution"] == q.attribution
    with pytest.raises(FilterError, match=r"unknown kind of quote 'speech'.*direct, reported"):
        fake_assistant.quotes("Dymov", kinds=["speech"])


def test_a_quote_stored_before_kinds_reads_as_the_rules_speech():
    old = Quote.from_row(["Sergey Lavrov", 10, 60, False])
    assert (old.kind, old.confidence, old.basis) == ("reported", RULES_PRECISION["reported"], "rules")
    new = Quote.of_rules("Lavrov", 0, 38, "Lavrov believes the talks will fail.")
    assert Quote.from_row(json.loads(json.dumps(new.to_row()))) == new and new.kind == "belief"


def test_quotes_input_errors(fake_assistant):
    with pytest.raises(EmptyQuestionError, match="name a speaker"):
        fake_assistant.quotes("  ")
    with pytest.raises(FilterError, match="YYYY-MM-DD"):
        fake_assistant.quotes("Lavrov", date_from="May 2025")


def test_labelled_quotes_lie_in_their_articles():
    rows = [json.loads(line) for line in (ROOT / "tests" / "data" / "quotes.jsonl").read_text().splitlines() if line]
    assert len(rows) >= 100 and {r["doc"] for r in rows} == {p.name for p in CORPUS.glob("*.txt")}
    for r in rows:
        text = (CORPUS / r["doc"]).read_text(encoding="utf-8")
        assert text[r["char_start"] : r["char_end"]] == r["text"], r
        assert r["speaker"].strip() and isinstance(r["direct"], bool)


@pytest.mark.model
def test_qa_quotes_command(tmp_path):
    import subprocess
    import sys

    def qa(*args):
        cmd = [sys.executable, "-m", "qa.apps.cli", "quotes", *args, "--index", str(tmp_path / "index")]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)

    data = json.loads(qa("--speaker", "Lavrov", "--json").stdout)
    assert len(data) == 2 and data[0]["speaker"] == "Sergey Lavrov"
    assert {"text", "citation", "outlet", "title", "date", "kind", "char_start", "char_end"} <= data[0].keys()
    about = json.loads(qa("--speaker", "Dymov", "--about", "Trump blames Biden", "--limit", "2", "--json").stdout)
    assert len(about) == 2 and about[0]["score"] >= about[1]["score"]
    listed = qa("--limit", "2").stdout
    assert listed.startswith("Valeriy Dymov:") and "quotes in" in listed
    assert "Russian officials:" not in qa().stdout and "Russian officials:" in qa("--unnamed").stdout
    assert "No quote by Macron" in qa("--speaker", "Macron").stdout
    assert "No quote by Yermak" in qa("--speaker", "Yermak").stdout  # his report is a document, not speech
    assert "Andriy Yermak reports, in a document or data:" in qa("--speaker", "Yermak", "--kind", "document").stdout
    assert (
        qa("--speaker", "Yermak", "--all-kinds", "--doubtful", "--json").stdout.count('"attribution": "document"') == 1
    )
    assert "invalid choice: 'speech'" in qa("--speaker", "Yermak", "--kind", "speech").stderr


def test_what_did_x_say_answers_from_x_s_quotes_first(fake_assistant):
    from qa.apps.webchat import render_answer

    answer = fake_assistant.ask("what did Lavrov say about the meeting with Zelensky?", k=5)
    spoken = [any("Lavrov" in s for s in h.speakers) for h in answer.hits]
    assert spoken[0] and spoken == sorted(spoken, reverse=True)  # Lavrov's quotes, then the rest
    fake_assistant.quotes_first = False
    plain = fake_assistant.ask("what did Lavrov say about the meeting with Zelensky?", k=5)
    fake_assistant.quotes_first = True
    assert {h.passage.char_start for h in plain.hits} | {h.passage.char_start for h in answer.hits}
    html = render_answer(answer)
    assert 'class="qa-said"><strong>' in html and "Lavrov said:" in html
    # a question that names nobody keeps the full score's order
    assert fake_assistant.ask("how many prisoners were exchanged?", k=5).hits[0].signals.get("quote") is None


def test_quotes_first_reads_only_the_hits_articles_and_resolves_speakers_as_the_quotes_view(fake_assistant):
    """A "what did X say" question reads the quotes of its hits' articles only (never every quote
    in the index, which at a million passages took gigabytes), and resolves their speakers as
    the whole-index quotes view does."""
    assistant = fake_assistant
    question = "what did Lavrov say about the meeting with Zelensky?"
    expected = assistant.ask(question, k=5)
    store = assistant.store
    whole = store.quoted

    def quoted(**only):
        assert only, "ask() read every quote of the index"
        return whole(**only)

    assistant._hit_quotes_cache, assistant._quotes_cache = (None, {}), None
    store.quoted = quoted
    try:
        again = assistant.ask(question, k=5)
    finally:
        del store.quoted
    assert [(h.passage.doc_id, h.highlight) for h in again.hits] == [
        (h.passage.doc_id, h.highlight) for h in expected.hits
    ]
    rows, _ = assistant._quote_index()
    hits = {(h.passage.doc_id, h.passage.char_start) for h in again.hits}
    pids = [int(i) for i, p in zip(store.passages.ids, store.passages) if (p.doc_id, p.char_start) in hits]
    per_article = assistant._hit_quotes(pids, assistant.aliases)
    by_whole = {(r.pid, r.quote.char_start): r.speaker for r in rows if r.pid in set(pids)}
    assert per_article and {(r.pid, r.quote.char_start): r.speaker for r in per_article} == by_whole


@pytest.mark.parametrize(
    "name, text",
    [
        ("Medinsky", "Talks went on, said Vladimir Medinsky. Later Medinsky left; Russia's Vladimir Medinsky spoke."),
        ("Cheney", "Rep. Liz Cheney\nCheney said it was over. Dick Cheney agreed, and Cheney Cheney smiled."),
        ("U.S.", "The Nebraska U.S. Senator and Iowa U.S.-based groups met U.S. officials."),
        ("Brown", "Antonio Brown, Brown and the Brownies: said Antonio  Brown at Browning."),
        ("Oreo", "Most Oreo fans, Most Oreos, the Oreo cookie and Oreo Oreo."),
        ("", "Nothing to find here."),
    ],
)
def test_the_word_before_a_name_is_found_as_the_pair_pattern_finds_it(name, text):
    """The quick search for the given name before a surname finds what the regular expression
    over the whole text found (it was checked on all 7,070 such names of the archive too)."""
    import re

    from qa.ingest.names import _words_before

    pattern = rf"(?<=[\w,;:’'\-] )([A-Z][\w’'\-]+)\s+{re.escape(name)}\b"
    expected = [m.group(1) for m in re.finditer(pattern, text)] if name else []
    assert _words_before(name, text) == expected
