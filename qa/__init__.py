"""Question answering over a news corpus with verbatim, cited passages.

>>> from qa import Assistant
>>> answer = Assistant.load().ask("what did Lavrov say about a summit")  # doctest: +SKIP
"""

from __future__ import annotations

import embeddings  # noqa: F401  (first: sets OMP_WAIT_POLICY before torch or faiss can load)

from .answer import Answer, Hit
from .assistant import Assistant
from .disagree import Disagreement
from .errors import QAError
from .passages import Passage
from .speakers import Quoted, Speaker

__all__ = ["Answer", "Assistant", "Disagreement", "Hit", "Passage", "QAError", "Quoted", "Speaker"]
