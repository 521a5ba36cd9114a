"""A role's settings, as its ``meta/argument_specs.yml`` defines them: the one place where their names, types,
choices and defaults live.

``check_settings`` validates a mapping of the role's variables (full names) with Ansible's own
``ArgumentSpecValidator`` over the entry point's options, so every role reads values the way Ansible does
(``'false'``, ``'yes'`` and ``0`` are booleans, ``'8'`` is an integer), fills in the spec's defaults, and turns the
validator's errors into messages naming the variable path (``opto22_segment_conduits[3].name``), the value and the
rule. The planners then make only the checks a spec cannot express.

Cost: one validator call over plain data (not Ansible's tagged and lazy containers, which are slow to deep-copy);
only when it finds errors does a second walk name each problem's path.
"""

from __future__ import annotations

import copy
import difflib
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import DEFAULT_TYPE_VALIDATORS
from ansible.module_utils.common.validation import check_type_int

from ._errors import PortsError
from ._plain import plain

ROLES = Path(__file__).resolve().parents[2] / "roles"
# How each spec type is named in messages.
TYPE_WORDS = {
    "str": "a string",
    "path": "a path (a string)",
    "int": "an integer (written with the ASCII digits 0-9)",
    "float": "a number",
    "bool": "a boolean (true or false; Ansible also reads yes/no, on/off, 1/0)",
    "list": "a list",
    "dict": "a mapping",
    "raw": "a value",
}


class SettingsError(PortsError):
    """A role's settings break one or more rules; the message lists every problem."""


@dataclass
class Problems:
    """Every problem of one host's settings, so one run reports them all."""

    role: str
    error: type[PortsError] = SettingsError
    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.messages.append(message)

    def extend(self, messages: Sequence[str]) -> None:
        self.messages.extend(messages)

    def raise_if_any(self) -> None:
        if len(self.messages) == 1:
            raise self.error(self.messages[0])
        if self.messages:
            lines = "\n".join(f"  - {message}" for message in self.messages)
            raise self.error(f"{len(self.messages)} problems in the {self.role} settings:\n{lines}")


@dataclass(frozen=True)
class RoleSpec:
    """One entry point's options of a role's argument spec, and a validator built from them once."""

    role: str
    entry_point: str
    options: Mapping[str, Mapping[str, Any]]
    validator: ArgumentSpecValidator = field(repr=False, compare=False)

    @property
    def prefix(self) -> str:
        return f"{self.role}_"

    @property
    def names(self) -> list[str]:
        return list(self.options)

    def defaults(self) -> dict[str, Any]:
        """Each variable's default as the spec states it (None where it has none)."""
        return {name: copy.deepcopy(option.get("default")) for name, option in self.options.items()}


def check_ascii_int(value: Any) -> int:
    """Ansible's ``int`` conversion, except that text must use the ASCII digits: ``int('٨٠')`` is 80 in Python,
    and a port or a timeout written in another script's digits is a mistake (or a trick), never a number."""
    if isinstance(value, str) and not value.isascii():
        raise TypeError(f"{value!r} is not written with the ASCII digits 0-9")
    return check_type_int(value)


CONVERTERS = {**DEFAULT_TYPE_VALIDATORS, "int": check_ascii_int}


