#!/bin/sh
# Runs nginx on the config the stack applied last, kept in the mounted folder so a restarted or replaced
# container serves what its predecessor served. With none yet (first deploy), or one that no longer passes
# `nginx -t`, it serves the bootstrap config (/nginx-health only) until the rollout step applies the real
# one and reloads.
#
# nginx runs unprivileged on a read-only root and cannot write the mounted folder, so the config it serves
# is a link in /run that this script points at the mounted config or at the bootstrap. nginx re-reads that
# link on a reload (SIGHUP), and the rollout step sends SIGHUP only after it moved a tested config into the
# folder: this script, PID 1, points the link at it first. SIGQUIT (Docker's stop signal: drain, then stop)
# and SIGTERM go to nginx as they are; the container ends when nginx does, with its status.
conf=/etc/nginx/swiftdeploy/nginx.conf
served=/run/swiftdeploy-nginx.conf
if nginx -t -q -c "$conf" 2>/dev/null; then
  ln -sfn "$conf" "$served"
else
  ln -sfn /etc/nginx/swiftdeploy-bootstrap.conf "$served"
fi

nginx -c "$served" -g 'daemon off;' &
nginx=$!
trap '[ -f "$conf" ] && ln -sfn "$conf" "$served"; kill -HUP "$nginx"' HUP
trap 'kill -QUIT "$nginx"' QUIT
trap 'kill -TERM "$nginx"' TERM
trap 'kill -INT "$nginx"' INT
# `wait` also returns when a trapped signal arrives; only nginx's end ends the loop.
while :; do
  wait "$nginx"
  status=$?
  kill -0 "$nginx" 2>/dev/null || exit "$status"
done
