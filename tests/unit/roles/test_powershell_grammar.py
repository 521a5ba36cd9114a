"""Every PowerShell script the collection ships or runs, parsed with a real PowerShell grammar (tree-sitter-powershell).

No PowerShell runs on these machines, so `ansible-test sanity --test pslint` can't; the grammar catches what a text
check can't: a syntax error whose brackets balance (`function f { $x = 1 + }`) fails here, naming the file and the
line. Scripts are found two ways, so a new one can't slip past: every *.ps1 file under roles/, playbooks/ and
extensions/, and every script a task hands to a PowerShell module (win_powershell's `script`, win_shell's command)
in the YAML files there. A script that a task reads with a file lookup must be one of the parsed files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell
import yaml

REPO = Path(__file__).resolve().parents[3]
SEARCHED = ("roles", "playbooks", "extensions")
POWERSHELL_MODULES = {
    "ansible.windows.win_powershell": "script",
    "win_powershell": "script",
    "ansible.windows.win_shell": "cmd",
    "win_shell": "cmd",
}
_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_FILE_LOOKUP = re.compile(
    r"""^\{\{\s*lookup\(\s*['"](?:ansible\.builtin\.)?file['"]\s*,\s*['"]([^'"]+)['"]\s*\)\s*\}\}$"""
)


@dataclass(frozen=True)
class Script:
    """A script to parse: where it is (path relative to the repository, first line of its text there) and the text."""

    path: str
    line: int
    text: str


def syntax_errors(text: str) -> list[tuple[int, int, str]]:
    """(line, column, what) of each error or missing node, 1-based, in document order; [] when the script parses."""
    tree = _PARSER.parse(text.encode("utf-8"))
    found: list[tuple[int, int, str]] = []
    cursor = [tree.root_node]
    while cursor:
        node = cursor.pop()
        if node.is_missing:
            found.append((node.start_point[0] + 1, node.start_point[1] + 1, f"missing {node.type!r}"))
        elif node.is_error:
            snippet = text.encode("utf-8")[node.start_byte : node.end_byte].decode("utf-8", "replace")
            found.append((node.start_point[0] + 1, node.start_point[1] + 1, f"unexpected {snippet.strip()[:40]!r}"))
        elif node.has_error:
            cursor.extend(reversed(node.children))
    return sorted(found)


def parse_problem(script: Script) -> str | None:
    """None when the script parses, else one message naming the file and the line of the first error."""
    errors = syntax_errors(script.text)
    if not errors:
        return None
    line, column, what = errors[0]
    return f"{script.path}:{script.line + line - 1}:{column}: PowerShell syntax error: {what}"


def shipped_files() -> list[Path]:
    return sorted(path for top in SEARCHED for path in (REPO / top).rglob("*.ps1"))


def _yaml_files() -> list[Path]:
    return sorted(path for top in SEARCHED for pattern in ("*.yml", "*.yaml") for path in (REPO / top).rglob(pattern))


class _Loader(yaml.SafeLoader):
    """Safe loading that takes any tag (!vault, !unsafe) as a plain scalar."""


_Loader.add_multi_constructor("", lambda loader, _suffix, node: loader.construct_scalar(node))


def _mapping_items(node: yaml.Node):
    """Every (key, value) node pair of every mapping in the document, depth first."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key, value
            yield from _mapping_items(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _mapping_items(item)


def _script_node(value: yaml.Node, option: str) -> yaml.ScalarNode | None:
    """The node holding the module's script: the option's value, or the free-form string (win_shell)."""
    if isinstance(value, yaml.ScalarNode):
        return value
    if isinstance(value, yaml.MappingNode):
        for key, item in value.value:
            if key.value == option and isinstance(item, yaml.ScalarNode):
                return item
    return None


def powershell_tasks(path: Path, text: str | None = None) -> list[tuple[int, str]]:
    """(first line of the script in the file, script as written) of every PowerShell module call in a YAML file."""
    source = path.read_text(encoding="utf-8") if text is None else text
    found = []
    for document in yaml.compose_all(source, Loader=_Loader):
        for key, value in _mapping_items(document):
            option = POWERSHELL_MODULES.get(key.value) if isinstance(key, yaml.ScalarNode) else None
            node = _script_node(value, option) if option else None
            if node is not None:
                block = node.style in ("|", ">")  # a block scalar's text starts on the line after the indicator
                found.append((node.start_mark.line + 1 + block, node.value))
    return found


def without_jinja(script: str) -> str:
    """Each Jinja expression becomes a PowerShell variable, each statement or comment nothing, lines kept."""

    def stand_in(match: re.Match) -> str:
        newlines = "\n" * match.group(0).count("\n")
        return ("$jinja" if match.group(0).startswith("{{") else "") + newlines

    return _JINJA.sub(stand_in, script)


def inline_scripts() -> tuple[list[Script], list[tuple[str, str]]]:
    """The inline scripts, and (YAML file, file name) of each script read with a file lookup."""
    scripts, looked_up = [], []
    for path in _yaml_files():
        relative = str(path.relative_to(REPO))
        for line, script in powershell_tasks(path):
            lookup = _FILE_LOOKUP.match(script.strip())
            if lookup:
                looked_up.append((relative, lookup.group(1)))
            else:
                scripts.append(Script(relative, line, without_jinja(script)))
    return scripts, looked_up


SHIPPED = [Script(str(path.relative_to(REPO)), 1, path.read_text(encoding="utf-8")) for path in shipped_files()]
INLINE, LOOKED_UP = inline_scripts()


def test_the_shipped_scripts_are_found():
    """The search can't come back empty: the igor_gateway role's two scripts, and the three tasks that run them."""
    assert {s.path for s in SHIPPED} >= {
        "roles/igor_gateway/files/defender_exclusions.ps1",
        "roles/igor_gateway/files/firewall_group_rules.ps1",
    }
    apply = [name for source, name in LOOKED_UP if source == "roles/igor_gateway/tasks/apply.yml"]
    assert sorted(apply) == ["defender_exclusions.ps1", "defender_exclusions.ps1", "firewall_group_rules.ps1"]


@pytest.mark.parametrize(("source", "name"), LOOKED_UP, ids=[f"{s}->{n}" for s, n in LOOKED_UP])
def test_a_script_read_with_a_file_lookup_is_a_parsed_file(source, name):
    role_files = REPO / Path(source).parents[1] / "files"
    assert (role_files / name).is_file(), f"{source}: lookup('file', {name!r}) finds no {role_files / name}"
    assert str((role_files / name).relative_to(REPO)) in {s.path for s in SHIPPED}


@pytest.mark.parametrize("script", SHIPPED + INLINE, ids=[f"{s.path}:{s.line}" for s in SHIPPED + INLINE])
def test_every_powershell_script_parses(script):
    assert parse_problem(script) is None, parse_problem(script)


# ---- the check itself: scripts that must fail, with the line they fail on --------------------------------------------

BROKEN = {
    "dangling operator, brackets balanced": ("function f { $x = 1 + }", 1),
    "two operators in a row": ("$x = 1 + * 2", 1),
    "unclosed brace": ("function f {\n  $x = 1\n", 2),
    "stray closing parenthesis": ("$ok = 1\n$x = (1 + 2))", 2),
    "unterminated single-quoted string": ("$x = 'abc\n$y = 2", 1),
    "unterminated here-string": ("$x = @'\nabc\n", 1),
    "if without a condition": ("$ok = 1\n\nif { 1 }", 3),
    "foreach without in": ("foreach ($x $y) { }", 1),
    "hashtable key without a value": ("$h = @{ a = }", 1),
    "param with a trailing comma": ("param([string]$a,)", 1),
    "pipeline to nothing": ("Get-Item |", 1),
    "index without closing bracket": ("$a[1", 1),
    "function without a body": ("function f", 1),
}


@pytest.mark.parametrize(("text", "line"), BROKEN.values(), ids=BROKEN.keys())
def test_a_syntax_error_fails_naming_the_file_and_line(text, line):
    problem = parse_problem(Script("roles/example/files/broken.ps1", 1, text))
    assert problem is not None, "the grammar accepted a broken script"
    assert problem.startswith(f"roles/example/files/broken.ps1:{line}:"), problem


VALID = {
    "param block with attributes": (
        "[CmdletBinding(SupportsShouldProcess)]\n"
        "param([Parameter(Mandatory)][ValidateSet('present', 'absent')][string]$State, [string[]]$Paths = @())\n"
        "$Ansible.Changed = $false\n"
    ),
    "hashtables, arrays and a pipeline": "$h = @{ a = @(1, 2); b = $null }\n$h.Keys | Where-Object { $_ -ne 'a' }",
    "try, catch, finally": "try { Get-Item x } catch { $_.Exception.Message } finally { }",
    "if, elseif, else and foreach": "foreach ($k in $h.Keys) { if ($k -eq 1) { } elseif ($k) { } else { } }",
    "here-string": "$x = @'\nit's fine\n'@\n",
    "Ansible's result object": "$Ansible.Changed = $changes.Count -gt 0\n$Ansible.Diff = @{ before = $b; after = $a }",
}


@pytest.mark.parametrize("text", VALID.values(), ids=VALID.keys())
def test_valid_powershell_parses(text):
    """The other half of the check: the grammar isn't simply refusing everything."""
    assert syntax_errors(text) == []


def test_an_error_in_a_shipped_script_names_its_line():
    """A copy of a shipped script broken in the middle (brackets balanced) fails on that line and no earlier."""
    script = next(s for s in SHIPPED if s.path.endswith("defender_exclusions.ps1"))
    lines = script.text.splitlines(keepends=True)
    middle = len(lines) // 2
    broken = "".join([*lines[:middle], "$broken = (1 +)\n", *lines[middle:]])
    problem = parse_problem(Script(script.path, 1, broken))
    assert problem is not None
    assert problem.startswith(f"{script.path}:{middle + 1}:"), problem


TASKS = """\
- name: A task with an inline script
  ansible.windows.win_powershell:
    script: |
      $x = '{{ value }}'
      $y = 1 +
- name: A free-form win_shell command
  ansible.windows.win_shell: Get-Item {{ path }} | Select-Object -First 1
"""


def test_inline_scripts_are_found_and_their_errors_name_the_yaml_line(tmp_path):
    path = tmp_path / "tasks.yml"
    found = powershell_tasks(path, TASKS)
    assert [line for line, _ in found] == [4, 7]
    first, second = (Script("tasks.yml", line, without_jinja(text)) for line, text in found)
    assert parse_problem(first).startswith("tasks.yml:5:"), parse_problem(first)
    assert parse_problem(second) is None
