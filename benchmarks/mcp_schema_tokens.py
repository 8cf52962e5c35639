"""What the MCP tool list costs an agent's context at every turn: `--expose all` against `router`.

    python benchmarks/mcp_schema_tokens.py [--cache DIR]

Lists the tools `latm serve mcp` announces for the cache (default: the offline demo's eight tools,
made in a temporary cache) in both modes, as the JSON a client receives, and prints characters and
an estimate of tokens (characters / 4; no tokenizer is reachable offline), and the ratio.
"""

import argparse
import json
import tempfile
from pathlib import Path

from latm.facade import LATM
from latm.interop.mcp_server import ToolServer
from latm.models.demo import demo_maker
from sandbox import Sandbox
from tasks import TASKS, get_task
from toolcache import ToolCache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, help="a tool cache directory (default: the demo's tools)")
    args = parser.parse_args()
    with Sandbox.open("process", pool_size=1) as sb:
        cache = ToolCache(args.cache or tempfile.mkdtemp())
        if args.cache is None:
            with LATM(maker=demo_maker(), cache=cache, sandbox=sb) as maker:
                for name in TASKS:
                    maker.make_tool(name, get_task(name).generate(6, seed=0), k=3)
        sizes = {}
        with LATM(cache=cache, sandbox=sb) as latm:
            for mode in ("all", "router"):
                server = ToolServer(cache, sb, latm, expose_mode=mode)  # type: ignore[arg-type]
                listed = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in server.listed_tools()]
                text = json.dumps(listed)
                sizes[mode] = (len(listed), len(text))
                print(
                    f"--expose {mode:<6}: {len(listed)} tools listed, {len(text):>6} characters, "
                    f"~{len(text) // 4:>5} tokens"
                )
    (_, all_chars), (_, router_chars) = sizes["all"], sizes["router"]
    print(f"router lists {router_chars / all_chars:.0%} of what all does, at every turn of the agent")


if __name__ == "__main__":
    main()
