#Requires -Version 5.1
# Read-only: changes nothing. Run by ansible.windows.win_powershell from the otnet.ports.igor_gateway role, in check
# mode too (SupportsShouldProcess makes win_powershell run it there). It only reports; the controller decides
# (filter otnet.ports.igor_gateway_compare, plugins/plugin_utils/_igor_compare.py).
#
# Result (a stable shape; tests/unit/fixtures/igor_cmdlets/README.md documents it with recorded examples):
#   rules         one record per Windows Firewall rule of the active policy (local and Group Policy rules) that
#                 is in -Group; or is named (DisplayName, case-insensitively) like one of -Names or like a rule in
#                 -Group; or is an enabled inbound allow rule outside -Group whose local port is Any or overlaps
#                 one of -Ports. Each record: Get-NetFirewallRule's Name, DisplayName, Group, Description, Enabled,
#                 Profile, Direction, Action, PolicyStoreSourceType (enums as their names: [string] gives
#                 'Inbound', 'Allow', 'True', 'Domain, Private, Public', 'Local' - ConvertTo-Json alone would
#                 give integers); Get-NetFirewallPortFilter's Protocol, LocalPort, RemotePort;
#                 Get-NetFirewallAddressFilter's RemoteAddress; Get-NetFirewallApplicationFilter's Program.
#                 LocalPort, RemotePort and RemoteAddress are always arrays of strings.
#   defender      Get-MpPreference's ExclusionPath and ExclusionProcess (arrays), or $null when they can't be read.
#   defender_note why defender is $null, else $null.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory)]
    [string]$Group,

    [string[]]$Names = @(),

    # Local ports of the planned inbound rules as Windows shows them: '<port>' or '<first>-<last>'.
    [string[]]$Ports = @()
)

$ErrorActionPreference = 'Stop'

function ConvertTo-PortSpan {
    # '<port>' -> one port, '<first>-<last>' -> that span; a keyword such as RPC or IPHTTPS -> nothing.
    param ([string]$Text)
    if ($Text -match '^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$') {
        $first = [int]$Matches[1]
        $last = $first
        if ($Matches[2]) {
            $last = [int]$Matches[2]
        }
        [pscustomobject]@{ First = $first; Last = $last }
    }
}

function Test-OpensPort {
    # Whether local ports as Windows shows them include Any or overlap one of the wanted spans.
    param ([string[]]$LocalPort, [object[]]$Wanted)
    if ($Wanted.Count -eq 0) {
        return $false
    }
    foreach ($text in $LocalPort) {
        if ($text -eq 'Any') {
            return $true
        }
        $span = ConvertTo-PortSpan -Text $text
        if ($null -eq $span) {
            continue
        }
        foreach ($port in $Wanted) {
            if ($span.First -le $port.Last -and $port.First -le $span.Last) {
                return $true
            }
        }
    }
    $false
}

function Get-FilterIndex {
    # Filters of every rule, by their InstanceID, which is their rule's Name (one query instead of one per rule).
    param ([object[]]$Filters)
    $index = @{}
    foreach ($filter in $Filters) {
        if ($filter.InstanceID) {
            $index[[string]$filter.InstanceID] = $filter
        }
    }
    $index
}

function Get-RuleFilter {
    # A rule's filter from the index; a rule the -All query left out (it can come back partial) is asked directly.
    param ([hashtable]$Index, $Rule, [string]$Kind)
    $filter = $Index[[string]$Rule.Name]
    if ($null -eq $filter) {
        $filter = switch ($Kind) {
            'Port' { Get-NetFirewallPortFilter -AssociatedNetFirewallRule $Rule }
            'Address' { Get-NetFirewallAddressFilter -AssociatedNetFirewallRule $Rule }
            'Application' { Get-NetFirewallApplicationFilter -AssociatedNetFirewallRule $Rule }
        }
        $Index[[string]$Rule.Name] = $filter
    }
    $filter
}

function ConvertTo-Strings {
    param ($Value)
    , @($Value | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })
}

function ConvertTo-RuleRecord {
    param ($Rule, $PortFilter, $AddressFilter, $ApplicationFilter)
    [ordered]@{
        Name = [string]$Rule.Name
        DisplayName = [string]$Rule.DisplayName
        Group = [string]$Rule.Group
        Description = [string]$Rule.Description
        Enabled = [string]$Rule.Enabled
        Profile = [string]$Rule.Profile
        Direction = [string]$Rule.Direction
        Action = [string]$Rule.Action
        PolicyStoreSourceType = [string]$Rule.PolicyStoreSourceType
        Protocol = [string]$PortFilter.Protocol
        LocalPort = ConvertTo-Strings -Value $PortFilter.LocalPort
        RemotePort = ConvertTo-Strings -Value $PortFilter.RemotePort
        RemoteAddress = ConvertTo-Strings -Value $AddressFilter.RemoteAddress
        Program = [string]$ApplicationFilter.Program
    }
}

$store = @{ PolicyStore = 'ActiveStore' }
$rules = @(Get-NetFirewallRule -All @store)
$portFilters = Get-FilterIndex -Filters @(Get-NetFirewallPortFilter -All @store)
$addressFilters = Get-FilterIndex -Filters @(Get-NetFirewallAddressFilter -All @store)
$applicationFilters = Get-FilterIndex -Filters @(Get-NetFirewallApplicationFilter -All @store)
$wanted = @($Ports | ForEach-Object { ConvertTo-PortSpan -Text $_ })

$inGroup = @($rules | Where-Object { $_.Group -eq $Group })
$ours = @($Names) + @($inGroup | ForEach-Object { [string]$_.DisplayName })
$selected = foreach ($rule in $rules) {
    $portFilter = Get-RuleFilter -Index $portFilters -Rule $rule -Kind 'Port'
    $opens = $rule.Group -ne $Group -and [string]$rule.Enabled -eq 'True' -and
        [string]$rule.Direction -eq 'Inbound' -and [string]$rule.Action -eq 'Allow' -and
        (Test-OpensPort -LocalPort (ConvertTo-Strings -Value $portFilter.LocalPort) -Wanted $wanted)
    if ($rule.Group -eq $Group -or $rule.DisplayName -in $ours -or $opens) {
        ConvertTo-RuleRecord -Rule $rule -PortFilter $portFilter `
            -AddressFilter (Get-RuleFilter -Index $addressFilters -Rule $rule -Kind 'Address') `
            -ApplicationFilter (Get-RuleFilter -Index $applicationFilters -Rule $rule -Kind 'Application')
    }
}

$defender = $null
$defenderNote = $null
if (-not (Get-Command -Name Get-MpPreference -ErrorAction SilentlyContinue)) {
    $defenderNote = 'Microsoft Defender Antivirus (Get-MpPreference) is not available on this host.'
}
else {
    try {
        $preference = Get-MpPreference
        $paths = ConvertTo-Strings -Value $preference.ExclusionPath
        $processes = ConvertTo-Strings -Value $preference.ExclusionProcess
        if (@($paths) + @($processes) | Where-Object { $_ -like 'N/A*' }) {
            $defenderNote = 'Get-MpPreference hides the exclusions from this account; run as an administrator.'
        }
        else {
            $defender = [ordered]@{ ExclusionPath = $paths; ExclusionProcess = $processes }
        }
    }
    catch {
        $defenderNote = "Get-MpPreference failed: $($_.Exception.Message)"
    }
}

$Ansible.Changed = $false
$Ansible.Result = [ordered]@{
    rules = @($selected)
    defender = $defender
    defender_note = $defenderNote
}
