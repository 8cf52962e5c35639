"""What other agents see of the cache: ``exposure`` gives every routable tool one stable name, description
and input schema and runs calls in LATM's sandbox (``run_tool_call``); ``openai_tools`` lists them as
OpenAI function tools; ``mcp_server`` serves them over MCP; ``skills`` (with ``skill_script``) exports
them as Agent Skills, which hand the tool's code to the other agent.
"""
