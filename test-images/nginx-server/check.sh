#!/bin/sh
# Starts nginx, fetches the page, stops nginx; fails if any step fails.
set -e
/usr/sbin/nginx -c /etc/nginx/app.conf
trap '/usr/sbin/nginx -c /etc/nginx/app.conf -s quit' EXIT
# curl waits for the server itself: the check needs no other program (what it does not run is not traced).
curl -fsS --retry 20 --retry-connrefused --retry-delay 1 http://127.0.0.1:8080/
