"""The web chat: rendering of answers and articles as escaped HTML, ``respond``, and the Gradio app.

Everything that comes from the corpus (passage and article text, titles, outlets, file
names, URLs) is untrusted web content: it is passed through :func:`html.escape` before it
becomes part of the HTML shown, and markup is built only around escaped pieces.

Typical use:

    >>> from qa import Assistant
    >>> from qa.apps.server import build_server, start
    >>> assistant = Assistant.load(corpus="corpus", index="index")  # doctest: +SKIP
    >>> start(build_server(assistant), host="127.0.0.1", port=7860)  # doctest: +SKIP

``ui.py`` and ``qa serve`` call :func:`qa.apps.server.serve`, which does both, with the REST API
(:mod:`qa.apps.api`) beside the chat.
"""

from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from ..answers.answer import Answer, Hit
from ..answers.speakers import Quoted
from ..errors import QAError
from ..ingest.quotes.kinds import CONFIDENT, KINDS, SPEECH
from ..store.records import KeptText

if TYPE_CHECKING:
    import gradio as gr
    from fastapi import FastAPI

    from ..assistant import Article, Assistant

__all__ = [
    "NO_OUTLET",
    "article_ref",
    "build_app",
    "mount",
    "open_article",
    "parse_ref",
    "render_answer",
    "render_article",
    "render_error",
    "render_hit",
    "render_passage",
    "respond",
]

log = logging.getLogger(__name__)

# Before gradio loads (lazily): no telemetry. (Thread settings for torch and FAISS are made in
# ``embeddings``.)
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

#: How an article without an outlet is shown, and the outlet-filter choice that selects such articles.
NO_OUTLET = "outlet not stated"
#: Prefix of the citation links; the page script turns a click on one into an article view.
REF_PREFIX = "#qa-article="
#: Default number of passages per reply, and the most the slider offers.
DEFAULT_K = 5
MAX_K = 10
#: How many questions are answered at the same time by default: twice the CPU cores (see :func:`mount`).
DEFAULT_CONCURRENCY = min(16, 2 * (os.cpu_count() or 1))

_NEWLINES = re.compile(r"\r\n|\r|\n|\u2028|\u2029")

NOT_ANSWERABLE = "The corpus does not answer this question."
CLOSEST = "The closest passages are below; they do not answer it."
NO_PASSAGE = "No passage found."
ARTICLE_PLACEHOLDER = "Click a citation in a reply to read the whole article here, with the cited passage highlighted."


# ---------------------------------------------------------------------- escaping helpers


def _esc(text: str) -> str:
    """Escape untrusted text for HTML content and attributes; line breaks become ``<br>``.

    The result holds no newline, so a reply stays one raw HTML block for the chat's
    Markdown renderer (a blank line would end the block).
    """
    return _NEWLINES.sub("<br>", html.escape(text, quote=True))


def _outlet(name: str) -> str:
    return name.strip() or NO_OUTLET


# ---------------------------------------------------------------------- citations


def article_ref(doc_id: str, passage: tuple[int, int], highlight: tuple[int, int]) -> str:
    """The reference a citation link carries: the article, the cited passage and the highlighted sentence.

    Args:
        doc_id: the article's file name.
        passage: ``(start, end)`` of the passage in the article's text.
        highlight: ``(start, end)`` of the answering sentence.

    Returns:
        A string made of URL-safe characters, e.g. ``002_x.txt:120:640:300:410``.
    """
    return ":".join([quote(doc_id, safe=""), *(str(int(n)) for n in (*passage, *highlight))])


def parse_ref(ref: str) -> tuple[str, tuple[int, int], tuple[int, int]]:
    """Inverse of :func:`article_ref`.

    Raises:
        ValueError: ``ref`` is not a citation reference.
    """
    ref = ref.strip()
    if ref.startswith(REF_PREFIX):
        ref = ref[len(REF_PREFIX) :]
    parts = ref.split(":")
    if len(parts) != 5 or not parts[0]:
        raise ValueError(f"not a citation reference: {ref[:80]!r}")
    try:
        a, b, c, d = (int(p) for p in parts[1:])
    except ValueError as exc:
        raise ValueError(f"not a citation reference: {ref[:80]!r}") from exc
    return unquote(parts[0]), (a, b), (c, d)


# ---------------------------------------------------------------------- replies


