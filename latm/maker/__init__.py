"""The tool maker: a model writes a tool, the framework proves it in the sandbox.

- ``tool_maker``: ``ToolMaker.make`` picks the strategy (``auto``, ``latm``, ``search``) in one budget;
- ``paper``: the paper's protocol, one conversation: propose -> verify -> wrap -> direct;
- ``search/``: for weak makers, the framework finds the task's structure and verifies sampled
  candidates of the function of its varying part;
- ``loop``: the step loop every strategy shares (asking, feeding problems back, calling the judge);
- ``prompts``: every text the maker sends; ``reply_cases``: its tests and use cases read from replies;
- ``making_record``: attempts, results, the tool record; ``split``: how examples are shown, validated
  and kept back. Judging itself is ``latm.judge``'s.
"""

from latm.errors import StepFailed
from latm.maker.loop import Strategy
from latm.maker.making_record import Attempt, MakeResult
from latm.maker.tool_maker import ToolMaker

__all__ = ["Attempt", "MakeResult", "StepFailed", "Strategy", "ToolMaker"]
