#Requires -Version 5.1
# Run by ansible.windows.win_powershell from the otnet.ports.igor_gateway role.
# -State present adds those of -Paths / -Processes that Microsoft Defender Antivirus does not exclude yet;
# -State absent removes those of them that it does. Nothing else is added, removed, or reported: the diff and the
# result name only the given entries, never the host's other exclusions. Check mode (-WhatIf) reports the change
# and makes none.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory)]
    [ValidateSet('present', 'absent')]
    [string]$State,

    [string[]]$Paths = @(),

    [string[]]$Processes = @()
)

$ErrorActionPreference = 'Stop'

if (-not (Get-Command -Name Get-MpPreference -ErrorAction SilentlyContinue)) {
    throw 'Microsoft Defender Antivirus (Get-MpPreference) is not available on this host. Set igor_gateway_av_exclusions to false and add the documented exclusions to the antivirus in use.'
}

function Get-Excluded {
    # The given entries Defender excludes now, per kind (-in compares case-insensitively, like Windows paths).
    param ($Preference, [System.Collections.IDictionary]$Wanted)
    $excluded = [ordered]@{}
    foreach ($kind in $Wanted.Keys) {
        $current = @($Preference.$kind | Where-Object { $_ })
        if ($current | Where-Object { $_ -like 'N/A*' }) {
            throw "Get-MpPreference hides $kind from this account; run the role as an administrator."
        }
        $excluded[$kind] = @($Wanted[$kind] | Where-Object { $_ -in $current })
    }
    $excluded
}

$wanted = [ordered]@{ ExclusionPath = @($Paths); ExclusionProcess = @($Processes) }
$before = Get-Excluded -Preference (Get-MpPreference) -Wanted $wanted
$after = [ordered]@{}
$changes = [ordered]@{}
foreach ($kind in $wanted.Keys) {
    if ($State -eq 'present') {
        $after[$kind] = $wanted[$kind]
        $todo = @($wanted[$kind] | Where-Object { $_ -notin $before[$kind] })
    }
    else {
        $after[$kind] = @()
        $todo = $before[$kind]
    }
    if ($todo.Count -gt 0) {
        $changes[$kind] = $todo
    }
}

foreach ($kind in $changes.Keys) {
    $entries = @{ $kind = $changes[$kind] }
    if ($State -eq 'present') {
        if ($PSCmdlet.ShouldProcess(($changes[$kind] -join ', '), "Add-MpPreference -$kind")) {
            Add-MpPreference @entries
        }
    }
    elseif ($PSCmdlet.ShouldProcess(($changes[$kind] -join ', '), "Remove-MpPreference -$kind")) {
        Remove-MpPreference @entries
    }
}

if ($changes.Count -gt 0 -and -not $Ansible.CheckMode) {
    # A policy (Group Policy, Intune, tamper protection) can keep local exclusions from taking effect: say so.
    $now = Get-Excluded -Preference (Get-MpPreference) -Wanted $wanted
    foreach ($kind in $wanted.Keys) {
        if (@($now[$kind]).Count -ne @($after[$kind]).Count) {
            throw "Defender $kind did not change as requested; a policy may manage Microsoft Defender exclusions on this host."
        }
    }
}

$Ansible.Changed = $changes.Count -gt 0
$Ansible.Diff = @{ before = $before; after = $after }
$Ansible.Result = @{ state = $State; changed = $changes }
