"""YAML written by a person: the one reader of SOP definitions, drafts, import answers and the
office's settings files (calendar, cycles, escalation).

Safe, without aliases, and with the digits a person wrote kept as written where YAML 1.1 would
read them as something else.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

from process.messages import Text


def user_yaml(text: str) -> Any:
    """YAML written by a person (a definition, a draft, import answers, the office's settings files):
    safe, without aliases, and with zero-padded numbers and times kept as the text written.

    Raises yaml.YAMLError for text it refuses or cannot read.
    """
    return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 (a SafeLoader without aliases)


class _YamlLoader(yaml.SafeLoader):
    """yaml.SafeLoader without aliases, and with a line number on bad values.

    Aliases (`*name`) let a few lines expand to a recursive or exponentially
    large structure that the header code would then walk; a definition never
    needs them. A value the YAML types cannot build (`tanggal_efektif:
    2025-13-45`) raised a bare ValueError from inside PyYAML; it becomes a
    YAML error with the value's position instead.
    """

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, Text("alias (*%(anchor)s) tidak diizinkan", anchor=event.anchor), event.start_mark)
        return super().compose_node(parent, index)

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError) as err:
            raise yaml.constructor.ConstructorError(None, None, _unreadable(node, err), node.start_mark) from None

    def construct_yaml_int(self, node):
        # YAML 1.1 reads 010 as octal 8 (and 08 as text): a person means the digits as written, a
        # zero-padded step number ("010" is step 10, read by step_number) or an NIP. Kept as text.
        # It reads 16:00 as the base-60 number 960 (and 07:30 as text): a person means the time of
        # day, as in the calendar's hours; no field of a definition or a setting takes base 60.
        if node.style is None and (_OCTAL.fullmatch(node.value) or ":" in node.value):
            return node.value
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node):
        if node.style is None and ":" in node.value:  # 1:30.5, base 60 as well
            return node.value
        return super().construct_yaml_float(node)


_OCTAL = re.compile(r"[-+]?0[0-7_]+")
_YamlLoader.add_constructor("tag:yaml.org,2002:int", _YamlLoader.construct_yaml_int)
_YamlLoader.add_constructor("tag:yaml.org,2002:float", _YamlLoader.construct_yaml_float)


def _unreadable(node: yaml.Node, err: Exception) -> Text:
    """A YAML value its type cannot build, e.g. `tanggal_efektif: 2025-13-45`."""
    kind = node.tag.rsplit(":", 1)[-1]
    if isinstance(node, yaml.ScalarNode):
        return Text("%(value)s tidak terbaca sebagai %(kind)s: %(reason)s", value=repr(node.value), kind=kind,
                    reason=str(err))
    return Text("nilai ini tidak terbaca sebagai %(kind)s: %(reason)s", kind=kind, reason=str(err))
