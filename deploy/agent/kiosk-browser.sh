#!/bin/sh
# The kiosk page full screen in Chromium's kiosk mode (start it from the kiosk user's session,
# e.g. ~/.config/autostart or a systemd --user unit). TOKEN is the kiosk's device token: the page
# then issues as this kiosk and shows when its own printer cannot print.
SERVER="${ONEWINDOW_SERVER:-https://queue.example.gov.cn}"
HALL="${ONEWINDOW_HALL:-erdao}"
exec chromium --kiosk --noerrdialogs --disable-infobars --no-first-run --disable-session-crashed-bubble \
  --disable-translate --overscroll-history-navigation=0 --disable-pinch --autoplay-policy=no-user-gesture-required \
  --check-for-update-interval=31536000 \
  "$SERVER/kiosk/$HALL?device=$ONEWINDOW_TOKEN"
# Windows: "C:\Program Files\Google\Chrome\Application\chrome.exe" --kiosk --noerrdialogs --disable-infobars
#          --no-first-run --autoplay-policy=no-user-gesture-required "https://HOST/kiosk/HALL?device=TOKEN"
