"""What importing a file imports, followed through the core package: the bundle tests (Glue
wheels, Lambda packages, SageMaker source bundles) check it against what each runtime has."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def module_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports that run when the module is imported: not those inside functions (lazy
    imports, e.g. numpy in the training helpers of `exportintel.matching.interactions`), nor
    those under `if TYPE_CHECKING:`."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                pending.extend(node.body)
            pending.extend(node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend([*node.body, *node.orelse, *node.finalbody])
            for handler in node.handlers:
                pending.extend(handler.body)
        elif isinstance(node, (ast.With, ast.ClassDef)):
            pending.extend(node.body)


def every_import(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import of the module, those inside functions (run later, when called) included."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node


def _module_file(name: str) -> Path | None:
    base = REPO_ROOT / Path(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@dataclass
class Imports:
    third_party: dict[str, str] = field(default_factory=dict)  # top module -> first importer
    visited: set[Path] = field(default_factory=set)  # the repository's files followed


def third_party_imports(entries: Iterable[Path], *, lazy: bool) -> Imports:
    """Top-level modules outside the standard library and the core package that importing
    `entries` imports, through the core package's modules (and the packages' `__init__`
    modules on the way to them), with the first file that imports each. `lazy`: count imports
    inside functions too."""
    imports = Imports()
    walk = every_import if lazy else module_level_imports

    def visit(path: Path) -> None:
        if path in imports.visited:
            return
        imports.visited.add(path)
        for node in walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            for name in names:
                top = name.split(".")[0]
                if top == "exportintel":
                    parts = name.split(".")
                    for depth in range(1, len(parts) + 1):
                        module = _module_file(".".join(parts[:depth]))
                        if module is not None:
                            visit(module)
                elif top not in sys.stdlib_module_names and top != "__future__":
                    where = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
                    imports.third_party.setdefault(top, str(where))

    for entry in entries:
        visit(entry)
    return imports
