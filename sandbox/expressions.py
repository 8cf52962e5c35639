"""``evaluate_expression``: what the tool policy offers in place of ``eval``.

A task whose questions are expressions ("((7 + 19) * 3) =", "not ( True ) and ( False ) is") has an
obvious tool, ``eval``, which the policy refuses: it runs any code a question carries. Walking an
``ast`` tree is the safe way, and too much for a small model to write reliably; so a tool may call
``evaluate_expression`` without defining it, and the code that calls it is given this one definition
(``with_provided``; the name is reserved): numbers, ``True``/``False``, arithmetic, comparisons,
``and``/``or``/``not`` and parentheses, nothing else; names, calls, attributes and subscripts raise
ValueError. It is part of the tool's own source, so an exported tool carries it.
"""

import ast
import re
from typing import Any

PROVIDED = "evaluate_expression"

# Operators of one kind: a task whose questions use one may use the others (the expression view reads them so);
# and a near-variant that swaps one for another of its kind is still a question of the task.
OPERATOR_KINDS: tuple[frozenset[str], ...] = (
    frozenset({"+", "-", "*", "/", "//", "%", "**"}),
    frozenset({"<", ">", "<=", ">=", "==", "!="}),
    frozenset({"and", "or", "not", "True", "False"}),
)


def kind_of(operator: str) -> frozenset[str]:
    """The operators of ``operator``'s kind (empty when it is none of them)."""
    return next((kind for kind in OPERATOR_KINDS if operator in kind), frozenset())


EVALUATE_SOURCE = '''
import ast as _latm_ast
import operator as _latm_operator

_LATM_BINARY = {
    _latm_ast.Add: _latm_operator.add, _latm_ast.Sub: _latm_operator.sub, _latm_ast.Mult: _latm_operator.mul,
    _latm_ast.Div: _latm_operator.truediv, _latm_ast.FloorDiv: _latm_operator.floordiv,
    _latm_ast.Mod: _latm_operator.mod, _latm_ast.Pow: _latm_operator.pow,
}
_LATM_MOST_BITS = 4096  # a number's size: a tool's answer is not a million digits
_LATM_COMPARE = {
    _latm_ast.Eq: _latm_operator.eq, _latm_ast.NotEq: _latm_operator.ne, _latm_ast.Lt: _latm_operator.lt,
    _latm_ast.LtE: _latm_operator.le, _latm_ast.Gt: _latm_operator.gt, _latm_ast.GtE: _latm_operator.ge,
}


def _latm_value(node):
    if isinstance(node, _latm_ast.Constant) and type(node.value) in (int, float, bool):
        return node.value
    if isinstance(node, _latm_ast.UnaryOp):
        operand = _latm_value(node.operand)
        if isinstance(node.op, _latm_ast.Not):
            return not operand
        if isinstance(node.op, _latm_ast.USub):
            return -operand
        if isinstance(node.op, _latm_ast.UAdd):
            return +operand
    if isinstance(node, _latm_ast.BinOp) and type(node.op) in _LATM_BINARY:
        left, right = _latm_value(node.left), _latm_value(node.right)
        if isinstance(node.op, _latm_ast.Pow) and abs(right) * max(1, abs(left)).bit_length() > _LATM_MOST_BITS:
            raise ValueError("a power too large to evaluate: %r ** %r" % (left, right))
        value = _LATM_BINARY[type(node.op)](left, right)
        if isinstance(value, complex) or (isinstance(value, int) and value.bit_length() > _LATM_MOST_BITS):
            raise ValueError("not a real number of a sensible size")
        return value
    if isinstance(node, _latm_ast.BoolOp):  # Python's own: the first false (and) or true (or) value, else the last
        for value_node in node.values:
            value = _latm_value(value_node)
            if isinstance(node.op, _latm_ast.And) != bool(value):
                return value
        return value
    if isinstance(node, _latm_ast.Compare) and all(type(op) in _LATM_COMPARE for op in node.ops):
        left = _latm_value(node.left)
        for op, right_node in zip(node.ops, node.comparators):
            right = _latm_value(right_node)
            if not _LATM_COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    raise ValueError("not an arithmetic or boolean expression: %r" % _latm_ast.unparse(node)[:80])


def evaluate_expression(expression):
    """The value of an arithmetic or boolean expression, given as its text or as a list of its tokens:
    numbers, True/False, + - * / // % **, comparisons, and/or/not, parentheses. ValueError otherwise."""
    if isinstance(expression, (list, tuple)):
        expression = " ".join(str(token) for token in expression)
    try:
        tree = _latm_ast.parse(str(expression).strip(), mode="eval")
    except SyntaxError:
        raise ValueError("not an expression: %r" % expression) from None
    return _latm_value(tree.body)
'''

_namespace: dict[str, Any] = {}
exec(EVALUATE_SOURCE, _namespace)  # our own source, not a tool's
evaluate_expression = _namespace["evaluate_expression"]


def with_provided(code: str) -> str:
    """The code, with the definition of ``evaluate_expression`` added where it calls it. The name is
    reserved: a definition of its own in the code, at any depth (a small model told the function is
    provided still writes one, often a broken one), is replaced by the provided one."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    if not any(isinstance(n, ast.Name) and n.id == PROVIDED for n in ast.walk(tree)):
        return code
    own = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == PROVIDED]
    if own:
        lines = re.split(r"\r\n|\r|\n", code)  # as ast counts lines (splitlines also cuts at \x0c, \u2028...)
        dropped = {
            i
            for n in own
            for i in range(min([n.lineno, *(d.lineno for d in n.decorator_list)]) - 1, n.end_lineno or n.lineno)
        }
        without = "\n".join(line for i, line in enumerate(lines) if i not in dropped) + "\n"
        try:
            ast.parse(without)
            code = without
        except SyntaxError:  # its definition was all a body had: keep the code as written, ours before it
            pass
    return EVALUATE_SOURCE.strip() + "\n\n\n" + code.lstrip()  # first: the model's function stays the last one
