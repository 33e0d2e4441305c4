#!/bin/sh
# Starts nginx on the config the stack applied last, kept in the mounted folder so a restarted or replaced
# container serves what its predecessor served. With none yet (first deploy), or one that no longer passes
# `nginx -t`, it starts on the bootstrap config: /nginx-health only, until the rollout step applies the real
# one by a reload.
conf=/etc/nginx/swiftdeploy/nginx.conf
if ! nginx -t -q -c "$conf" 2>/dev/null; then
  cp /etc/nginx/swiftdeploy-bootstrap.conf "$conf"
fi
exec nginx -c "$conf" -g 'daemon off;'