def render_passage(hit: Hit) -> str:
    """The passage of ``hit``, verbatim and escaped, with its answering sentence in ``<mark>``."""
    p = hit.passage
    start = min(max(hit.highlight[0] - p.char_start, 0), len(p.text))
    end = min(max(hit.highlight[1] - p.char_start, start), len(p.text))
    return (
        f'<blockquote class="qa-passage">{_esc(p.text[:start])}'
        f'<mark class="qa-hl">{_esc(p.text[start:end])}</mark>{_esc(p.text[end:])}</blockquote>'
    )


def render_hit(hit: Hit, origin: KeptText | None = None) -> str:
    """One passage of a reply: its numbered citation (a link that opens the article), where the
    article came from when it came from a source (``origin``: the source, the fetch date), and the
    passage."""
    p = hit.passage
    ref = article_ref(p.doc_id, (p.char_start, p.char_end), hit.highlight)
    href = _esc(REF_PREFIX + ref)
    link = f'<a class="qa-cite" href="{href}" title="Open the whole article">{_esc(hit.reference)}</a>'
    said = f'<span class="qa-speaker">· said by {_esc(", ".join(hit.speakers))}</span> ' if hit.speakers else ""
    if hit.passage.kind == "opinion":
        said = '<span class="qa-kind qa-opinion">opinion piece</span> ' + said
    return (
        f'<div class="qa-hit"><p class="qa-citation">{link} {said}'
        f'<span class="qa-score">score {hit.score:.3f}</span>{_origin(origin)}</p>'
        f"{_said(hit)}{render_passage(hit)}{render_copies(hit)}</div>"
    )


def _origin(origin: KeptText | None) -> str:
    """`` · from SOURCE, fetched DAY`` for an article that came from a source."""
    return "" if origin is None else f' <span class="qa-origin">· {_origin_text(origin)}</span>'


def _origin_text(origin: KeptText) -> str:
    day = origin.fetched[:10] or "on an unknown day"
    by = f", by {_esc(origin.author)}" if origin.author else ""
    return (
        f"from <strong>{_esc(origin.source)}</strong>, fetched "
        f'<time datetime="{_esc(origin.fetched)}">{_esc(day)}</time>{by}'
    )


def _said(hit: Hit) -> str:
    """ "X said:" above a passage whose highlighted sentence is X's words."""
    if not hit.speakers:
        return ""
    return f'<p class="qa-said"><strong>{_esc(" and ".join(hit.speakers))} said:</strong></p>'


def render_copies(hit: Hit) -> str:
    """ "Also carried by" and a link per near-copy of the passage (other outlets' copies of the story)."""
    if not hit.copies:
        return ""
    links = []
    for copy, label in zip(hit.copies, hit.carried_by):
        ref = article_ref(copy.doc_id, (copy.char_start, copy.char_end), (copy.char_start, copy.char_end))
        links.append(
            f'<a class="qa-cite qa-copy" href="{_esc(REF_PREFIX + ref)}" title="{_esc(copy.title or "untitled")}">'
            f"{_esc(label)}</a>"
        )
    return f'<p class="qa-copies">Also carried by: {"; ".join(links)}</p>'


def outlets_line(answer: Answer) -> str | None:
    """``Sources from 3 outlets: A, B, outlet not stated`` when the passages come from several outlets."""
    names = list(dict.fromkeys(_outlet(outlet) for outlet in answer.outlets))
    if len(names) < 2:
        return None
    return f"Sources from {len(names)} outlets: {', '.join(names)}"


def render_outlets(answer: Answer) -> str:
    """The passages grouped by outlet, each with its rank, kind and date (opinion pieces marked),
    when they come from several outlets."""
    groups = answer.by_outlet()
    if len(groups) < 2:
        return ""
    items = []
    for outlet, hits in groups:
        cited = []
        for hit in hits:
            p = hit.passage
            facts = ", ".join(f for f in (p.kind, p.date or "undated") if f)
            mark = ' class="qa-opinion"' if p.kind == "opinion" else ""
            cited.append(f"<span{mark}>[{hit.rank}] {_esc(facts)}</span>")
        items.append(f"<li><strong>{_esc(_outlet(outlet))}</strong>: {'; '.join(cited)}</li>")
    return f'<ul class="qa-by-outlet">{"".join(items)}</ul>'


