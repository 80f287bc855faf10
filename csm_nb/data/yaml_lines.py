"""Reading YAML as plain data, with the line of every key and list item, for messages that name the line.

Engagement files, engagement models and maturity models are all read through
:func:`load_yaml_with_lines`: only plain data (text, numbers, true/false, nothing, dates, lists and
mappings), no aliases, bounded depth; a problem is one line naming the file and the line.
"""

from __future__ import annotations

from typing import Any

import yaml

from csm_nb import config
from csm_nb.errors import InputError, LimitError

# libyaml's parser when present: ten times faster on files with many rows.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Only plain data: text, numbers, true/false, nothing, dates, lists and mappings.
# ``!!binary``, ``!!set``, ``!!python/...`` and local tags are refused at the line.
_YAML = "tag:yaml.org,2002:"
_STR, _INT, _TIMESTAMP, _MAP, _SEQ = (_YAML + t for t in ("str", "int", "timestamp", "map", "seq"))
SCALAR_TAGS = frozenset(_YAML + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
_NODE_OF_TAG: dict[str, type[yaml.Node]] = {
    **dict.fromkeys(SCALAR_TAGS, yaml.ScalarNode),
    _MAP: yaml.MappingNode,
    _SEQ: yaml.SequenceNode,
}
# What each scalar tag reads a value as, for the message when it does not.
_READS_AS = {"int": "a whole number", "float": "a number", "bool": "true or false", "null": "nothing", "str": "text"}


def load_yaml_with_lines(text: str, source: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """Parse YAML and record the 1-based line of every mapping key and list item.

    The node graph is checked before anything is built from it, in one pass
    that visits each node once: aliases (``*name``) are refused, so neither a
    "billion laughs" document nor a recursive ``&r [*r]`` can expand; tags
    must be plain ones; dates must exist; whole numbers are at most
    ``config.MAX_NUMBER_CHARS`` long; nesting is at most
    ``config.MAX_YAML_DEPTH`` deep; and a document holds at most
    ``config.MAX_YAML_NODES`` values.
    """
    if len(text) > config.MAX_DOCUMENT_BYTES:
        raise LimitError(
            f"{source}: {len(text):,} characters is more than the {config.MAX_DOCUMENT_BYTES:,} allowed in one engagement file"
        )
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = f", line {mark.line + 1}" if mark else ""
            raise InputError(f"{source}{line}: not valid YAML: {exc.problem or exc}") from None
        except yaml.YAMLError as exc:
            raise InputError(f"{source}: not valid YAML: {exc}") from None
        lines: dict[tuple[Any, ...], int] = {}
        if node is None:
            return None, lines
        walk = _Walk(source)
        try:
            _walk(node, (), lines, walk)
        except _AliasFound as found:
            raise found.at(*_first_alias(text)) from None
        try:
            data = loader.construct_document(node)
        except (yaml.YAMLError, ValueError, KeyError, AttributeError, TypeError, OverflowError):
            # Only an explicitly tagged value that does not read as its tag (``!!int abc``)
            # gets here: find it again, now building each value, to name its line and key.
            raise _unreadable_value(node, walk) from None
    except RecursionError:  # nesting thousands deep: the pure-Python parser gives up
        raise InputError(f"{source}: lists and mappings nested too deeply to be an engagement file") from None
    finally:
        loader.dispose()
    return data, lines


class _Walk:
    """What the node walk carries: the file's name, the nodes seen (an alias is a node seen twice), a count."""

    def __init__(self, source: str) -> None:
        self.source, self.seen, self.count = source, set[int](), 0

    def fail(self, node: yaml.Node, path: tuple[Any, ...], problem: str) -> InputError:
        from csm_nb.data.schema import dotted

        where = f": {dotted(path)}" if path else ""  # as schema.Context.where writes it
        return InputError(f"{self.source}, line {node.start_mark.line + 1}{where}: {problem}")


class _AliasFound(Exception):
    """A node met twice: an alias. The composed node carries its anchor's line, so the alias's own line is looked up."""

    def __init__(self, source: str, path: tuple[Any, ...]) -> None:
        self.source, self.path = source, path

    def at(self, line: int | None, name: str | None) -> InputError:
        from csm_nb.data.schema import dotted

        where = f", line {line}" if line else ""
        key = f": {dotted(self.path)}" if self.path else ""
        return InputError(
            f"{self.source}{where}{key}: YAML aliases (*{name or 'name'}) are not accepted; write the value out in full"
        )


def _first_alias(text: str) -> tuple[int | None, str | None]:
    """The line and name of the first ``*alias`` (only run once an alias was found, so a good file is parsed once)."""
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            return event.start_mark.line + 1, event.anchor
    return None, None


def _shown_tag(tag: str) -> str:
    return tag.replace(_YAML, "!!")


def _kind(node: yaml.Node) -> str:
    return (
        "a mapping"
        if isinstance(node, yaml.MappingNode)
        else "a list"
        if isinstance(node, yaml.SequenceNode)
        else "a single value"
    )


def _walk(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int], walk: _Walk) -> None:
    if id(node) in walk.seen:
        raise _AliasFound(walk.source, path)
    walk.seen.add(id(node))
    walk.count += 1
    if walk.count > config.MAX_YAML_NODES:
        raise LimitError(
            f"{walk.source}: more than {config.MAX_YAML_NODES:,} values in one engagement file; "
            "keep long tables (measurements, cash flow) in a CSV file the engagement names"
        )
    if len(path) > config.MAX_YAML_DEPTH:  # each level adds one key or index, so the path's length is the depth
        raise walk.fail(
            node,
            path[:3],
            f"lists and mappings nested more than {config.MAX_YAML_DEPTH} deep; an engagement file needs only a few levels",
        )  # path cut: 32 [0]s help nobody
    wanted = _NODE_OF_TAG.get(node.tag)
    if wanted is None and node.tag == _YAML + "value":
        node.tag, wanted = _STR, yaml.ScalarNode  # a lone "=" (YAML 1.1's value key) is just the text "="
    if wanted is None:
        raise walk.fail(
            node, path, f"the tag {_shown_tag(node.tag)} is not accepted; write plain text, numbers, dates, lists and mappings"
        )
    if node.__class__ is not wanted:  # only an explicit tag can disagree with the value: !!str [a], !!map x
        raise walk.fail(node, path, f"the tag {_shown_tag(node.tag)} does not fit {_kind(node)}; remove the tag")
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise walk.fail(key_node, path, "a key must be a plain name, not a list or mapping")
            if key_node.tag == _YAML + "merge":
                raise walk.fail(key_node, path, "merge keys (<<) are not accepted; write the keys out in full")
            _walk(key_node, path, {}, walk)  # problems with a key are named at the mapping that holds it
            key = _typed_key(key_node, path, walk)
            if key in seen:
                raise InputError(f"{walk.source}, line {key_node.start_mark.line + 1}: key {key!r} appears twice")
            seen.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines, walk)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[path + (i,)] = item.start_mark.line + 1
            _walk(item, path + (i,), lines, walk)
    elif node.tag == _TIMESTAMP:
        _construct(node, path, walk)  # 2026-02-30 has the shape of a date, but no calendar has it
    elif node.tag == _INT and len(node.value) > config.MAX_NUMBER_CHARS:
        shown = node.value if len(node.value) <= 30 else node.value[:27] + "..."
        raise walk.fail(
            node,
            path,
            f"{shown} is {len(node.value):,} characters long, too long for a number (at most "
            f"{config.MAX_NUMBER_CHARS}); put it in quotes if it is text",
        )


