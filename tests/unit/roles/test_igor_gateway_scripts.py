"""The igor_gateway role's two PowerShell scripts, read as text: PSScriptAnalyzer and `ansible-test sanity --test
pslint` can't run here (no PowerShell on these machines), so these checks hold the scripts to what the role promises:
the Defender script adds only what is missing, removes only on absent and only the given entries, honours check mode
and reports a diff; the firewall read changes nothing. Brackets must balance outside strings and comments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

FILES = Path(__file__).resolve().parents[3] / "roles" / "igor_gateway" / "files"
APPLY = yaml.safe_load((FILES.parent / "tasks" / "apply.yml").read_text(encoding="utf-8"))
COMPARE = (FILES.parent / "tasks" / "compare.yml").read_text(encoding="utf-8")
DEFENDER = (FILES / "defender_exclusions.ps1").read_text(encoding="utf-8")
GROUP_READ = (FILES / "firewall_group_rules.ps1").read_text(encoding="utf-8")
SCRIPTS = {"defender_exclusions.ps1": DEFENDER, "firewall_group_rules.ps1": GROUP_READ}
_CMDLET = re.compile(r"\b([A-Z][A-Za-z]+-[A-Z][A-Za-z]+)\b")


def code(script: str) -> str:
    """The script without comments and with every string literal emptied ('' and "" kept as markers)."""
    out, index = [], 0
    while index < len(script):
        char = script[index]
        if char == "#":
            index = script.find("\n", index)
            index = len(script) if index < 0 else index
        elif char in "'\"":
            end = index + 1
            while end < len(script):
                if char == '"' and script[end] == "`":
                    end += 2
                    continue
                if script[end] == char:
                    if script[end + 1 : end + 2] == char:  # '' or "" inside the string
                        end += 2
                        continue
                    break
                end += 1
            out.append(char * 2)
            index = end + 1
        else:
            out.append(char)
            index += 1
    return "".join(out)


def parameters(script: str) -> dict[str, str]:
    """name -> the attributes and type written before it, from the script's param (...) block."""
    block = re.search(r"\bparam\s*\((.*?)\n\)", script, re.DOTALL).group(1)
    chunks, depth, start = [], 0, 0
    for index, char in enumerate(block):
        depth += (char in "([") - (char in ")]")
        if char == "," and depth == 0:
            chunks.append(block[start:index])
            start = index + 1
    chunks.append(block[start:])
    found = {}
    for chunk in chunks:
        name = re.search(r"\$(\w+)", chunk)
        found[name.group(1)] = chunk[: name.start()].strip()
    return found


def powershell_tasks(name_part: str) -> list[dict]:
    return [t for t in APPLY if "ansible.windows.win_powershell" in t and name_part in t["name"]]


@pytest.mark.parametrize("name", SCRIPTS)
def test_brackets_balance_outside_strings_and_comments(name):
    stripped = code(SCRIPTS[name])
    for opening, closing in ("()", "{}", "[]"):
        depth = 0
        for char in stripped:
            depth += (char == opening) - (char == closing)
            assert depth >= 0, f"{name}: unbalanced {closing}"
        assert depth == 0, f"{name}: unbalanced {opening}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_runs_in_check_mode_and_stops_on_errors(name):
    """win_powershell skips a script in check mode unless it declares SupportsShouldProcess."""
    assert "[CmdletBinding(SupportsShouldProcess)]" in SCRIPTS[name]
    assert "$ErrorActionPreference = 'Stop'" in SCRIPTS[name]
    assert SCRIPTS[name].startswith("#Requires -Version 5.1\n")


@pytest.mark.parametrize(
    ("name_part", "script"),
    [("Microsoft Defender", DEFENDER), ("Read the rules", GROUP_READ)],
)
def test_the_role_passes_exactly_the_scripts_parameters(name_part, script):
    tasks = powershell_tasks(name_part)
    assert tasks
    for found in tasks:
        module = found["ansible.windows.win_powershell"]
        assert set(module["parameters"]) == set(parameters(script))
        assert module["depth"] >= 3  # Defender: result -> dict -> list of names
        if "Group" in module["parameters"]:
            assert module["depth"] >= 5  # result -> rules -> rule -> LocalPort list


