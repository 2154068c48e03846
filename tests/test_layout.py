"""The layout stays true: no import circles, no layer importing a higher one, no private name crossing packages.

The imports of ``qa/`` and ``embeddings/`` are read with :mod:`ast` (function-level and
``TYPE_CHECKING`` imports included), so nothing is imported to check them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BASICS = ("qa.errors", "qa.text", "qa.lexical", "qa.dates")

#: Each unit of the layout, and the units it may import (itself included). A unit is a
#: sub-package of ``qa`` (everything under it), a module directly in ``qa/``, or ``embeddings``.
ALLOWED: dict[str, set[str]] = {
    "embeddings": {"embeddings"},
    **{basic: set(BASICS) for basic in BASICS},
    "qa.ingest": {*BASICS, "qa.ingest"},
    "qa.collect": {*BASICS, "qa.ingest", "qa.collect"},
    "qa.store": {*BASICS, "qa.ingest", "qa.store", "embeddings"},
    "qa.indexing": {*BASICS, "qa.ingest", "qa.collect", "qa.store", "qa.indexing", "embeddings"},
    "qa.search": {*BASICS, "qa.ingest", "qa.store", "qa.search", "embeddings"},
    "qa.answers": {*BASICS, "qa.ingest", "qa.store", "qa.search", "qa.answers"},
    "qa.assistant": {*BASICS, "qa.ingest", "qa.store", "qa.indexing", "qa.search", "qa.answers", "embeddings"},
    "qa": {*BASICS, "qa.ingest", "qa.store", "qa.indexing", "qa.search", "qa.answers", "qa.assistant", "embeddings"},
    "qa.apps": {
        *BASICS,
        "qa",
        "qa.ingest",
        "qa.collect",
        "qa.store",
        "qa.indexing",
        "qa.search",
        "qa.answers",
        "qa.assistant",
        "qa.apps",
        "embeddings",
    },
}
#: At most this many modules directly in ``qa/`` (the facade and the shared basics), besides ``__init__``.
MOST_TOP_MODULES = 6


def modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``packages`` under ``root``."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, str, int]]:
    """(imported module, imported name or "", line) for each import of project code in one module.

    ``from package import module`` counts as an import of the module; ``from module import name``
    as an import of the module, with the name kept (to check private names)."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend((alias.name, "", node.lineno) for alias in node.names if alias.name.split(".")[0] in _ROOTS)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] not in _ROOTS:
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                out.append((submodule, "", node.lineno) if submodule in known else (target, alias.name, node.lineno))
    return out


_ROOTS = ("qa", "embeddings")


def unit(module: str) -> str:
    """The layout unit a module belongs to (see :data:`ALLOWED`)."""
    parts = module.split(".")
    if parts[0] == "embeddings":
        return "embeddings"
    return ".".join(parts[:2]) if len(parts) > 1 else "qa"


def graph(root: Path) -> tuple[dict[str, Path], dict[str, list[tuple[str, str, int]]]]:
    found = modules(root, _ROOTS)
    return found, {name: imports(name, path, set(found)) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import circles of a module graph: its strongly connected components of more than one
    module, and modules that import themselves (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    found.append(sorted(component))
    return found


def problems(root: Path) -> list[str]:
    """Every circle, layer breach and private name imported across packages under ``root``."""
    found, edges = graph(root)
    out = []
    for circle in cycles({m: {t for t, _, _ in targets if t in found} for m, targets in edges.items()}):
        out.append("import circle: " + " -> ".join(circle))
    for module, targets in sorted(edges.items()):
        mine = unit(module)
        for target, name, line in targets:
            theirs = unit(target)
            where = f"{found[module].relative_to(root)}:{line}"
            if theirs not in ALLOWED.get(mine, set()):
                out.append(f"{where}: {module} ({mine}) imports {target} ({theirs}), a layer it may not import")
            if name.startswith("_") and not name.startswith("__") and theirs != mine:
                out.append(f"{where}: {module} imports the private {target}.{name} from another package")
    return out


def test_no_circles_no_layer_breaches_no_private_names_across_packages():
    assert problems(ROOT) == []


def test_every_module_belongs_to_a_unit_of_the_layout():
    found, _ = graph(ROOT)
    assert sorted({unit(m) for m in found} - set(ALLOWED)) == []


def test_qa_holds_only_the_facade_and_a_few_basics():
    top = sorted(p.stem for p in (ROOT / "qa").glob("*.py") if p.stem != "__init__")
    assert "assistant" in top and "errors" in top
    assert len(top) <= MOST_TOP_MODULES, top


def test_every_sub_package_says_what_it_offers():
    for package in sorted(p for p in (ROOT / "qa").iterdir() if (p / "__init__.py").is_file()):
        docstring = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
        assert docstring and len(docstring) > 80, f"qa/{package.name}/__init__.py: a docstring naming what it offers"


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"embeddings/__init__.py": "", "qa/__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (  # a circle through a function-level import
            {
                "qa/apps/__init__.py": "",
                "qa/apps/a.py": "from .b import run\n",
                "qa/apps/b.py": "def run():\n    from .a import x\n",
            },
            "import circle: qa.apps.a -> qa.apps.b",
        ),
        (  # a lower layer importing a higher one
            {
                "qa/ingest/__init__.py": "",
                "qa/ingest/x.py": "from ..search import retrieval\n",
                "qa/search/__init__.py": "",
                "qa/search/retrieval.py": "",
            },
            "qa.ingest.x (qa.ingest) imports qa.search.retrieval (qa.search), a layer it may not import",
        ),
        (  # the vector index importing the assistant
            {"embeddings/index.py": "import qa.assistant\n"},
            "embeddings.index (embeddings) imports qa.assistant (qa.assistant), a layer it may not import",
        ),
        (  # a private name across packages
            {
                "qa/store/__init__.py": "",
                "qa/store/s.py": "_hidden = 1\n",
                "qa/search/__init__.py": "",
                "qa/search/r.py": "from ..store.s import _hidden\n",
            },
            "qa.search.r imports the private qa.store.s._hidden from another package",
        ),
    ],
)
def test_the_checker_finds_what_it_is_for(tmp_path, files, expected):
    found = problems(_tree(tmp_path, files))
    assert any(expected in p for p in found), found


