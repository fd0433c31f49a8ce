"""docs/architecture.md stays true: each folder imports only what its row allows, every folder is
on the map, and bot/'s functions stay short enough to read and few-parametered enough to call."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "docs" / "architecture.md"

LISTENERS = (
    "bot.commands",
    "bot.actions",
    "bot.events",
    "bot.shortcuts",
    "bot.unfurls",
    "bot.functions",
)
PROCESS = ("bot.app", "bot.cli", "bot.local")
# What each folder must not import (a module or any module below it).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "core": ("bot", "slack_bolt", "slack_sdk"),
    "bot/views": (
        "bot.actions",
        "bot.commands",
        "bot.context",
        "bot.events",
        "bot.shortcuts",
        "bot.surfaces",
        "bot.unfurls",
        "bot.functions",
        "bot.transport",
        "bot.logging_setup",
        *PROCESS,
        "slack_bolt",
        "slack_sdk",
        "sqlalchemy",
        "core.db",
        "core.config",
        "core.adapters",
    ),
    "bot/surfaces": (*LISTENERS, "bot.transport", *PROCESS, "sqlalchemy"),
    "bot/context": (*LISTENERS, "bot.surfaces", *PROCESS, "sqlalchemy"),
    "bot/commands": (*LISTENERS, "bot.transport", *PROCESS, "sqlalchemy"),
    "bot/actions": (*LISTENERS, "bot.transport", *PROCESS, "sqlalchemy"),
    "bot/events": (*LISTENERS, "bot.transport", *PROCESS, "sqlalchemy"),
    "bot/shortcuts": (*LISTENERS, "bot.transport", *PROCESS, "sqlalchemy"),
    "bot/unfurls": (*LISTENERS, "bot.transport", *PROCESS, "sqlalchemy"),
    "bot/functions": (*LISTENERS, "bot.transport", *PROCESS, "sqlalchemy"),
    "bot/transport": (*LISTENERS, "bot.surfaces", "bot.local"),
}
# Exception types say what failed without running SQL; a listener folder's __init__ wires
# its own modules.
ALLOWED = ("sqlalchemy.exc",)
MAX_LINES = 60
MAX_PARAMETERS = 6


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _own_package(path: Path, root: Path) -> str:
    return ".".join(path.relative_to(root).with_suffix("").parts[:2])


def _violations(root: Path, folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in sorted((root / folder).rglob("*.py")):
        own = _own_package(path, root) if path.name == "__init__.py" else None
        for line, module in _imports(path):
            if any(_under(module, allowed) for allowed in ALLOWED) or (own and _under(module, own)):
                continue
            if any(_under(module, prefix) for prefix in forbidden):
                found.append(f"{path.relative_to(root)}:{line} imports {module}")
    return sorted(set(found))


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_each_folder_imports_only_what_the_map_allows(folder: str) -> None:
    found = _violations(ROOT, folder, FORBIDDEN[folder])
    assert not found, "\n".join(found)


def test_the_import_check_finds_a_listener_reaching_into_another(tmp_path: Path) -> None:
    actions = tmp_path / "bot" / "actions"
    actions.mkdir(parents=True)
    (actions / "__init__.py").write_text("from bot.actions import hub\n")
    (actions / "hub.py").write_text("import sqlalchemy.exc\nfrom bot.actions.notes import on_add\n")
    (actions / "notes.py").write_text("from sqlalchemy import select\n")

    found = _violations(tmp_path, "bot/actions", FORBIDDEN["bot/actions"])

    assert found == [
        "bot/actions/hub.py:2 imports bot.actions.notes",
        "bot/actions/hub.py:2 imports bot.actions.notes.on_add",
        "bot/actions/notes.py:1 imports sqlalchemy",
        "bot/actions/notes.py:1 imports sqlalchemy.select",
    ]


def test_every_package_is_on_the_map() -> None:
    text = MAP.read_text()
    folders = {
        init.parent.relative_to(ROOT).as_posix()
        for top in ("bot", "core")
        for init in (ROOT / top).glob("*/__init__.py")
    }
    missing = sorted(folder for folder in folders if f"`{folder}/`" not in text)
    assert not missing, f"docs/architecture.md does not name {missing}"


def _functions(path: Path) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = node.args
    named = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    starred = [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return [name for name in named if name not in {"self", "cls"}] + starred


def test_no_function_in_bot_is_long_or_takes_many_parameters() -> None:
    found = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for node in _functions(path):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            count = len(_parameters(node))
            if lines > MAX_LINES or count > MAX_PARAMETERS:
                where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
                found.append(f"{where}: {lines} lines, {count} parameters")
    assert not found, "\n".join(found)