def test_defender_parameters():
    params = parameters(DEFENDER)
    assert list(params) == ["State", "Paths", "Processes"]
    assert "[Parameter(Mandatory)]" in params["State"]
    assert "[ValidateSet('present', 'absent')]" in params["State"]
    assert params["Paths"].endswith("[string[]]")
    assert params["Processes"].endswith("[string[]]")


def test_defender_uses_only_these_cmdlets():
    """Set-MpPreference -Exclusion* would replace the host's whole list; the script must never call it."""
    assert set(_CMDLET.findall(code(DEFENDER))) == {
        "Get-Command",
        "Get-MpPreference",
        "Add-MpPreference",
        "Remove-MpPreference",
        "Where-Object",
        "Get-Excluded",
    }


def test_defender_adds_only_the_missing_entries_and_removes_only_on_absent():
    body = code(DEFENDER)
    assert body.count("Add-MpPreference") == 1
    assert body.count("Remove-MpPreference") == 1
    assert "$todo = @($wanted[$kind] | Where-Object { $_ -notin $before[$kind] })" in body
    assert "$entries = @{ $kind = $changes[$kind] }" in body
    # Add only for present, Remove only otherwise (absent), each only when ShouldProcess says so (not check mode).
    assert re.search(
        r"foreach \(\$kind in \$changes\.Keys\) \{\s+\$entries = [^\n]+\s+"
        r"if \(\$State -eq 'present'\) \{\s+"
        r"if \(\$PSCmdlet\.ShouldProcess\([^\n]+\)\) \{\s+Add-MpPreference @entries\s+\}\s+\}\s+"
        r"elseif \(\$PSCmdlet\.ShouldProcess\([^\n]+\)\) \{\s+Remove-MpPreference @entries\s+\}\s+\}",
        DEFENDER,
    )


def test_defender_reports_changed_and_a_diff_of_the_given_entries_only():
    body = code(DEFENDER)
    assert "$Ansible.Changed = $changes.Count -gt 0" in body
    assert "$Ansible.Diff = @{ before = $before; after = $after }" in body
    assert "$Ansible.Result = @{ state = $State; changed = $changes }" in body
    # $before and the check after the change hold only the given entries that Defender excludes.
    assert "$excluded[$kind] = @($Wanted[$kind] | Where-Object { $_ -in $current })" in body
    assert "-not $Ansible.CheckMode" in body


def test_group_read_changes_nothing_and_returns_what_compare_reads():
    """Only Get- cmdlets and the script's own helpers; the result is the shape igor_gateway_compare reads."""
    body = code(GROUP_READ)
    assert set(_CMDLET.findall(body)) == {
        "Get-NetFirewallRule",
        "Get-NetFirewallPortFilter",
        "Get-NetFirewallAddressFilter",
        "Get-NetFirewallApplicationFilter",
        "Get-MpPreference",
        "Get-Command",
        "Where-Object",
        "ForEach-Object",
        "ConvertTo-PortSpan",
        "Test-OpensPort",
        "Get-FilterIndex",
        "Get-RuleFilter",
        "ConvertTo-Strings",
        "ConvertTo-RuleRecord",
    }
    assert not re.search(r"\$_\.\w+\s*=[^=]|\$rule\.\w+\s*=[^=]", body)
    assert "$Ansible.Changed = $false" in body
    assert re.search(r"rules = @\(\$selected\)\s+defender = \$defender\s+defender_note = \$defenderNote", body)
    assert "otnet.ports.igor_gateway_compare(__igor_gateway_existing.result)" in COMPARE
    assert parameters(GROUP_READ)["Group"].startswith("[Parameter(Mandatory)]")
