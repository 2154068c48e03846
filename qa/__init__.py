"""Question answering over a news corpus with verbatim, cited passages.

>>> from qa import Assistant
>>> answer = Assistant.load().ask("what did Lavrov say about a summit")  # doctest: +SKIP
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see embeddings/__init__.py

from .answer import Answer, Hit
from .assistant import Assistant
from .errors import QAError
from .passages import Passage

__all__ = ["Answer", "Assistant", "Hit", "Passage", "QAError"]