def render_disagreements(answer: Answer) -> str:
    """ "Sources differ" and, for each thing they differ on, who says what (each with its rank)."""
    if not answer.disagreements:
        return ""
    items = "".join(f"<li>{_esc(d.describe())}</li>" for d in answer.disagreements)
    return f'<div class="qa-differ"><p><strong>Sources differ</strong></p><ul>{items}</ul></div>'


def render_answer(answer: Answer, origins: Mapping[str, KeptText] | None = None) -> str:
    """The reply to one question as one block of HTML; every piece of corpus text in it is escaped.

    The reply says first when the corpus does not answer (the closest passages follow that
    statement), then the notes (e.g. a filter that matched nothing), the outlets of the
    sources when there are several, and the passages, each with a numbered citation and, for an
    article from a source (``origins``, by article id), the source and fetch date.
    """
    origins = origins or {}
    parts = ['<div class="qa-reply">']
    if not answer.hits:
        if not answer.notes:
            parts.append(f'<p class="qa-status qa-none"><strong>{NO_PASSAGE}</strong></p>')
    elif not answer.answerable:
        parts.append(f'<p class="qa-status qa-unanswerable"><strong>{NOT_ANSWERABLE}</strong> {CLOSEST}</p>')
    parts.extend(f'<p class="qa-note">Note: {_esc(note)}</p>' for note in answer.notes)
    if answer.query != answer.question:
        parts.append(f'<p class="qa-query">Searched as: <em>{_esc(answer.query)}</em></p>')
    parts.append(render_disagreements(answer))
    line = outlets_line(answer)
    if line:
        parts.append(f'<p class="qa-outlets">{_esc(line)}</p>{render_outlets(answer)}')
    parts.extend(render_hit(hit, origins.get(hit.passage.doc_id)) for hit in answer.hits)
    parts.append("</div>")
    return "".join(parts)


def render_quotes(speaker: str, quotes: Sequence[Quoted]) -> str:
    """A speaker's quotes as escaped HTML: "X said:" and the quote highlighted, each with a citation
    link that opens its article (quote text is untrusted, as article text is)."""
    if not quotes:
        return (
            f'<div class="qa-quotes"><p class="qa-status">No quote by {_esc(speaker)} in the index; '
            "pick a name from the list.</p></div>"
        )
    counted = f"{len(quotes)} quote{'' if len(quotes) == 1 else 's'}"
    parts = [f'<div class="qa-quotes"><p class="qa-status">{counted} by {_esc(quotes[0].speaker)}</p>']
    for q in quotes:
        p = q.passage
        ref = article_ref(p.doc_id, (p.char_start, p.char_end), (q.char_start, q.char_end))
        kind = ' <span class="qa-kind qa-opinion">opinion piece</span>' if p.kind == "opinion" else ""
        match = f' <span class="qa-score">match {q.score:.3f}</span>' if q.score is not None else ""
        parts.append(
            f'<div class="qa-quote"><p class="qa-citation"><a class="qa-cite" href="{_esc(REF_PREFIX + ref)}" '
            f'title="Open the whole article">{_esc(q.citation)}</a>{kind}{match}</p>'
            f'<blockquote class="qa-passage"><strong>{_esc(q.label)}:'
            f'</strong> <mark class="qa-hl">{_esc(q.text)}</mark></blockquote></div>'
        )
    parts.append("</div>")
    return "".join(parts)


