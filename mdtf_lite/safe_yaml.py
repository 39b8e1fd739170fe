"""YAML for configs: plain data only, no aliases, bounded size.

    data = load_yaml_text(text, source="configs/ci.yaml")    # dict / list / scalar, or YamlRefused

``yaml.safe_load`` already refuses ``!!python`` tags, but it expands anchors and aliases: a few hundred
bytes of nested ``&a [*b, *b, ...]`` (a "billion laughs" alias bomb) expand to billions of nodes and hang
or exhaust memory.  Configs never need aliases, so this loader refuses every alias (``*name``) before
anything is built, and refuses texts longer than ``MAX_YAML_BYTES``.
"""

from __future__ import annotations

import yaml

__all__ = ["load_yaml_text", "YamlRefused", "MAX_YAML_BYTES"]

MAX_YAML_BYTES = 1_000_000  # the largest config shipped is ~1 kB


class YamlRefused(ValueError):
    """Text that is not valid YAML, uses aliases, or is too long."""


class _NoAliasLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses aliases where the composer meets them (before any node is copied)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlRefused(
                f"YAML alias *{event.anchor} at line {event.start_mark.line + 1}: aliases (&name / "
                "*name) are not allowed in configs; write the value out in full"
            )
        return super().compose_node(parent, index)


def load_yaml_text(text: str, source: str = "<text>"):
    """Parse ``text`` as plain YAML data (safe tags only, no aliases, at most ``MAX_YAML_BYTES``).

    Raises ``YamlRefused`` (a ``ValueError``) naming ``source``, the problem and the fix.
    """
    if len(text) > MAX_YAML_BYTES:
        raise YamlRefused(
            f"{source}: {len(text)} characters of YAML, more than the {MAX_YAML_BYTES} a config may "
            "have; is it the right file?"
        )
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass: safe tags only
    except YamlRefused as exc:
        raise YamlRefused(f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        raise YamlRefused(f"{source}: not valid YAML ({exc}); fix the syntax") from None
    except RecursionError:
        raise YamlRefused(f"{source}: YAML nested too deeply; configs are a few levels deep") from None
