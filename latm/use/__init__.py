"""Using tools: a question answered with a cached tool, cheapest way first.

``dispatcher`` decides which routable tool (if any) serves a question: strict direct solvers first,
then the cheap model classifying among the most similar tools; ``tool_user`` answers with a tool,
through its direct solver (no model) or with the cheap model writing the call (code or a function
call, ``schemas`` describing the function); ``fallback`` answers what no tool serves by the maker
thinking step by step; ``solution`` is the record of one answered question.
"""