def show_quotes(
    assistant: Assistant,
    speaker: str | None,
    about: str | None = None,
    *,
    outlets: str | Iterable[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    kinds: Iterable[str] | None = None,
    doubtful: bool = False,
    limit: int = 50,
) -> str:
    """A speaker's quotes (best first for ``about``, newest first without) as HTML; errors become a message.

    ``kinds``: the kinds of attribution shown (None or empty: speech); ``doubtful``: also speakers
    named with a confidence under :data:`~qa.ingest.quotes.kinds.CONFIDENT`."""
    try:
        found = assistant.quotes(
            speaker or "",
            _blank(about),
            outlets=_outlet_filter(outlets),
            date_from=_blank(date_from),
            date_to=_blank(date_to),
            kinds=list(kinds) if kinds else None,
            min_confidence=0.0 if doubtful else None,
            limit=limit,
        )
    except (QAError, ValueError) as exc:
        return render_error(exc)
    return render_quotes(speaker or "", found)


def render_error(exc: BaseException) -> str:
    """A library error as a one-line reply (escaped), never a traceback."""
    return f'<div class="qa-reply"><p class="qa-error"><strong>Error:</strong> {_esc(str(exc))}</p></div>'


# ---------------------------------------------------------------------- article view


def render_article(
    article: Article, *, passage: tuple[int, int] | None = None, highlight: tuple[int, int] | None = None
) -> str:
    """The whole article as escaped HTML, with the cited passage and its answering sentence highlighted.

    Args:
        article: from :meth:`Assistant.article`.
        passage: ``(start, end)`` of the cited passage in ``article.text`` (shaded).
        highlight: ``(start, end)`` of the answering sentence (in ``<mark>``).
    """
    meta, text = article.meta, article.text
    n = len(text)
    ps, pe = passage if passage else (0, 0)
    hs, he = highlight if highlight else (ps, ps)
    ps, pe = min(max(ps, 0), n), min(max(pe, 0), n)
    hs, he = min(max(hs, ps), pe), min(max(he, ps), pe)
    hs, he = (hs, max(he, hs)) if passage else (0, 0)
    title = meta.title or "untitled"
    facts = [_outlet(meta.outlet), meta.date or "undated"]
    if meta.kind:
        facts.append(meta.kind)
    header = [
        f'<h3 class="qa-article-title">{_esc(title)}</h3>',
        f'<p class="qa-article-meta">{_esc(" · ".join(facts))} — <code>{_esc(article.doc_id)}</code></p>',
    ]
    if article.origin is not None:
        header.append(f'<p class="qa-article-origin">{_origin_text(article.origin)}</p>')
    if meta.url:
        url = _esc(meta.url)
        if meta.url.lower().startswith(("http://", "https://")):
            header.append(
                f'<p class="qa-article-url"><a href="{url}" target="_blank" rel="noopener noreferrer">{url}</a></p>'
            )
        else:
            header.append(f'<p class="qa-article-url">{url}</p>')
    if passage:
        body = (
            f"{_esc(text[:ps])}"
            f'<span class="qa-ctx">{_esc(text[ps:hs])}<mark class="qa-hl">{_esc(text[hs:he])}</mark>'
            f"{_esc(text[he:pe])}</span>{_esc(text[pe:])}"
        )
    else:
        body = _esc(text)
    return f'<div class="qa-article">{"".join(header)}<div class="qa-article-text">{body}</div></div>'


def open_article(assistant: Assistant, ref: str) -> str:
    """The article view for a citation reference (see :func:`article_ref`); errors become a message."""
    if not ref or not ref.strip():
        return f'<p class="qa-placeholder">{ARTICLE_PLACEHOLDER}</p>'
    try:
        doc_id, passage, highlight = parse_ref(ref)
        article = assistant.article(doc_id)
    except (QAError, ValueError) as exc:
        return f'<p class="qa-error"><strong>Error:</strong> {_esc(str(exc))}</p>'
    return render_article(article, passage=passage, highlight=highlight)


# ---------------------------------------------------------------------- respond


def _outlet_filter(outlets: str | Iterable[str] | None) -> list[str] | None:
    if outlets is None:
        return None
    if isinstance(outlets, str):
        outlets = [outlets]
    chosen = ["" if o.strip() == NO_OUTLET else o for o in outlets if isinstance(o, str)]
    return chosen or None


def respond(
    message: str,
    history: Sequence | None,
    *,
    assistant: Assistant,
    k: int = DEFAULT_K,
    outlets: str | Iterable[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    as_of: str | None = None,
) -> str:
    """Answer one chat message with the rendered reply (HTML); library errors become a message.

    Args:
        message: the user's question.
        history: the earlier turns (Gradio "messages", strings, or pairs); used for follow-ups.
        assistant: the loaded assistant.
        k: number of passages.
        outlets: only these outlets (empty: all); ``NO_OUTLET`` selects articles without outlet.
        date_from: only articles dated on or after this day (YYYY-MM-DD; empty: no limit).
        date_to: only articles dated on or before this day.
        as_of: the day the question is asked (YYYY-MM-DD; empty: today), for its time words.

    Example:
        >>> respond("who led Russia's delegation?", [], assistant=assistant)  # doctest: +SKIP
        '<div class="qa-reply">...'
    """
    try:
        answer = _ask(assistant, message, history, k, outlets, date_from, date_to, as_of)
    except (QAError, ValueError) as exc:
        return render_error(exc)
    except Exception as exc:  # never show a traceback in the chat; log it for the operator
        log.exception("answering %r failed", message)
        return render_error(
            RuntimeError(f"the question could not be answered ({type(exc).__name__}); see the server log")
        )
    return render_answer(answer, origins_of(assistant, answer))


def origins_of(assistant: Assistant, answer: Answer) -> dict[str, KeptText]:
    """Where the articles of ``answer``'s passages came from, for those from a source."""
    return assistant.store.origins(hit.passage.doc_id for hit in answer.hits)


def ask_json(
    assistant: Assistant,
    question: str,
    *,
    history: Sequence | None = None,
    k: int = DEFAULT_K,
    outlets: str | Iterable[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    as_of: str | None = None,
) -> dict:
    """The answer as :meth:`Answer.to_dict` (for the JSON API endpoint).

    Raises:
        QAError: as :meth:`Assistant.ask`.
    """
    return _ask(assistant, question, history, k, outlets, date_from, date_to, as_of).to_dict()


def _blank(value: str | None) -> str | None:
    """A text box's value, None when it is empty or only spaces."""
    return (value or "").strip() or None


def _ask(assistant: Assistant, question, history, k, outlets, date_from, date_to, as_of=None) -> Answer:
    """Turn the UI's raw control values into one :meth:`Assistant.ask` call."""
    return assistant.ask(
        question or "",
        k=int(k) if k else DEFAULT_K,
        history=history or (),  # any shape: Assistant reads the user turns (qa.search.followup.user_turns)
        outlets=_outlet_filter(outlets),
        date_from=_blank(date_from),
        date_to=_blank(date_to),
        as_of=_blank(as_of),
    )


# ---------------------------------------------------------------------- the Gradio app

CSS = """
#qa-article-panel { max-height: 78vh !important; overflow-y: auto !important; }
.qa-reply p { margin: 0.25em 0; }
.qa-reply .qa-status { font-size: 1.05em; }
.qa-reply .qa-note, .qa-reply .qa-error { color: #9a3412; }
.qa-reply .qa-outlets { font-weight: 600; font-size: 0.95em; }
.qa-reply .qa-query { opacity: 0.75; font-size: 0.9em; }
.qa-hit { margin: 0.6em 0 0.9em 0; }
.qa-citation { font-size: 0.9em; }
.qa-opinion { color: #9a3412; font-weight: 600; }
.qa-by-outlet { margin: 0.2em 0 0.5em 1.2em; font-size: 0.9em; }
.qa-quote { margin: 0.4em 0; }
.qa-differ { border-left: 3px solid #b45309; padding-left: 0.6em; margin: 0.3em 0; }
.qa-citation .qa-score { opacity: 0.6; font-size: 0.85em; }
blockquote.qa-passage { margin: 0.2em 0 0 0; padding: 0.3em 0.7em; border-left: 3px solid #94a3b8;
  white-space: normal; }
mark.qa-hl { background: #fde68a; color: inherit; padding: 0 0.1em; }
.qa-article-text { line-height: 1.55; }
.qa-article .qa-ctx { background: rgba(148, 163, 184, 0.25); }
.qa-article-meta, .qa-article-url { opacity: 0.8; font-size: 0.9em; }
"""

# Runs once when the page loads: a click on a citation link (in any reply) asks the
# server for that article, through the hidden "Open article" button.
JS = """
() => {
  document.addEventListener("click", (event) => {
    const link = event.target && event.target.closest ? event.target.closest('a[href*="#qa-article="]') : null;
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const href = link.getAttribute("href") || "";
    window.qaArticleRef = href.slice(href.indexOf("#qa-article=") + "#qa-article=".length);
    const button = document.getElementById("qa-article-open");
    if (button) button.click();
  }, true);
}
"""

_PICK_REF_JS = "(ref) => (window.qaArticleRef || ref || '')"
_SCROLL_JS = """
() => {
  const panel = document.getElementById("qa-article-panel");
  const mark = panel ? panel.querySelector("mark") : null;
  if (!mark) return;
  const offset = mark.getBoundingClientRect().top - panel.getBoundingClientRect().top;
  panel.scrollTop = Math.max(0, panel.scrollTop + offset - panel.clientHeight / 3);
}
"""


def _describe_corpus(assistant: Assistant) -> str:
    summary = assistant.store.summary()
    outlets = assistant.outlets
    text = f"{summary['documents']} articles"
    if outlets:
        text += f" from {len(outlets)} named outlet{'s' if len(outlets) != 1 else ''} ({', '.join(outlets)})"
    first, last = summary["first_date"], summary["last_date"]
    if first:
        text += f", dated {first} to {last}" if first != last else f", dated {first}"
    if summary["undated"]:
        text += f" ({summary['undated']} undated)"
    return text


def build_app(
    assistant: Assistant, *, title: str = "News QA", concurrency: int | None = DEFAULT_CONCURRENCY
) -> gr.Blocks:
    """The Gradio app: chat with passage-count, outlet and date controls, and an article panel.

    Endpoints (for ``gradio_client``):

    - ``/answer`` (message, passages, outlets, date_from, date_to, as_of) -> the rendered reply (HTML).
      The conversation is kept per client session, so follow-up questions work.
    - ``/ask`` (question, history, k, outlets, date_from, date_to, as_of) -> ``Answer.to_dict()``.
    - ``/article`` (ref) -> the article view (HTML) for a citation reference.
    - ``/quotes`` (speaker, about, outlets, date_from, date_to, kinds, doubtful) -> a speaker's quotes (HTML).

    Args:
        assistant: the loaded assistant.
        title: page title.
        concurrency: how many answers run at once (``None``: no limit); see :func:`mount`.
    """
    import gradio as gr

    outlet_choices = list(assistant.outlets)
    speaker_choices = [s.name for s in assistant.speakers()[:200]]
    if "" in assistant.store.outlets():
        outlet_choices.append(NO_OUTLET)

    def answer(
        message: str,
        history: list,
        passages: float = DEFAULT_K,
        outlets: list[str] | None = None,
        date_from: str = "",
        date_to: str = "",
        as_of: str = "",
    ) -> str:
        """Answer a question with cited passages; returns the reply as HTML."""
        return respond(
            message,
            history,
            assistant=assistant,
            k=int(passages or DEFAULT_K),
            outlets=outlets,
            date_from=date_from,
            date_to=date_to,
            as_of=as_of,
        )

    def ask(
        question: str,
        history: list[str] | None = None,
        k: int = DEFAULT_K,
        outlets: list[str] | None = None,
        date_from: str = "",
        date_to: str = "",
        as_of: str = "",
    ) -> dict:
        """Answer a question; returns Answer.to_dict() (question, query, answerable, notes, hits)."""
        try:
            return ask_json(
                assistant,
                question,
                history=history,
                k=k,
                outlets=outlets,
                date_from=date_from,
                date_to=date_to,
                as_of=as_of,
            )
        except (QAError, ValueError) as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    def article(ref: str) -> str:
        """The whole article for a citation reference, with the cited passage highlighted (HTML)."""
        return open_article(assistant, ref)

    def quotes(
        speaker: str | None,
        about: str = "",
        outlets: list[str] | None = None,
        date_from: str = "",
        date_to: str = "",
        kinds: list[str] | None = None,
        doubtful: bool = False,
    ) -> str:
        """A speaker's quotes, best first for ``about`` (HTML); ``kinds`` of attribution (default:
        speech), ``doubtful`` speakers too."""
        return show_quotes(
            assistant,
            speaker,
            about,
            outlets=outlets,
            date_from=date_from,
            date_to=date_to,
            kinds=kinds,
            doubtful=doubtful,
        )

    limit: Any = concurrency  # None: no limit
    with gr.Blocks(title=title, fill_height=True) as demo:
        gr.HTML(
            f'<h2 class="qa-title">{_esc(title)}</h2><p>Ask about {_esc(_describe_corpus(assistant))}.</p>',
            elem_id="qa-header",
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                with gr.Row():
                    k_input = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Passages", elem_id="qa-k")
                    outlet_input = gr.Dropdown(
                        choices=outlet_choices,
                        value=[],
                        multiselect=True,
                        label="Outlets",
                        info="empty: all outlets",
                        elem_id="qa-outlets",
                    )
                    from_input = gr.Textbox(
                        value="", label="From date", placeholder="YYYY-MM-DD", max_lines=1, elem_id="qa-date-from"
                    )
                    to_input = gr.Textbox(
                        value="", label="To date", placeholder="YYYY-MM-DD", max_lines=1, elem_id="qa-date-to"
                    )
                    as_of_input = gr.Textbox(
                        value="",  # empty: the day each question is asked, read when it is asked
                        label="As of",
                        info="the day 'this week', 'in May' count from",
                        placeholder="today, or YYYY-MM-DD",
                        max_lines=1,
                        elem_id="qa-as-of",
                    )
                chatbot = gr.Chatbot(
                    label="Conversation",
                    elem_id="qa-chat",
                    height="62vh",
                    latex_delimiters=[],
                    sanitize_html=True,
                    buttons=[],
                    feedback_options=None,
                    placeholder="Ask a question; each reply quotes the best passages with numbered citations. "
                    "Click a citation to read the article.",
                )
                gr.ChatInterface(
                    answer,
                    chatbot=chatbot,
                    textbox=gr.Textbox(
                        placeholder="Ask about the articles…", show_label=False, elem_id="qa-question", scale=7
                    ),
                    additional_inputs=[k_input, outlet_input, from_input, to_input, as_of_input],
                    api_name="answer",
                    concurrency_limit=limit,
                    fill_height=False,
                )
                with gr.Accordion("Who said what", open=False, elem_id="qa-speakers"):
                    with gr.Row():
                        speaker_input = gr.Dropdown(
                            choices=speaker_choices,
                            value=None,
                            allow_custom_value=True,
                            label="Speaker",
                            info="most quoted first; or type a name",
                            elem_id="qa-speaker",
                        )
                        about_input = gr.Textbox(
                            label="About", placeholder="optional: a topic", max_lines=1, elem_id="qa-about"
                        )
                        quotes_button = gr.Button("Show quotes", elem_id="qa-quotes-button")
                    with gr.Row():
                        kinds_input = gr.CheckboxGroup(
                            choices=list(KINDS),
                            value=list(SPEECH),
                            label="Kinds",
                            info="speech by default; beliefs and documents on request",
                            elem_id="qa-kinds",
                        )
                        doubtful_input = gr.Checkbox(
                            value=False,
                            label="Doubtful speakers too",
                            info=f"confidence under {CONFIDENT}",
                            elem_id="qa-doubtful",
                        )
                    quotes_panel = gr.HTML("", elem_id="qa-quotes")
                quotes_button.click(
                    quotes,
                    inputs=[
                        speaker_input,
                        about_input,
                        outlet_input,
                        from_input,
                        to_input,
                        kinds_input,
                        doubtful_input,
                    ],
                    outputs=[quotes_panel],
                    api_name="quotes",
                    concurrency_limit=limit,
                )
            with gr.Column(scale=2, min_width=320):
                gr.Markdown("### Article")
                panel = gr.HTML(
                    f'<p class="qa-placeholder">{ARTICLE_PLACEHOLDER}</p>', label="article", elem_id="qa-article-panel"
                )
                ref_box = gr.Textbox(visible="hidden", elem_id="qa-article-ref", label="ref")
                open_button = gr.Button("Open article", visible="hidden", elem_id="qa-article-open")
        open_button.click(
            article, inputs=[ref_box], outputs=[panel], js=_PICK_REF_JS, api_name="article", concurrency_limit=limit
        ).then(None, js=_SCROLL_JS)
        gr.api(ask, api_name="ask", concurrency_limit=limit)
    return demo


def mount(
    app: FastAPI,
    demo: gr.Blocks,
    *,
    concurrency: int | None = DEFAULT_CONCURRENCY,
    login: Callable[[str, str], bool] | None = None,
) -> FastAPI:
    """Mount the chat ``demo`` at the root of ``app`` (served by :func:`qa.apps.server.start`).

    ``concurrency`` is the queue's ``default_concurrency_limit``: how many events run at
    once (``None``: no limit). Gradio's default is 1, which makes every user wait for every
    other one. An answer takes ~20 ms of CPU (encoder, numpy, BM25), partly holding the GIL,
    so twice the CPU cores (the default) lets one answer's Python run while another's
    torch/numpy work runs, without piling up threads that fight for the cores; more
    queued users wait in the queue instead. See bench/RESULTS-webchat.md.

    ``login`` (name, key) -> bool: the chat asks for a login first (see :mod:`qa.apps.keys`).
    """
    import gradio as gr

    demo.queue(default_concurrency_limit=concurrency, max_size=None)
    return gr.mount_gradio_app(
        app,
        demo,
        path="/",
        auth=login,
        auth_message="Log in with your API key: its name, and the key (qa keys add NAME makes one).",
        ssr_mode=False,
        show_error=False,
        footer_links=["api"],
        css=CSS,
        js=JS,
    )
