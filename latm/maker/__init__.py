"""The tool maker: a model writes a tool, the framework proves it in the sandbox.

- ``tool_maker``: ``ToolMaker.make`` picks the strategy (``auto``, ``latm``, ``search``) in one budget;
- ``paper``: the paper's protocol, one conversation: propose -> verify -> wrap -> direct;
- ``search``: for weak makers, the framework finds the task's structure (``records`` reads a
  question's repeated forms) and verifies sampled candidates of the function of its varying part;
- ``loop``: the step loop and the judge's checks every strategy shares;
- ``prompts``: every text the maker sends; ``record``: attempts, results, the tool record.
"""

from latm.errors import StepFailed
from latm.maker.loop import Strategy
from latm.maker.making_record import Attempt, MakeResult
from latm.maker.tool_maker import ToolMaker

__all__ = ["Attempt", "MakeResult", "StepFailed", "Strategy", "ToolMaker"]
