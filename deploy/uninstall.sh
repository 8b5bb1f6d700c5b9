#!/usr/bin/env bash
# Removes what deploy/install.sh installed: the three services and their units,
# the backup timer and its service (the backups in /data/backups stay with /data),
# the binaries and web files in /opt/app, the nginx site, /etc/tap-trading (the
# secrets) and Redis's users (/etc/redis/tap-trading.acl and its `aclfile`
# line: redis-server, restarted, is back to Debian's passwordless default user).
# The data stays: /data (the bets database) and the `app` user that owns it
# are removed only with --purge-data. redis-server and nginx stay installed.
#
#   sudo deploy/uninstall.sh               # keeps /data
#   sudo deploy/uninstall.sh --purge-data  # also deletes /data and the app user
set -euo pipefail

purge=0
case ${1:-} in
  "") ;;
  --purge-data) purge=1 ;;
  *) echo "usage: $0 [--purge-data]" >&2; exit 64 ;;
esac
say() { printf 'uninstall: %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || { say "run as root (sudo $0)"; exit 1; }

units=(tap-trading-backup.timer tap-trading-backup.service tap-trading-api.service tap-trading-ws.service tap-trading-price.service)
for unit in "${units[@]}"; do
  if [[ -f /etc/systemd/system/$unit ]]; then
    systemctl disable --now "$unit" || say "could not stop $unit; removing it anyway"
    rm -f "/etc/systemd/system/$unit"
  fi
done
systemctl daemon-reload
systemctl reset-failed "${units[@]}" 2>/dev/null || true

if [[ -e /etc/nginx/sites-available/tap-trading.conf || -L /etc/nginx/sites-enabled/tap-trading.conf ]]; then
  rm -f /etc/nginx/sites-enabled/tap-trading.conf /etc/nginx/sites-available/tap-trading.conf
  if systemctl is-active --quiet nginx.service && nginx -t -q 2>/dev/null; then systemctl reload nginx.service; fi
fi

# Redis's users go with their passwords: a running redis-server is restarted
# without them (its data stays; Debian's redis saves it on the way down).
redis_conf=/etc/redis/redis.conf
redis_acl=/etc/redis/tap-trading.acl
if [[ -f $redis_conf ]] && grep -qxF "aclfile $redis_acl" "$redis_conf"; then
  sed -i -e '/^# tap-trading (deploy\/install.sh): its Redis users/d' -e "\|^aclfile $redis_acl\$|d" "$redis_conf"
  systemctl try-restart redis-server.service || say "could not restart redis-server: it keeps tap-trading's users until it restarts"
fi
rm -f "$redis_acl"

rm -rf /opt/app /etc/tap-trading

if ((purge)); then
  rm -rf /data
  getent passwd app >/dev/null && userdel app
  getent group app >/dev/null && groupdel app
  say "removed, with /data and the app user"
else
  say "removed; /data (the bets database) is kept: --purge-data deletes it"
fi
