"""LATM: Large Language Models as Tool Makers."""
