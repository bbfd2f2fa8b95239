# kakari のワーカーを Windows タスク スケジューラに登録する (register a kakari pool worker).
#
#   powershell -ExecutionPolicy Bypass -File docs\service\register-worker.ps1 `
#       -KakariDir C:\kakari -Queue welfare -DatabaseUrl postgresql://kakari@db01:5432/kakari
#
# 登録するもの: ログオン時に起動、失敗したら 1 分後に再起動、10 分ごとの見守り（動いていれば
# 何もしない）、実行時間の上限なし、コンソール画面なし (pythonw.exe)。NSSM などは不要です。
# 管理者権限は不要です（自分のユーザーのタスクとして登録します）。 See docs/pool.md.
# パスワードは URL に書かず %APPDATA%\postgresql\pgpass.conf に置きます。

param(
    [string]$KakariDir = "C:\kakari",
    [string[]]$Queue = @(),
    [string]$DatabaseUrl = "",
    [string]$User = "$env:USERDOMAIN\$env:USERNAME",
    [string]$RpaHome = "",
    [string]$TaskName = "kakari-worker"
)

$ErrorActionPreference = "Stop"
$pythonw = Join-Path $KakariDir ".venv\Scripts\pythonw.exe"
if (-not (Test-Path $pythonw)) {
    throw "見つかりません (not found): $pythonw  -- install kakari first (docs/install-windows.md)"
}
if ($DatabaseUrl -ne "") {
    [Environment]::SetEnvironmentVariable("RPA_DATABASE_URL", $DatabaseUrl, "User")
}
if ($RpaHome -ne "") {
    [Environment]::SetEnvironmentVariable("RPA_HOME", $RpaHome, "User")
}
$queues = ($Queue | ForEach-Object { "--queue $_" }) -join " "

$action = New-ScheduledTaskAction -Execute $pythonw `
    -Argument "-m framework.cli --project `"$KakariDir`" worker $queues" `
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
    -Description "kakari: キューのボット実行を受け持つワーカー (rpa worker)" -Force | Out-Null

Start-ScheduledTask -TaskPath "\kakari\" -TaskName $TaskName
Write-Host "登録して起動しました (registered and started): \kakari\$TaskName"
Write-Host "確認 (check): $KakariDir\.venv\Scripts\rpa.exe --project $KakariDir workers"
