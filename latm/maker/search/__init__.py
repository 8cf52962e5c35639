"""The search strategy, for weak makers: ``templates`` finds what the shown questions share and offers
the varying part in views (``reader`` reads repeated records), and ``strategy`` samples candidate
functions of that part, verifies them together in the sandbox, repairs the best, and hands the one
that passes to the same judge as every tool.
"""
