"""The ways in, on top of :class:`qa.Assistant`: the ``qa`` command, the web chat and batch evaluation.

* :mod:`~qa.apps.cli`: the ``qa`` command (``index``, ``add``, ``remove``, ``ask``, ``quotes``,
  ``eval``, ``serve``); library errors become one-line messages here;
* :mod:`~qa.apps.webchat`: the Gradio chat (``qa serve``, ``ui.py``);
* :mod:`~qa.apps.questions`: question files (JSONL, CSV) read for evaluation;
* :mod:`~qa.apps.evaluation`: ``qa eval``: metrics, reports, run comparisons;
* :mod:`~qa.apps.beir`: BEIR folders, indexed and evaluated.

Nothing below imports from here. The modules are not imported by this file: the chat pulls in
Gradio, which the command line and the Python API do not need.
"""