def _construct(node: yaml.ScalarNode, path: tuple[Any, ...], walk: _Walk) -> Any:
    """The value of one scalar, or one line naming it when it does not read as its tag."""
    try:
        # The tag's own constructor, called directly: construct_object would cache every node for the life of the process.
        return _CONSTRUCTOR.yaml_constructors[node.tag](_CONSTRUCTOR, node)
    except (yaml.YAMLError, ValueError, KeyError, AttributeError, TypeError, OverflowError):
        if node.tag == _TIMESTAMP:
            raise walk.fail(node, path, f"{node.value} is not a date that exists; expected YYYY-MM-DD") from None
        what = _READS_AS.get(node.tag.replace(_YAML, ""), "a plain value")
        raise walk.fail(
            node, path, f"{node.value!r} is not {what}, as the tag {_shown_tag(node.tag)} says; remove the tag or fix the value"
        ) from None


_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def _typed_key(node: yaml.ScalarNode, path: tuple[Any, ...], walk: _Walk) -> Any:
    """The key as the parsed data has it (milestone keys are ints or dates)."""
    return _construct(node, path, walk)


def _unreadable_value(root: yaml.Node, walk: _Walk) -> InputError:
    """One line for the first scalar under ``root`` that does not read as its tag (the slow path, after a failure)."""
    stack: list[tuple[yaml.Node, tuple[Any, ...]]] = [(root, ())]
    while stack:  # a stack, not recursion: the walk has already bounded the depth, but this needs no frames
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in reversed(node.value):
                stack.append((value_node, path + (_construct(key_node, path, walk),)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, path + (i,)) for i, item in reversed(list(enumerate(node.value))))
        else:
            _construct(node, path, walk)
    return InputError(f"{walk.source}: not plain YAML data")  # pragma: no cover - the walk above finds it
