"""The public face (``benchmark``) and the shape of the core behind it.

Plugin authors import every name they need from ``benchmark`` itself, so internal modules may
move without breaking a plugin. These tests fail when a plugin-facing name is reachable only
through an internal path, when an old path of a public name stops working (for one release, with
a DeprecationWarning), and when the core grows an import cycle, imports another module's private
name or imports a built-in plugin.
"""

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import benchmark

REPO = Path(__file__).resolve().parent.parent
CORE = REPO / "benchmark"

# The paths public names had before benchmark/ became packages (0.1): each still answers, with a warning.
OLD_PATHS = {
    "benchmark.strategy": ["Strategy", "Context", "TaskSpec"],
    "benchmark.data": ["LabelledData"],
    "benchmark.datasets": ["DatasetProvider", "slice_each_class"],
    "benchmark.hookspecs": ["hookimpl"],
    "benchmark.testing": ["check_strategy", "ContractError"],
    "benchmark.api": ["run_suite"],
    "benchmark.training": ["fit", "fit_tensors", "forward_in_batches", "epochs_to_steps", "adam", "minibatches"],
    "benchmark.backbones": ["Classifier", "SupportBatchNorm", "build_trunk", "build_classifier", "BACKBONES", "NORMS"],
    "benchmark.batched": ["fit_episodes", "seeded", "inner_loop"],
    "benchmark.stacked": ["supported"],
    "benchmark.text": ["TextData", "PairTokenizer", "StaticEmbeddingTrunk", "tokenise", "unpack", "token_dropout"],
    "benchmark.shifts": ["to_shape"],
    "benchmark.protocol": ["ClassIndex", "episodic_tasks"],
}


def test_every_public_name_comes_from_the_face_and_is_the_defining_modules_own():
    for name in benchmark.__all__:
        value = getattr(benchmark, name)
        if name in benchmark.PUBLIC_MODULES:
            assert value is importlib.import_module(benchmark.PUBLIC_MODULES[name])
        else:
            assert value is getattr(importlib.import_module(benchmark.PUBLIC_NAMES[name]), name), name
    with pytest.raises(AttributeError, match="no attribute 'Stratgy'"):
        benchmark.Stratgy  # noqa: B018


def test_importing_the_face_imports_no_torch():
    """The CLI's fast paths (a missing file fails in under 2 s) rely on a cheap ``import benchmark``."""
    code = "import sys, benchmark; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def imports_of(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names, line) of every ``from X import names`` / ``import X`` in a file, nested ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
    return found


def python_blocks(markdown: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown.read_text(encoding="utf-8"), flags=re.S)


def plugin_facing_sources() -> list[tuple[str, Path | None, str]]:
    """Everything written as a plugin author writes: built-in plugins, examples, the README's and the
    plugin reference's code blocks."""
    files = sorted((REPO / "plugins").rglob("*.py")) + sorted((REPO / "examples").rglob("*.py"))
    sources = [(str(f.relative_to(REPO)), f, f.read_text(encoding="utf-8")) for f in files]
    for page in (REPO / "README.md", REPO / "docs" / "strategies.md"):
        sources += [(f"{page.name} block {i}", None, block) for i, block in enumerate(python_blocks(page))]
    return sources


def test_plugins_examples_and_docs_import_only_from_the_face(tmp_path):
    """A name a plugin needs that only an internal path offers fails here: add it to the face."""
    internal = []
    for label, _, source in plugin_facing_sources():
        code = tmp_path / "code.py"
        code.write_text(source)
        for module, names, line in imports_of(code):
            if module.startswith("benchmark."):
                internal.append(f"{label}:{line}: from {module} import {', '.join(names)}")
            if module == "benchmark":
                missing = [n for n in names if n not in benchmark.__all__]
                assert not missing, f"{label}:{line}: {missing} are not public names"
    assert not internal, "plugin-facing code imports internal paths:\n" + "\n".join(internal)


