"""Question files for evaluation: JSONL or CSV, every line checked before anything runs.

JSONL rows hold ``id``, ``question`` and optionally ``history``, ``evidence``, ``doc``, ``type``
and ``asked_on`` (the day it was asked, YYYY-MM-DD); CSV has the same columns, with lists
separated by ``|``. Empty evidence means the question is unanswerable.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..dates import parse_day
from ..errors import QuestionFileError

__all__ = ["EvalQuestion", "jsonl_rows", "load_questions"]


@dataclass(frozen=True)
class EvalQuestion:
    """One question of an evaluation set. Empty ``evidence`` means unanswerable."""

    id: str
    question: str
    history: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    doc: str | None = None
    type: str = ""
    asked_on: str | None = None  # the day it was asked (YYYY-MM-DD): its time words are read against it

    @property
    def answerable(self) -> bool:
        """Whether the corpus should answer it."""
        return bool(self.evidence)


def load_questions(path: str | os.PathLike) -> list[EvalQuestion]:
    """Read a JSONL or CSV question file, checking every line first.

    Raises:
        QuestionFileError: naming the file, the line and what is wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise QuestionFileError(f"{path} does not exist; pass a .jsonl or .csv question file or a BEIR folder")
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(path)
    elif path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        rows = [(number, row) for number, row, _ in jsonl_rows(path)]
    else:
        raise QuestionFileError(f"{path}: unknown format {path.suffix!r}; use .jsonl, .csv or a BEIR folder")
    questions: list[EvalQuestion] = []
    seen: set[str] = set()
    for number, row in rows:
        q = _question(path, number, row, len(questions) + 1)
        if q.id in seen:
            raise QuestionFileError(f"{path}:{number}: id {q.id!r} is used twice; ids must be unique")
        seen.add(q.id)
        questions.append(q)
    if not questions:
        raise QuestionFileError(f"{path} holds no question")
    return questions


def jsonl_rows(path: Path, *, required: tuple[str, ...] = ()) -> list[tuple[int, dict, str]]:
    """``(line number, object, raw line)`` for each non-empty line of a JSONL file.

    Raises:
        QuestionFileError: a line is not a JSON object or lacks a ``required`` field; the
            message names the file and the line.
    """
    rows = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise QuestionFileError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
            if not isinstance(row, dict):
                raise QuestionFileError(f"{path}:{number}: expected a JSON object, one per line")
            missing = [key for key in required if key not in row]
            if missing:
                raise QuestionFileError(f"{path}:{number}: missing field(s) {', '.join(missing)}")
            rows.append((number, row, line))
    return rows


def _csv_rows(path: Path) -> list[tuple[int, dict]]:
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "question" not in reader.fieldnames:
            raise QuestionFileError(f"{path}:1: the header needs a 'question' column (and usually id, evidence, type)")
        rows = []
        for row in reader:
            if None in row:
                raise QuestionFileError(f"{path}:{reader.line_num}: more cells than header columns")
            for key in ("evidence", "history"):
                cell = (row.get(key) or "").strip()
                row[key] = [part.strip() for part in cell.split("|") if part.strip()] if cell else []
            row["doc"] = row.get("doc") or None
            rows.append((reader.line_num, row))
    return rows


def _question(path: Path, number: int, row: dict, ordinal: int) -> EvalQuestion:
    where = f"{path}:{number}"
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise QuestionFileError(f"{where}: 'question' is missing or empty")
    evidence = row.get("evidence") or []
    history = row.get("history") or []
    for key, value in (("evidence", evidence), ("history", history)):
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise QuestionFileError(f"{where}: '{key}' must be a list of non-empty strings")
    doc = row.get("doc")
    if doc is not None and not isinstance(doc, str):
        raise QuestionFileError(f"{where}: 'doc' must be a file name, '*' or null")
    asked_on = row.get("asked_on") or None
    if asked_on is not None:
        try:
            if not isinstance(asked_on, str) or parse_day(asked_on) is None:
                raise ValueError(f"{asked_on!r} is not a date")
        except ValueError as exc:
            raise QuestionFileError(f"{where}: 'asked_on' must be a YYYY-MM-DD date or null ({exc})") from exc
    return EvalQuestion(
        id=str(row.get("id") or f"q{ordinal}"),
        question=question.strip(),
        history=tuple(history),
        evidence=tuple(evidence),
        doc=doc,
        type=str(row.get("type") or ""),
        asked_on=asked_on,
    )
