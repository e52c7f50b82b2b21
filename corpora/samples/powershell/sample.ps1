<#
.SYNOPSIS
    Cleans up old log files and writes a summary report.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string]$LogRoot,

    [int]$MaxAgeDays = 30,

    [switch]$WhatIf
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# Keep track of what we removed, keyed by extension
$summary = @{}
$cutoff = (Get-Date).AddDays(-$MaxAgeDays)
$patterns = @('*.log', '*.txt', '*.gz')

function Get-SizeLabel {
    param([long]$Bytes)
    if ($Bytes -ge 1gb) {
        return '{0:N2} GB' -f ($Bytes / 1gb)
    }
    elseif ($Bytes -ge 1mb) {
        return '{0:N2} MB' -f ($Bytes / 1mb)
    }
    else {
        return "$Bytes bytes"
    }
}

class CleanupResult {
    [string]$Path
    [long]$Bytes
    [bool]$Removed

    CleanupResult([string]$path, [long]$bytes) {
        $this.Path = $path
        $this.Bytes = $bytes
        $this.Removed = $false
    }
}

if (-not (Test-Path -Path $LogRoot)) {
    Write-Error "Log root '$LogRoot' does not exist"
    exit 1
}

$results = New-Object System.Collections.Generic.List[CleanupResult]

foreach ($pattern in $patterns) {
    $files = Get-ChildItem -Path $LogRoot -Filter $pattern -Recurse -File |
        Where-Object { $_.LastWriteTime -lt $cutoff }

    foreach ($file in $files) {
        $result = [CleanupResult]::new($file.FullName, $file.Length)
        try {
            if (-not $WhatIf) {
                Remove-Item -LiteralPath $file.FullName -Force
            }
            $result.Removed = $true
            $ext = $file.Extension.ToLower()
            if (-not $summary.ContainsKey($ext)) {
                $summary[$ext] = 0
            }
            $summary[$ext] += $file.Length
        }
        catch {
            Write-Warning "Could not remove $($file.FullName): $_"
        }
        $results.Add($result)
    }
}

$total = ($results | Where-Object Removed | Measure-Object -Property Bytes -Sum).Sum
switch ($results.Count) {
    0 { Write-Host 'Nothing to clean up.' }
    { $_ -gt 100 } { Write-Host "Removed a lot of files: $($results.Count)" }
    default { Write-Host "Removed $($results.Count) files" }
}

$summary.GetEnumerator() | Sort-Object Name | ForEach-Object {
    Write-Host ("{0,-6} {1}" -f $_.Key, (Get-SizeLabel -Bytes $_.Value))
}
Write-Host "Total reclaimed: $(Get-SizeLabel -Bytes ([long]$total))"
