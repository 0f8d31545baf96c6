"""Codemod: service functions take keyword-only arguments after (session, caller).

Rewrites the signatures in app/services and every call site in app/, tests/, bench/ (positional
arguments after session/caller become keywords). Functions referenced other than by a direct call
(passed as a callback) are left alone, since their callers are not visible here.
Usage: python kwonly.py ROOT [--dry]
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

LEAD = ("session", "caller")


@dataclass
class Target:
    module: str
    name: str
    lead: int
    params: list[str]


def module_of(root: Path, path: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def find_targets(root: Path) -> dict[tuple[str, str], Target]:
    targets = {}
    for path in (root / "app" / "services").rglob("*.py"):
        tree = ast.parse(path.read_text())
        mod = module_of(root, path)
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            pos = [a.arg for a in node.args.posonlyargs + node.args.args]
            lead = 0
            while lead < len(pos) and pos[lead] in LEAD:
                lead += 1
            if lead == 0 or lead == len(pos) or node.args.vararg or node.args.posonlyargs:
                continue
            targets[(mod, node.name)] = Target(mod, node.name, lead, pos[lead:])
    return targets


def alias_map(tree: ast.Module, mod: str, root: Path) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """module aliases {alias: module} and imported functions {name: (module, func)}."""
    modules: dict[str, str] = {}
    funcs: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    modules[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                pkg = mod.split(".")
                base = ".".join(pkg[: len(pkg) - node.level + (1 if is_pkg(root, mod) else 0)] + [node.module])
            for a in node.names:
                full = f"{base}.{a.name}"
                local = a.asname or a.name
                if (root / Path(*full.split("."))).with_suffix(".py").exists() or (
                    root / Path(*full.split(".")) / "__init__.py"
                ).exists():
                    modules[local] = full
                else:
                    funcs[local] = (base, a.name)
    return modules, funcs


def is_pkg(root: Path, mod: str) -> bool:
    return (root / Path(*mod.split(".")) / "__init__.py").exists()


REEXPORTS: dict[tuple[str, str], tuple[str, str]] = {}


def load_reexports(root: Path) -> None:
    """Package __init__ modules that re-export a submodule's function."""
    for path in (root / "app" / "services").rglob("__init__.py"):
        mod = module_of(root, path)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    REEXPORTS[(mod, a.asname or a.name)] = (node.module, a.name)


def lookup(targets, key: tuple[str, str]) -> Target | None:
    return targets.get(REEXPORTS.get(key, key))


def resolve(call_func: ast.expr, mod: str, modules, funcs, targets) -> Target | None:
    if isinstance(call_func, ast.Name):
        if call_func.id in funcs:
            return lookup(targets, funcs[call_func.id])
        return lookup(targets, (mod, call_func.id))
    if isinstance(call_func, ast.Attribute) and isinstance(call_func.value, ast.Name):
        owner = modules.get(call_func.value.id)
        if owner:
            return lookup(targets, (owner, call_func.attr))
    if isinstance(call_func, ast.Attribute) and isinstance(call_func.value, ast.Attribute):
        dotted = ast.unparse(call_func.value)
        return lookup(targets, (dotted, call_func.attr))
    return None


def source_files(root: Path) -> list[Path]:
    out = []
    for top in ("app", "tests", "bench"):
        out += [p for p in (root / top).rglob("*.py") if ".venv" not in p.parts]
    return out


def offsets(text: str) -> list[int]:
    starts, total = [0], 0
    for line in text.splitlines(keepends=True):
        total += len(line.encode())
        starts.append(total)
    return starts


def referenced_as_value(root: Path, targets) -> set[tuple[str, str]]:
    """Targets used other than as the callee of a call (callbacks): not converted."""
    bad: set[tuple[str, str]] = set()
    for path in source_files(root):
        tree = ast.parse(path.read_text())
        mod = module_of(root, path)
        modules, funcs = alias_map(tree, mod, root)
        callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name | ast.Attribute) and id(node) not in callees:
                if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                    continue
                t = resolve(node, mod, modules, funcs, targets)
                if t is not None:
                    bad.add((t.module, t.name))
    return bad


def rewrite_calls(root: Path, targets, dry: bool) -> int:
    changed = 0
    for path in source_files(root):
        text = path.read_text()
        raw = text.encode()
        tree = ast.parse(text)
        mod = module_of(root, path)
        modules, funcs = alias_map(tree, mod, root)
        lines = offsets(text)
        edits = []
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            t = resolve(node.func, mod, modules, funcs, targets)
            if t is None or len(node.args) <= t.lead:
                continue
            for i, arg in enumerate(node.args[t.lead :]):
                if isinstance(arg, ast.Starred):
                    print(f"!! starred arg {path}:{node.lineno}")
                    break
                start = lines[arg.lineno - 1] + arg.col_offset
                edits.append((start, f"{t.params[i]}="))
        if edits:
            for start, ins in sorted(edits, reverse=True):
                raw = raw[:start] + ins.encode() + raw[start:]
            changed += len(edits)
            if not dry:
                path.write_bytes(raw)
    return changed


def rewrite_signatures(root: Path, targets, dry: bool) -> int:
    changed = 0
    for path in (root / "app" / "services").rglob("*.py"):
        text = path.read_text()
        raw = text.encode()
        tree = ast.parse(text)
        mod = module_of(root, path)
        lines = offsets(text)
        edits = []  # (start, end, replacement)
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or (mod, node.name) not in targets:
                continue
            t = targets[(mod, node.name)]
            first = node.args.args[t.lead]
            start = lines[first.lineno - 1] + first.col_offset
            edits.append((start, start, "*, "))
            if node.args.kwonlyargs:  # drop the existing bare '*'
                last = node.args.args[-1]
                last_end = lines[last.end_lineno - 1] + last.end_col_offset
                if node.args.defaults:
                    d = node.args.defaults[-1]
                    last_end = lines[d.end_lineno - 1] + d.end_col_offset
                k = node.args.kwonlyargs[0]
                k_start = lines[k.lineno - 1] + k.col_offset
                between = raw[last_end:k_start]
                star = between.find(b"*")
                assert star >= 0, (path, node.name)
                comma = between.find(b",", star)
                edits.append((last_end + star, last_end + comma + 1, ""))
        for start, end, rep in sorted(edits, reverse=True):
            raw = raw[:start] + rep.encode() + raw[end:]
            changed += 1
        if edits and not dry:
            path.write_bytes(raw)
    return changed


def main() -> None:
    root = Path(sys.argv[1]).resolve()
    dry = "--dry" in sys.argv
    targets = find_targets(root)
    load_reexports(root)
    skip = referenced_as_value(root, targets)
    for key in sorted(skip):
        print("skip (used as a value):", ".".join(key))
        targets.pop(key, None)
    print(len(targets), "functions")
    print(rewrite_calls(root, targets, dry), "call arguments")
    print(rewrite_signatures(root, targets, dry), "signature edits")


if __name__ == "__main__":
    main()
