# kakari スケジューラを Windows タスク スケジューラに登録する (register the kakari scheduler).
#
#   powershell -ExecutionPolicy Bypass -File docs\service\register-scheduler.ps1 -KakariDir C:\kakari
#
# 登録するもの: ログオン時に起動、失敗したら 1 分後に再起動、10 分ごとの見守り（動いていれば
# 何もしない）、実行時間の上限なし、コンソール画面なし (pythonw.exe)。
# 管理者権限は不要です（自分のユーザーのタスクとして登録します）。 See docs/scheduler.md.

param(
    [string]$KakariDir = "C:\kakari",
    [string]$User = "$env:USERDOMAIN\$env:USERNAME",
    [string]$RpaHome = "",
    [string]$TaskName = "kakari-scheduler"
)

$ErrorActionPreference = "Stop"
$pythonw = Join-Path $KakariDir ".venv\Scripts\pythonw.exe"
if (-not (Test-Path $pythonw)) {
    throw "見つかりません (not found): $pythonw  -- install kakari first (docs/install-windows.md)"
}
if ($RpaHome -ne "") {
    # RPA_HOME for this user (the task inherits the user's environment)
    [Environment]::SetEnvironmentVariable("RPA_HOME", $RpaHome, "User")
}

$action = New-ScheduledTaskAction -Execute $pythonw `
    -Argument "-m framework.cli --project `"$KakariDir`" scheduler start" `
    -WorkingDirectory $KakariDir
$atLogon = New-ScheduledTaskTrigger -AtLogOn -User $User
$watchdog = New-ScheduledTaskTrigger -Once -At (Get-Date).Date `
    -RepetitionInterval (New-TimeSpan -Minutes 10)
$settings = New-ScheduledTaskSettingsSet `
    -MultipleInstances IgnoreNew `
    -RestartCount 999 -RestartInterval (New-TimeSpan -Minutes 1) `
    -ExecutionTimeLimit ([TimeSpan]::Zero) `
    -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries -StartWhenAvailable
$principal = New-ScheduledTaskPrincipal -UserId $User -LogonType Interactive -RunLevel Limited

Register-ScheduledTask -TaskName $TaskName -TaskPath "\kakari\" -Action $action `
    -Trigger @($atLogon, $watchdog) -Settings $settings -Principal $principal `
    -Description "kakari: 営業日の夜間にボットを実行するスケジューラ (rpa scheduler)" -Force | Out-Null

Start-ScheduledTask -TaskPath "\kakari\" -TaskName $TaskName
Write-Host "登録して起動しました (registered and started): \kakari\$TaskName"
Write-Host "確認 (check): $KakariDir\.venv\Scripts\rpa.exe --project $KakariDir scheduler status"
