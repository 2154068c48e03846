"""Answers: what the assistant hands back, and what it says about the passages found.

* :mod:`~qa.answers.answer`: the answer types (:class:`Answer`, :class:`Hit`, citations);
* :mod:`~qa.answers.abstain`: whether the hits answer at all (``answer.answerable``);
* :mod:`~qa.answers.disagree`: figures, dates and titles that outlets give differently
  (:class:`Disagreement`);
* :mod:`~qa.answers.speakers`: the quotes view: who is quoted, a speaker's quotes, names resolved
  across an article and joined by ``aliases.toml`` (:class:`Quoted`, :class:`Speaker`).

It builds on :mod:`qa.search`'s analysis and :mod:`qa.ingest`'s records; it never imports the apps.
"""

from __future__ import annotations

from .abstain import AbstentionModel
from .answer import Answer, Hit
from .disagree import Disagreement, find_disagreements
from .speakers import AliasTable, Quoted, Speaker

__all__ = ["AbstentionModel", "AliasTable", "Answer", "Disagreement", "Hit", "Quoted", "Speaker", "find_disagreements"]
