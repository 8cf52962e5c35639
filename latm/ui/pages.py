"""The inspector's pages, as HTML built here: every value from the cache passes through ``esc`` (or
pygments and difflib, which escape what they print), so nothing a question, a tool's code or a
model's reply holds is ever interpreted as HTML. The pages work offline: styles inline, charts in
SVG, one line of script to copy a tool's code."""

import difflib
import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from latm.ui.charts import CostLines, cost_chart
from latm.use.dispatcher import routable
from toolcache import Tool
from toolcache.bound import percent

STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;
vertical-align:top;font-size:14px}th{background:#f4f4f4}pre{background:#f8f8f8;padding:8px;overflow-x:auto}
.muted{color:#777}.bad{color:#b3261e}.good{color:#1b7f3b}code{font-size:13px}h2{margin-top:28px}
.diff td{font-family:monospace;font-size:12px}
.diff_add{background:#dfd}.diff_chg{background:#ffc}.diff_sub{background:#fdd}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def cost_lines(tools: Sequence[Tool]) -> CostLines | None:
    """The cost lines of a tool (or of several, added up), in dollars, else in tokens where a price is
    unknown (a local model); None when neither is known."""
    makes = [t.provenance.cost_usd for t in tools]
    bases = [t.provenance.baseline_cost_per_question_usd for t in tools]
    if not tools:
        return None
    if any(m is None for m in makes) or any(b is None for b in bases):
        return token_lines(tools)
    uses = sum(t.usage.uses for t in tools)
    spent = sum(t.usage.cost_usd for t in tools)
    weights = [max(1, t.usage.uses) for t in tools]
    baseline = sum(b * w for b, w in zip(bases, weights, strict=True) if b is not None) / sum(weights)
    return CostLines(
        making=sum(m for m in makes if m is not None),
        per_question=spent / uses if uses else 0.0,
        baseline=baseline,
        answered=uses,
    )


def token_lines(tools: Sequence[Tool]) -> CostLines | None:
    """The cost lines in tokens: making, answering, and the maker model's estimated tokens a question."""
    bases = [t.provenance.baseline_tokens_per_question for t in tools]
    if any(b is None for b in bases):
        return None
    uses = sum(t.usage.uses for t in tools)
    weights = [max(1, t.usage.uses) for t in tools]
    return CostLines(
        making=sum(t.provenance.tokens_in + t.provenance.tokens_out for t in tools),
        per_question=sum(t.usage.tokens for t in tools) / uses if uses else 0.0,
        baseline=sum(b * w for b, w in zip(bases, weights, strict=True) if b is not None) / sum(weights),
        answered=uses,
        unit="tokens",
    )


def amount(value: float, unit: str) -> str:
    return money(value) if unit == "$" else f"{value:,.0f} tokens"


def chart_or_why(tools: Sequence[Tool], title: str) -> str:
    lines = cost_lines(tools)
    if lines is None:
        tokens = sum(t.provenance.tokens_in + t.provenance.tokens_out for t in tools)
        return (
            f'<p class="muted">No cost chart: neither a price nor the maker\'s tokens a question are known '
            f"(a tool made before LATM recorded them). Making took {tokens:,} tokens; answering "
            f"{sum(t.usage.tokens for t in tools):,} tokens over {sum(t.usage.uses for t in tools):,} uses.</p>"
        )
    even, unit = lines.break_even, lines.unit
    said = (
        f"LATM pays for itself after {even:,.1f} questions: making cost {amount(lines.making, unit)} once, then "
        f"{amount(lines.per_question, unit)} a question, where the maker model alone costs "
        f"{amount(lines.baseline, unit)} each (estimated)."
        if even is not None
        else "LATM costs as much per question as the maker model alone: it never pays for itself."
    )
    return f"<p>{esc(said)}</p>{cost_chart(lines, title)}"


def index(tools: Sequence[Tool], current_ids: set[str]) -> str:
    rows = []
    for t in tools:
        pay = t.payoff()
        u = t.usage
        sources = ", ".join(f"{k} {v}" for k, v in sorted(u.by_source.items())) or "-"
        state = "routable" if t.id in current_ids and routable(t) else t.status
        rows.append(
            "<tr>"
            f'<td><a href="/tool/{esc(t.id)}">{esc(t.name)}</a></td><td>{esc(t.task)}</td><td>v{t.version}</td>'
            f'<td class="{"good" if state == "routable" else "bad" if state == "quarantined" else ""}">'
            f"{esc(state)}</td><td>{esc(t.verification.trust)}</td><td>{esc(percent(t.error_bound))}</td>"
            f"<td>{esc(u.counts())}</td><td>{esc(sources)}</td>"
            f"<td>{when(u.last_used)}</td><td>{u.tokens:,}</td><td>{money(u.cost_usd)}</td>"
            f"<td>{money(pay.saved_usd)}</td><td>{esc(pay.break_even_uses if pay.break_even_uses is not None else '-')}"
            "</td></tr>"
        )
    head = (
        "<tr><th>tool</th><th>task</th><th>version</th><th>state</th><th>trust</th><th>error (95%)</th><th>uses</th>"
        "<th>from</th><th>last used</th><th>tokens</th><th>spent</th><th>saved</th><th>break-even (uses)</th></tr>"
    )
    current = [t for t in tools if t.id in current_ids]
    body = (
        f"<h1>LATM tool cache</h1><p>{len(tools)} tool(s), {len(current)} current. The error bound is the 95% "
        "upper bound on a tool's error rate from the labelled questions it was judged on; break-even is the "
        "number of uses after which making the tool cost less than asking the maker model every time.</p>"
        f'<table id="tools">{head}{"".join(rows)}</table>'
        f"<h2>The whole cache: cost against questions answered</h2>{chart_or_why(current, 'the cache')}"
    )
    return page("LATM tool cache", body)


def _verification(t: Tool, recent: Sequence[dict[str, str]]) -> str:
    v, e = t.verification, t.verification.evidence
    held = v.held_out
    out = [
        "<h2>How it was judged</h2><ul>",
        f"<li>shown examples: {v.passed}/{v.total}</li>",
        f"<li>held-out: {esc(f'{held.passed}/{held.total} {held.source} questions, judged by {held.judged_by}')}"
        f"{esc(f', seed {held.seed}') if held and held.seed is not None else ''}</li>"
        if held
        else "<li>held-out: none (verified on the shown examples only)</li>",
        f"<li>evidence: {e.held_out} labelled questions ({esc(', '.join(f'{k} {n}' for k, n in e.kinds.items()))}), "
        f"{e.wrong} wrong; canaries {t.usage.canaries_passed} passed, {t.usage.canaries_failed} failed; "
        f"error bound {esc(percent(t.error_bound))}; {e.synthetic_agreed} synthetic questions agreed</li>",
        f"<li>its function judged alone on {e.functions_checked} unseen questions"
        f"{' (completed by a use case)' if e.function_completed else ''}</li>",
    ]
    out += [f"<li>note: {esc(n)}</li>" for n in v.notes]
    if t.quarantine:
        out.append(f'<li class="bad">quarantined {when(t.quarantine.at)}: {esc(t.quarantine.reason)}</li>')
    out.append("</ul>")
    if held and held.failures:
        out.append("<h3>Held-out questions it failed</h3>")
        out.append("<table><tr><th>question</th><th>expected</th><th>got</th></tr>")
        out += [
            f"<tr><td>{esc(f.question)}</td><td>{esc(f.expected)}</td><td>{esc(f.observed or f.error)}</td></tr>"
            for f in held.failures
        ]
        out.append("</table>")
    out.append("<h2>Questions it failed or refused lately</h2>")
    if recent:
        out.append('<table id="failures"><tr><th>when</th><th>question</th><th>why</th></tr>')
        out += [
            f"<tr><td>{esc(r['at'])}</td><td>{esc(r['question'])}</td><td>{esc(r['why'])}</td></tr>"
            for r in reversed(recent)
        ]
        out.append("</table>")
    else:
        out.append('<p class="muted">none recorded</p>')
    return "".join(out)


def _trace(t: Tool) -> str:
    if not t.provenance.trace:
        return '<p class="muted">no trace recorded</p>'
    rows = []
    for a in t.provenance.trace:
        scores = [o.get("scores") for o in a.get("observations") or [] if isinstance(o, dict) and o.get("scores")]
        rows.append(
            f"<tr><td>{esc(a.get('step'))}</td><td>{esc(a.get('number'))}</td><td>{esc(a.get('outcome'))}</td>"
            f"<td><pre>{esc(a.get('feedback') or '')}</pre></td><td>{esc(scores or '')}</td></tr>"
        )
    return (
        '<table id="trace"><tr><th>step</th><th>attempt</th><th>outcome</th><th>feedback sent</th>'
        f"<th>candidates' scores</th></tr>{''.join(rows)}</table>"
    )


def _versions(t: Tool, history: Sequence[Tool]) -> str:
    rows = "".join(
        f'<tr><td><a href="/tool/{esc(h.id)}">v{h.version}</a></td><td>{esc(h.status)}</td>'
        f"<td>{when(h.provenance.created_at)}</td><td>{esc(h.provenance.maker_model)}</td></tr>"
        for h in history
    )
    out = f"<table><tr><th>version</th><th>status</th><th>made</th><th>maker</th></tr>{rows}</table>"
    earlier = [h for h in history if h.version < t.version]
    if earlier:
        before = earlier[-1]
        diff = difflib.HtmlDiff(wrapcolumn=90).make_table(
            before.code.splitlines(), t.code.splitlines(), f"v{before.version}", f"v{t.version}", context=True
        )
        out += f'<div class="diff">{diff}</div>'
    return out


def _exported(t: Tool) -> str:
    e = t.provenance.exporter_usage
    if e is None:
        return ""
    return (
        f'<p id="exported">Imported. In the cache that exported it: {esc(e.counts())}, {e.tokens} tokens. '
        "Not counted here.</p>"
    )


def tool_page(t: Tool, history: Sequence[Tool], recent: Sequence[dict[str, str]]) -> str:
    code = highlight(t.code, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=False))
    direct = (
        f"<h3>Its direct solver</h3>{highlight(t.direct, PythonLexer(), HtmlFormatter(noclasses=True))}"
        if t.direct
        else ""
    )
    cases = "".join(
        f"<tr><td>{esc(u.question)}</td><td><pre>{esc(u.call)}</pre></td><td>{esc(u.answer)}</td></tr>"
        for u in t.use_cases
    )
    body = (
        f'<p><a href="/">&larr; all tools</a></p><h1 id="name">{esc(t.name)}</h1>'
        f"<p>task {esc(t.task)}, v{t.version}, {esc(t.status)}; made by {esc(t.provenance.maker_model)} "
        f"({esc(t.provenance.strategy)}) {when(t.provenance.created_at)}; {esc(t.description)}</p>"
        f"{_exported(t)}"
        f'<h2>Code</h2><button id="copy" type="button">copy the code</button>'
        f'<textarea id="raw" readonly hidden>{esc(t.code)}</textarea><div id="code">{code}</div>{direct}'
        "<script>document.getElementById('copy').onclick=function(){"
        "navigator.clipboard.writeText(document.getElementById('raw').value)};</script>"
        f"<h2>Use cases</h2><table><tr><th>question</th><th>call</th><th>answer</th></tr>{cases}</table>"
        f"{_verification(t, recent)}"
        f"<h2>Cost against questions answered</h2>{chart_or_why([t], t.name)}"
        f"<h2>How it was made</h2>{_trace(t)}"
        f"<h2>Versions of {esc(t.task)}</h2>{_versions(t, history)}"
    )
    return page(f"{t.name} - LATM", body)


def missing(ref: str) -> str:
    return page(
        "not found",
        f'<p><a href="/">&larr; all tools</a></p><h1>No tool {esc(ref)}</h1><p>It was removed, or never made.</p>',
    )
