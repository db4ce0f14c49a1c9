@echo off
rem The device agent on a Windows kiosk. Registered as a scheduled task that starts at boot and
rem restarts on failure (run once, as administrator, from this folder):
rem
rem   schtasks /Create /TN "OneWindow agent" /SC ONSTART /RU SYSTEM /RL HIGHEST /TR "\"%~dp0onewindow-agent.cmd\""
rem
rem or as a service with NSSM (https://nssm.cc): nssm install OneWindowAgent "%~dp0onewindow-agent.cmd"
rem Set the three values below; the printer is the name Windows shows under Printers (win32:NAME),
rem or usb:VID:PID / serial:COM3 / network:HOST:PORT. Python and `pip install onewindow` first.
set ONEWINDOW_SERVER=https://queue.example.gov.cn
set ONEWINDOW_TOKEN=owd_replace_with_the_token_device_add_printed
set ONEWINDOW_PRINTER=win32:POS-80C
rem The agent retries by itself; this loop only brings it back if Python itself ends.
:again
"C:\Program Files\OneWindow\venv\Scripts\queue-server.exe" agent --server %ONEWINDOW_SERVER% --token %ONEWINDOW_TOKEN% --printer "%ONEWINDOW_PRINTER%"
timeout /t 5 /nobreak >nul
goto again
