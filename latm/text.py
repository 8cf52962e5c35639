"""Text shown to a user, cut to a length that says it was cut."""


def clip(text: str, limit: int) -> str:
    """``text`` when it fits in ``limit`` characters, else its first ``limit`` and how much is hidden:
    a cut message or question never passes for the whole one."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (+{len(text) - limit} chars)"
