"""Question answering over a news corpus with verbatim, cited passages.

>>> from qa import Assistant
>>> answer = Assistant.load().ask("what did Lavrov say about a summit")  # doctest: +SKIP
"""

from __future__ import annotations

import embeddings  # noqa: F401  (first: sets OMP_WAIT_POLICY before torch or faiss can load)

from .answers.answer import Answer, Hit
from .answers.disagree import Disagreement
from .answers.speakers import Quoted, Speaker
from .assistant import Assistant
from .errors import QAError
from .ingest.attribution import Attribution, attribute
from .ingest.passages import Passage

__all__ = [
    "Answer",
    "Assistant",
    "Attribution",
    "Disagreement",
    "Hit",
    "Passage",
    "QAError",
    "Quoted",
    "Speaker",
    "attribute",
]