def test_old_paths_of_public_names_still_work_with_a_deprecation_warning():
    code = f"""
import importlib, json, warnings
import benchmark
out = {{}}
for module, names in {OLD_PATHS!r}.items():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = importlib.import_module(module)
        values = [getattr(found, name) for name in names]
    same = [name for name, value in zip(names, values)
            if name not in benchmark.__all__ or getattr(benchmark, name) is value]
    out[module] = {{"warned": any(w.category is DeprecationWarning and module in str(w.message) for w in caught),
                   "same": same == names}}
print(json.dumps(out))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {m for m, r in out.items() if not r["warned"]} == set()
    assert {m for m, r in out.items() if not r["same"]} == set()


def core_modules() -> dict[str, Path]:
    modules = {}
    for path in CORE.rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def test_the_core_has_no_import_cycle_even_through_lazy_imports():
    modules = core_modules()
    aliases = {m for m, p in modules.items() if "alias_module(__name__" in p.read_text()}  # old paths: they import their target
    graph = {}
    for name, path in modules.items():
        edges = set()
        for module, names, _ in imports_of(path):
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules] or [module]
            edges |= {t for t in targets if t in modules and t != name and t not in aliases}
        graph[name] = edges - {"benchmark"}  # the face loads names on first use, from outside the core
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_core_imports_no_plugin_and_no_private_name_of_another_module():
    problems = []
    for name, path in core_modules().items():
        for module, names, line in imports_of(path):
            where = f"{path.relative_to(REPO)}:{line}"
            if module == "plugins" or module.startswith("plugins."):
                problems.append(f"{where}: imports the built-in plugin {module}")
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if module.startswith("benchmark") and private and module != "benchmark._moved":
                problems.append(f"{where}: imports {private} from {module}")
    assert not problems, "\n".join(problems)


def test_the_tree_says_where_each_part_lives():
    """What a newcomer looks for, found by folder name alone."""
    where = {"the strategy contract": "benchmark/strategy/base.py", "built-in strategies": "plugins/finetune.py",
             "a dataset provider's base": "benchmark/data/providers.py", "dataset providers": "plugins/datasets",
             "a model provider's base": "benchmark/models/base.py", "model providers": "plugins/models",
             "selection protocols": "benchmark/selection/protocols.py", "the record format": "benchmark/records/record.py",
             "the leaderboard": "benchmark/leaderboard", "suite checking": "benchmark/suite/check.py",
             "the runner": "benchmark/run/runner.py", "the contract battery": "benchmark/checks/contract.py",
             "what strategies reuse": "benchmark/toolkit"}
    assert [what for what, path in where.items() if not (REPO / path).exists()] == []
    top = sorted(p.name for p in CORE.iterdir() if p.suffix == ".py" and "alias_module(__name__" not in p.read_text())
    assert top == ["__init__.py", "_moved.py", "cite.py", "cli.py", "docs.py", "errors.py"]


def test_a_file_name_means_one_thing():
    """Two modules of the core share a name only when they mean the same kind of thing (a base class)."""
    names = {}
    for path in CORE.rglob("*.py"):
        if path.name != "__init__.py" and "alias_module(__name__" not in path.read_text():
            names.setdefault(path.name, []).append(str(path.relative_to(REPO)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1 and name != "base.py"} == {}


def test_every_toml_example_in_the_readme_and_the_docs_parses():
    """A user pastes them: TOML keeps an inline table on one line, so a wrapped { ... } is no suite."""
    import tomllib

    for page in (REPO / "README.md", REPO / "docs" / "strategies.md"):
        text = page.read_text()
        for match in re.finditer(r"```toml\n(.*?)```", text, re.S):
            line = text[:match.start()].count("\n") + 2
            try:
                tomllib.loads(match.group(1))
            except tomllib.TOMLDecodeError as error:
                raise AssertionError(f"{page.name}:{line}: {error}") from None
