"""What a piece of tool code computes, as a digest: a verdict on code (refused on unseen questions, or
caught by a canary in use) holds for every later copy of it that differs only in comments, docstrings or
names it never reads."""

import ast
import hashlib


def code_digest(code: str) -> str:
    """What the code computes, as a digest: its syntax tree without comments, docstrings or top-level
    names it never reads (``REVISION = 2`` does not make a refused function new)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return hashlib.sha256(code.encode("utf-8")).hexdigest()
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}

    def dead(node: ast.stmt) -> bool:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return True  # a docstring or a bare constant
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        return bool(names) and len(names) == len(targets) and not any(n in read for n in names)

    tree.body = [n for n in tree.body if not dead(n)]
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and len(node.body) > 1:
                node.body = node.body[1:]
    return hashlib.sha256(ast.dump(tree).encode("utf-8")).hexdigest()
