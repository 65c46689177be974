"""The package's layout holds: layers import downwards only, no import circle between files,
no helper below the public class takes the model, modules stay readable (CONTRIBUTING, Layout)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import langchain_hf_vlm

PACKAGE = Path(langchain_hf_vlm.__file__).parent
LAYERS = ("_model", "_request", "_media|_answers|_servers", "_wire")
"""Private layer folders, top first; a module may import its own layer's and lower ones."""
PUBLIC_MODEL_USERS = {"chat_models", "batch", "ray_data", "cli", "__init__"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(parts).removesuffix(".__init__")] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("langchain_hf_vlm"):
            base = (node.module or "").removeprefix("langchain_hf_vlm").lstrip(".")
            for alias in node.names:
                name = f"{base}.{alias.name}" if base else alias.name
                yield name if name in modules else base


def _layer(module: str) -> int | None:
    top = module.split(".")[0]
    for rank, layer in enumerate(LAYERS):
        if top in layer.split("|"):
            return rank
    return None


def test_layers_import_downwards_only() -> None:
    modules = _modules()
    upwards = []
    for module, path in modules.items():
        for target in _imports(path, modules):
            here, there = _layer(module), _layer(target)
            if here is not None and there is not None and there < here:
                upwards.append(f"{module} -> {target}")
            sideways = here == there == 2 and module.split(".")[0] != target.split(".")[0]
            if sideways:
                upwards.append(f"{module} -> {target}")
            if here is None and module not in PUBLIC_MODEL_USERS and target == "chat_models":
                upwards.append(f"{module} -> {target}")
    assert upwards == []


def test_no_import_circle_between_files() -> None:
    modules = _modules()
    graph = {
        m: {t for t in _imports(p, modules) if t in modules and t != m} for m, p in modules.items()
    }
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                circles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_no_private_helper_takes_the_model() -> None:
    takers = []
    for module, path in _modules().items():
        if not module.startswith("_"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for arg in [*node.args.args, *node.args.kwonlyargs]:
                    if arg.annotation is not None and "ChatHuggingFaceVLM" in ast.unparse(
                        arg.annotation
                    ):
                        takers.append(f"{module}.{node.name}({arg.arg})")
    assert takers == []


def test_modules_stay_readable() -> None:
    sizes = {m: len(p.read_text().splitlines()) for m, p in _modules().items()}
    assert {m: n for m, n in sizes.items() if n > 400} == {}
    assert sizes["chat_models"] < 300
    flat = sorted(m for m, p in _modules().items() if m.startswith("_") and p.name != "__init__.py")
    assert [m for m in flat if "." not in m] == ["_batch_io", "_http"]
