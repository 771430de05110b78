"""Every plugin hook is documented, consumed by the core and exercised by a test (datasette's
rule: a hook nothing calls is a promise nothing keeps, and one no test drives breaks unseen).

Read from the source, so it runs in a second and fails the moment a hook loses its consumer or
its last test:

- **consumed**: the core or a bundled plugin calls the hook by name through the plugin manager
  (``call_each``, ``call_each_async``, ``notify``, ``implementations``) or ``pm.hook.<name>``;
  a ``register``-style hook is collected into a ``Registry`` table, and is consumed only if
  something outside the collector reads that table (``registry.commands`` in the CLI…);
- **exercised**: at least one test says it drives the hook through that consumer, with
  ``@pytest.mark.hooks("<name>", ...)`` (a server, the CLI, a session: not a direct call of the
  implementation);
- **implemented**: by the core, the sample plugin or a bundled plugin, so the test has
  something to drive.

A hook may be exempt only with a reason, and only while nothing consumes it: the exemption
fails as soon as a consumer appears, so it cannot outlive its reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from ipv6wgm import hookspecs

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "core", ROOT / "entrypoints", *sorted(ROOT.glob("plugins/*/ipv6wgm_*"))]
IMPLEMENTERS = [ROOT / "core" / "core_plugin.py", ROOT / "tests/plugins/sample/ipv6wgm_sample/plugin.py",
                *sorted(ROOT.glob("plugins/*/ipv6wgm_*/plugin.py"))]
CALLERS = {"call", "call_each", "call_each_async", "notify", "implementations"}
COLLECTOR = {ROOT / "core" / "plugins.py", ROOT / "core" / "registry.py"}
#: register-style hooks -> the Registry table the collector puts their contributions in
COLLECTED = {"register_models": "models", "register_blueprints": "blueprints", "register_jobs": "jobs",
             "register_cron": "crons", "register_ws_channels": "channels", "register_permissions": "permissions",
             "register_commands": "commands", "health_components": "health", "backup_contributors": "backups",
             "register_services": "services", "register_ui": "ui_pages"}

EXEMPT: dict[str, str] = {}


def hook_names() -> set[str]:
    return {name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "ipv6wgm_spec")}


def _trees(paths: list[Path]) -> Iterator[tuple[Path, ast.AST]]:
    for base in paths:
        for path in [base] if base.is_file() else sorted(base.rglob("*.py")):
            if path.name != "hookspecs.py":
                yield path, ast.parse(path.read_text(), str(path))


def consumed(paths: list[Path]) -> set[str]:
    """Hook names called through the plugin manager in ``paths`` (for a collected hook: and its
    registry table read outside the collector)."""
    called: set[str] = set()
    read: set[str] = set()
    for path, tree in _trees(paths):
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and path not in COLLECTOR:
                owner = node.value
                if (owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)) == "registry":
                    read.add(node.attr)
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name in CALLERS and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                called.add(node.args[0].value)
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) and func.value.attr == "hook":
                called.add(func.attr)
    return {name for name in called if name not in COLLECTED or COLLECTED[name] in read}


def exercised(paths: list[Path]) -> dict[str, list[str]]:
    """Hook name -> the tests whose ``@pytest.mark.hooks(...)`` names it."""
    found: dict[str, list[str]] = {}
    for path, tree in _trees(paths):
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.name.startswith("test"):
                continue
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and ast.unparse(deco.func) == "pytest.mark.hooks":
                    for arg in deco.args:
                        found.setdefault(ast.literal_eval(arg), []).append(f"{path.relative_to(ROOT)}::{node.name}")
    return found


def implemented(paths: list[Path]) -> set[str]:
    names: set[str] = set()
    for _, tree in _trees(paths):
        for node in tree.body:  # type: ignore[attr-defined]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                    ast.unparse(d) == "hookimpl" for d in node.decorator_list):
                names.add(node.name)
    return names


def problems(hooks: set[str], consumers: set[str], tests: dict[str, list[str]], impls: set[str],
             exempt: dict[str, str]) -> list[str]:
    out = [f"@pytest.mark.hooks names an unknown hook {name!r} ({tests[name]})" for name in sorted(set(tests) - hooks)]
    for name in sorted(hooks):
        if name in exempt:
            if not exempt[name].strip():
                out.append(f"{name}: an exemption needs a reason")
            if name in consumers:
                out.append(f"{name} is exempt but consumed now: drop the exemption and mark the test that drives it")
            continue
        if name not in consumers:
            out.append(f"{name}: nothing in the core or a bundled plugin calls it")
        if name not in tests:
            out.append(f"{name}: no test is marked @pytest.mark.hooks({name!r})")
        if name not in impls:
            out.append(f"{name}: neither the core, the sample nor a bundled plugin implements it")
    return out


def test_every_hook_is_documented() -> None:
    hooks = hook_names()
    assert len(hooks) >= 13
    for name in hooks:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), f"{name} has no docstring"


def test_every_hook_is_consumed_exercised_and_implemented() -> None:
    found = problems(hook_names(), consumed(SOURCES), exercised([ROOT / "tests"]), implemented(IMPLEMENTERS),
                     EXEMPT)
    assert not found, "\n".join(found)


def test_the_check_can_fail() -> None:
    """The same check on a made-up tree: an unconsumed, untested hook and a stale exemption."""
    hooks = {"used", "forgotten", "waived", "stale"}
    found = problems(hooks, consumers={"used", "stale"}, tests={"used": ["t"], "typo": ["u"]},
                     impls={"used"}, exempt={"waived": "nothing calls it yet", "stale": "was not consumed"})
    assert found == [
        "@pytest.mark.hooks names an unknown hook 'typo' (['u'])",
        "forgotten: nothing in the core or a bundled plugin calls it",
        "forgotten: no test is marked @pytest.mark.hooks('forgotten')",
        "forgotten: neither the core, the sample nor a bundled plugin implements it",
        "stale is exempt but consumed now: drop the exemption and mark the test that drives it",
    ]


def test_the_scanners_see_real_call_sites() -> None:
    """Guards the scanners themselves: known consumers are found, a collected table nobody
    reads is not a consumer, and every collected hook names a real registry table."""
    from ipv6wgm.registry import Registry

    assert set(COLLECTED.values()) <= set(Registry.__dataclass_fields__)
    assert set(COLLECTED) <= hook_names()
    found = consumed(SOURCES)
    assert {"register_models", "register_commands", "startup", "shutdown", "account_changed",
            "collect_metrics"} <= found
    without_cli = consumed([p for p in SOURCES if p.name != "entrypoints"])
    assert "register_commands" not in without_cli  # only the CLI reads registry.commands
