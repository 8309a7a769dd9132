#!/bin/sh
# Serve /app/src on $APP_PORT; the greeting comes from /app/config/app.conf.
. /app/config/app.conf
echo "serving /app/src on :${APP_PORT:-3000} ($GREETING)"
exec httpd -f -v -p "${APP_PORT:-3000}" -h /app/src
