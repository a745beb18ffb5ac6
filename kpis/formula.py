"""Formulas of derived KPIs: a small, safe expression language (pure: no Django).

A formula combines numbers and references to other KPIs with ``+ - * /`` and
parentheses: ``[Resolved first time] / [Tickets] * 100``. A reference is a KPI's name in
square brackets as people type it; stored, it is the KPI's id in braces (``{12} / {13} *
100``), so renaming an input changes nothing. The text is parsed with Python's ``ast``
and only these nodes are accepted (never ``eval``): numbers, the four operators, unary
minus/plus and the references. A division by zero or a result that is not a finite
number gives ``None``: the period stays empty, never 0 or infinity.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

MAX_LENGTH = 500
MAX_REFERENCES = 10
MAX_DEPTH = 20

_NAMED = re.compile(r"\[([^\[\]]*)\]")
_STORED = re.compile(r"\{(\d+)\}")
_OPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


class FormulaError(ValueError):
    """A formula that cannot be used, with a message for the person who typed it."""


@dataclass(frozen=True)
class Formula:
    tree: ast.Expression
    refs: tuple[str, ...]  # the references in order of first appearance (names or ids)

    def evaluate(self, values: Mapping[str, float]) -> float | None:
        """The value for one period, or None (an input missing, a division by zero, a
        result too large)."""
        if any(ref not in values for ref in self.refs):
            return None
        try:
            result = _eval(self.tree.body, values)
        except (ZeroDivisionError, OverflowError):
            return None
        return result if math.isfinite(result) else None


def _placeholder(i: int) -> str:
    return f"_r{i}"


def _parse(text: str, pattern: re.Pattern, what: str) -> Formula:
    text = (text or "").strip()
    if not text:
        raise FormulaError("Enter a formula.")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"Keep the formula under {MAX_LENGTH} characters.")
    refs: list[str] = []

    def swap(match: re.Match) -> str:
        ref = match.group(1).strip()
        if not ref:
            raise FormulaError("An empty [ ] names no KPI.")
        key = ref.casefold() if what == "name" else ref
        if key not in refs:
            refs.append(key)
        return f" {_placeholder(refs.index(key))} "

    body = pattern.sub(swap, text)
    if any(c in body for c in "[]{}"):
        raise FormulaError("Put each KPI's name in square brackets: [Tickets].")
    if not refs:
        raise FormulaError("A formula needs at least one KPI in square brackets: [Tickets].")
    if len(refs) > MAX_REFERENCES:
        raise FormulaError(f"A formula may use at most {MAX_REFERENCES} KPIs.")
    try:
        tree = ast.parse(body.replace("×", "*").replace("÷", "/").strip(), mode="eval")
    except SyntaxError:
        raise FormulaError("This is not a formula: use numbers, KPIs in [ ], + − × / and "
                           "parentheses.") from None
    _check(tree.body, len(refs), 0)
    names = {_placeholder(i): ref for i, ref in enumerate(refs)}
    return Formula(tree=_rename(tree, names), refs=tuple(refs))


def parse_named(text: str) -> Formula:
    """A formula as people type it; its refs are the KPI names, case-folded."""
    return _parse(text, _NAMED, "name")


def parse_stored(text: str) -> Formula:
    """A stored formula; its refs are KPI ids (as text)."""
    return _parse(text, _STORED, "id")


def _check(node: ast.AST, n_refs: int, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise FormulaError("The formula is nested too deeply.")
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        _check(node.left, n_refs, depth + 1)
        _check(node.right, n_refs, depth + 1)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check(node.operand, n_refs, depth + 1)
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if not math.isfinite(node.value) or abs(node.value) > 1e15:
            raise FormulaError("A number in the formula is too large.")
    elif isinstance(node, ast.Name) and node.id in {_placeholder(i) for i in range(n_refs)}:
        pass
    else:
        raise FormulaError("Only numbers, KPIs in [ ], + − × / and parentheses are allowed.")


class _Renamer(ast.NodeTransformer):
    def __init__(self, names: dict[str, str]):
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name(id=self.names[node.id], ctx=ast.Load()), node)


def _rename(tree: ast.Expression, names: dict[str, str]) -> ast.Expression:
    return _Renamer(names).visit(tree)


def _eval(node: ast.AST, values: Mapping[str, float]) -> float:
    if isinstance(node, ast.BinOp):
        return _OPS[type(node.op)](_eval(node.left, values), _eval(node.right, values))
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, values)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Constant):
        return float(node.value)
    return float(values[node.id])  # ast.Name: a reference (checked by _check)


def to_stored(text: str, ids: Mapping[str, int]) -> str:
    """The typed formula with each [name] replaced by {id} (``ids``: case-folded name → id)."""
    return _NAMED.sub(lambda m: f"{{{ids[m.group(1).strip().casefold()]}}}", text.strip())


def to_named(stored: str, names: Mapping[int, str]) -> str:
    """The stored formula as people read it: each {id} as [name] ("[?]" for a missing KPI)."""
    return _STORED.sub(lambda m: f"[{names.get(int(m.group(1)), '?')}]", stored or "")