def test_the_checker_passes_a_clean_tree(tmp_path):
    files = {
        "qa/ingest/__init__.py": "from .documents import load\n",
        "qa/ingest/documents.py": "from ..errors import QAError\n\ndef load():\n    return _private()\n",
        "qa/errors.py": "class QAError(Exception):\n    pass\n",
        "qa/search/__init__.py": "",
        "qa/search/r.py": "from ..ingest import documents\nfrom ..ingest.documents import load\nfrom .q import _mine\n",
        "qa/search/q.py": "_mine = 1\n",
    }
    assert problems(_tree(tmp_path, files)) == []


# --------------------------------------------------------------------------- the picture in docs/architecture.md

_BASICS_NODE = "basics"


def unit_edges(edges: dict[str, list[tuple[str, str, int]]]) -> dict[str, set[str]]:
    """Which unit imports which (from a module graph), the shared basics drawn as one node."""
    out: dict[str, set[str]] = {}
    for module, targets in edges.items():
        mine = _BASICS_NODE if unit(module) in BASICS else unit(module)
        for target, _, _ in targets:
            theirs = _BASICS_NODE if unit(target) in BASICS else unit(target)
            if theirs != mine:
                out.setdefault(mine, set()).add(theirs)
    return out


def mermaid(root: Path) -> str:
    """The layout as a Mermaid flowchart: an arrow where one unit imports another and no longer
    path already leads there (the transitive reduction), so that the picture stays legible."""
    found, module_edges = graph(root)
    edges = unit_edges(module_edges)

    def reaches(a: str, b: str, skip: tuple[str, str]) -> bool:
        seen, todo = set(), [a]
        while todo:
            node = todo.pop()
            for nxt in edges.get(node, ()):
                if (node, nxt) == skip or nxt in seen:
                    continue
                if nxt == b:
                    return True
                seen.add(nxt)
                todo.append(nxt)
        return False

    kept = sorted((a, b) for a, targets in edges.items() for b in targets if not reaches(a, b, (a, b)))
    nodes = sorted({n for pair in kept for n in pair})
    ids = {n: n.replace(".", "_") for n in nodes}
    members: dict[str, list[str]] = {}
    for module in sorted(found):
        node = _BASICS_NODE if unit(module) in BASICS else unit(module)
        if module.count(".") == node.count(".") + 1 or node == _BASICS_NODE:  # a unit's own modules, not deeper
            members.setdefault(node, []).append(module.rsplit(".", 1)[-1])
    labels = {n: f"{n}<br/>{' · '.join(members[n])}" if n in members else n for n in nodes}
    labels["qa"], labels["qa.assistant"] = "qa: the public API", "qa.assistant: the facade"
    labels[_BASICS_NODE] = "qa: " + " · ".join(members[_BASICS_NODE])
    lines = ["flowchart TD"]
    lines += [f'    {ids[n]}["{labels[n]}"]' for n in nodes]
    lines += [f"    {ids[a]} --> {ids[b]}" for a, b in kept]
    return "\n".join(lines) + "\n"


def test_the_picture_in_docs_architecture_is_the_code_s():
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert f"```mermaid\n{mermaid(ROOT)}```" in doc, "run `python tests/test_layout.py` and paste its diagram"


if __name__ == "__main__":
    print(mermaid(ROOT), end="")
