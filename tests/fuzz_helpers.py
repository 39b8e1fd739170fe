"""Shared by the readers' property tests: damage a valid file's text the way a fuzzer would."""


def mangle(text: str, cut: float, edits) -> str:
    """Replace one character at each relative position ``where`` by ``token`` (``edits``: (where, token) pairs,
    where in [0, 1]), then keep the first ``cut`` fraction of the text (``cut`` = 1 keeps it whole)."""
    for where, token in edits:
        i = int(where * len(text))
        text = text[:i] + token + text[i + 1 :]
    return text[: int(cut * len(text))] if cut < 1 else text
