#Requires -Version 5.1
# Read-only. Run by ansible.windows.win_powershell from the otnet.ports.igor_gateway role, in check mode too.
# Returns the names of the Windows Firewall rules in -Group (in_group), and the names of rules OUTSIDE the group
# that equal one of those names or one of -Names (outside): win_firewall_rule selects rules by name, so the role
# stops rather than change such a rule. Names compare case-insensitively, as Windows compares them.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory)]
    [string]$Group,

    [string[]]$Names = @()
)

$ErrorActionPreference = 'Stop'

$rules = @((New-Object -ComObject HNetCfg.FwPolicy2).Rules)
$inGroup = @($rules | Where-Object { $_.Grouping -eq $Group } | ForEach-Object { $_.Name } | Sort-Object -Unique)
$ours = @($Names) + $inGroup
$outside = @(
    $rules | Where-Object { $_.Grouping -ne $Group -and $_.Name -in $ours } | ForEach-Object { $_.Name } |
        Sort-Object -Unique
)

$Ansible.Changed = $false
$Ansible.Result = @{
    in_group = $inGroup
    outside = $outside
}