def _strict_types(options: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The options with ``int`` (and ``elements: int``) read by ``check_ascii_int``, at every nesting level."""
    strict = {}
    for name, option in options.items():
        copied = dict(option)
        for key in ("type", "elements"):
            if copied.get(key) == "int":
                copied[key] = check_ascii_int
        if "options" in copied:
            copied["options"] = _strict_types(copied["options"])
        strict[name] = copied
    return strict


@functools.cache
def role_spec(role: str, entry_point: str = "main") -> RoleSpec:
    """``roles/<role>/meta/argument_specs.yml`` (the checkout's or the installed collection's), read once."""
    path = ROLES / role / "meta" / "argument_specs.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    options = data["argument_specs"][entry_point]["options"]
    return RoleSpec(role, entry_point, options, ArgumentSpecValidator(_strict_types(copy.deepcopy(options))))


def check_settings(spec: RoleSpec, values: Any, problems: Problems) -> dict[str, Any]:
    """The role's variables validated and coerced as Ansible does, with the spec's defaults for unset ones.

    Problems (unknown variables, wrong types, choices, missing required values) are added to ``problems``; the
    returned mapping then holds the spec's defaults where a value was refused, so later checks can go on. Input that
    is not a mapping raises at once.
    """
    if not isinstance(values, Mapping):
        problems.add(
            f"expected a mapping of the {spec.role} role's variables by their full names "
            f"({', '.join(spec.names)}); got {type(values).__name__}"
        )
        problems.raise_if_any()  # nothing else can be checked
    given = plain(values)
    for name in [name for name in given if name not in spec.options]:
        problems.add(unknown_variable(spec, name))
        del given[name]
    result = spec.validator.validate(given)
    if not result.error_messages:
        return result.validated_parameters
    found = explain(spec.options, given, lambda name: name)
    problems.extend(found or [f"{spec.role}: {message}" for message in result.error_messages])
    return {**spec.defaults(), **_valid_part(spec, given)}


def unknown_variable(spec: RoleSpec, name: Any) -> str:
    close = difflib.get_close_matches(str(name), spec.names, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"{name}: not a variable of the {spec.role} role{hint}; known: {', '.join(spec.names)}"


def _valid_part(spec: RoleSpec, given: Mapping[str, Any]) -> dict[str, Any]:
    """The variables that pass on their own (only on the error path). In a list of mappings, an entry that fails is
    None in its place, so the planner can check the others with their own positions."""
    valid = {}
    for name, value in given.items():
        option = spec.options[name]
        result = ArgumentSpecValidator(_strict_types({name: option})).validate({name: value})
        if not result.error_messages:
            valid[name] = result.validated_parameters[name]
        elif option.get("type") == "list" and option.get("elements") == "dict" and isinstance(value, list):
            valid[name] = [_valid_entry(name, option, entry) for entry in value]
        elif option.get("type") == "dict" and isinstance(value, Mapping):
            valid.update(_valid_keys(name, option, value))
    return valid


def _valid_keys(name: str, option: Mapping[str, Any], value: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping's keys that pass on their own, over the spec's default for it."""
    validator = ArgumentSpecValidator(_strict_types({name: option}))
    merged = dict(option.get("default") or {})
    for key, item in value.items():
        if not validator.validate({name: {**merged, key: item}}).error_messages:
            merged[key] = item
    result = validator.validate({name: merged})
    return {} if result.error_messages else {name: result.validated_parameters[name]}


def _valid_entry(name: str, option: Mapping[str, Any], entry: Any) -> Any:
    result = ArgumentSpecValidator(_strict_types({name: option})).validate({name: [entry]})
    return None if result.error_messages else result.validated_parameters[name][0]


# ---- naming each problem: the validator's own checks, walked with a path ----------------------------------


def explain(options: Mapping[str, Mapping[str, Any]], values: Mapping[str, Any], where: Callable[[str], str]) -> list:
    """A message per problem, each naming its path, value and rule, for one level of options (recursing)."""
    found: list[str] = []
    for name, option in options.items():
        path = where(name)
        if name not in values:
            if option.get("required"):
                found.append(f"{path}: missing; it is required ({_rule(option)})")
        elif values[name] is None:
            if option.get("required") or option.get("default") is not None:  # the validator type-checks this None
                found.append(f"{path}: None (null) is not {_rule(option)}")
        else:
            found.extend(_explain_value(option, values[name], path))
    return found


def _explain_value(option: Mapping[str, Any], value: Any, path: str) -> list[str]:
    kind = option.get("type", "str")
    try:
        converted = _convert(kind, value)
    except (TypeError, ValueError):
        return [f"{path}: {value!r} is not {TYPE_WORDS.get(kind, kind)}"]
    if kind == "list":
        return [
            problem
            for index, item in enumerate(converted)
            for problem in _explain_item(option, item, f"{path}[{index}]")
        ]
    if kind == "dict" and "options" in option:
        return _explain_mapping(option["options"], converted, path)
    return _explain_choice(option, converted, path)


def _explain_item(option: Mapping[str, Any], item: Any, path: str) -> list[str]:
    kind = option.get("elements")
    if kind is None:
        return []
    try:
        converted = _convert(kind, item)
    except (TypeError, ValueError):
        return [f"{path}: {item!r} is not {TYPE_WORDS.get(kind, kind)}"]
    if kind == "dict" and "options" in option:
        return _explain_mapping(option["options"], converted, path)
    return _explain_choice(option, converted, path)


def _explain_mapping(options: Mapping[str, Mapping[str, Any]], value: Mapping[str, Any], path: str) -> list[str]:
    found = [f"{path}: unknown key {key!r}; allowed: {', '.join(options)}" for key in value if key not in options]
    return found + explain(options, value, lambda name: f"{path}.{name}")


def _explain_choice(option: Mapping[str, Any], value: Any, path: str) -> list[str]:
    choices = option.get("choices")
    if choices and value not in choices:
        close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return [f"{path}: {value!r} is not one of {', '.join(map(str, choices))}{hint}"]
    return []


def _convert(kind: str, value: Any) -> Any:
    checker = CONVERTERS.get(kind)
    return value if checker is None else checker(value)


def _rule(option: Mapping[str, Any]) -> str:
    kind = option.get("type", "str")
    words = TYPE_WORDS.get(kind, kind)
    if kind == "list" and option.get("elements"):
        words += f" of {option['elements']} values"
    return words
