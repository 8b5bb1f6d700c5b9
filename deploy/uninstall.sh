#!/usr/bin/env bash
# Removes what deploy/install.sh installed, and puts back what it changed:
#
#   - the three services, their units and drop-ins, the backup timer and its
#     service (the backups in /data/backups stay with /data);
#   - /opt/app: the releases, the /opt/app/bin link, the web files;
#   - the nginx site, and certbot's webroot /var/www/letsencrypt when install.sh
#     made it; Debian's default site is enabled again (install.sh kept its link in
#     /var/lib/tap-trading) and nginx.conf's worker lines marked
#     "tap-trading (deploy/install.sh)" get their values back;
#   - Redis's users and limits: /etc/redis/tap-trading.conf, the ACL and the
#     `include` line at the end of redis.conf (a running redis-server is
#     restarted, back to Debian's passwordless default user and no maxmemory).
#
# Kept unless --purge-data: /data (the bets database), the `app` user that owns
# it, and /etc/tap-trading (the session secret, so players' tokens stay valid
# after a reinstall; the Redis passwords, the tick-signing key, the site's
# settings). redis-server and nginx stay installed.
#
#   sudo deploy/uninstall.sh               # keeps /data and /etc/tap-trading
#   sudo deploy/uninstall.sh --purge-data  # also deletes them and the app user
#   sudo make uninstall PURGE=1            # the same
set -euo pipefail

purge=0
case ${1:-} in
  "") ;;
  --purge-data) purge=1 ;;
  *) echo "usage: $0 [--purge-data]" >&2; exit 64 ;;
esac
say() { printf 'uninstall: %s\n' "$*" >&2; }
[[ $(id -u) -eq 0 ]] || { say "run as root (sudo $0)"; exit 1; }
state_dir=/var/lib/tap-trading

units=(tap-trading-backup.timer tap-trading-backup.service tap-trading-api.service tap-trading-ws.service tap-trading-price.service)
for unit in "${units[@]}"; do
  if [[ -f /etc/systemd/system/$unit ]]; then
    systemctl disable --now "$unit" || say "could not stop $unit; removing it anyway"
    rm -f "/etc/systemd/system/$unit"
  fi
  # install.sh's drop-ins (Wants=redis-server.service; the backup's way to PostgreSQL); an operator's own stay.
  if [[ -d /etc/systemd/system/$unit.d ]]; then
    rm -f "/etc/systemd/system/$unit.d/redis-local.conf" "/etc/systemd/system/$unit.d/postgres-network.conf"
    rmdir "/etc/systemd/system/$unit.d" 2>/dev/null || say "kept /etc/systemd/system/$unit.d: it holds other files"
  fi
done
systemctl daemon-reload
systemctl reset-failed "${units[@]}" 2>/dev/null || true

# --- nginx: our site goes, Debian's default site and nginx.conf come back ---------
nginx_changed=0
if [[ -e /etc/nginx/sites-available/tap-trading.conf || -L /etc/nginx/sites-enabled/tap-trading.conf ]]; then
  rm -f /etc/nginx/sites-enabled/tap-trading.conf /etc/nginx/sites-available/tap-trading.conf
  nginx_changed=1
fi
# certbot's webroot, when the installer made it (its challenges are short-lived).
[[ -e $state_dir/created-acme-root ]] && rm -rf /var/www/letsencrypt
if [[ -L $state_dir/nginx-sites-enabled-default || -e $state_dir/nginx-sites-enabled-default ]]; then
  if [[ -e /etc/nginx/sites-enabled/default || -L /etc/nginx/sites-enabled/default ]]; then
    say "kept /etc/nginx/sites-enabled/default as it is (enabled again since the install)"
  else
    mv "$state_dir/nginx-sites-enabled-default" /etc/nginx/sites-enabled/default
    say "enabled nginx's default site again"
  fi
  nginx_changed=1
fi
nginx_conf=/etc/nginx/nginx.conf
if [[ -f $nginx_conf ]] && grep -q '# tap-trading (deploy/install.sh)$' "$nginx_conf"; then
  sed -i -E -e 's/^(\s*)worker_connections 8192; # tap-trading \(deploy\/install\.sh\)$/\1worker_connections 768;/' \
    -e '/^worker_rlimit_nofile 20000; # tap-trading \(deploy\/install\.sh\)$/d' "$nginx_conf"
  nginx_changed=1
fi
if ((nginx_changed)) && systemctl is-active --quiet nginx.service; then
  if nginx -t -q 2>/dev/null; then systemctl reload nginx.service; else say "nginx -t rejects the configuration: nginx was not reloaded"; fi
fi

# --- Redis: its users and limits go -------------------------------------------------
# A running redis-server is restarted without them (its data stays; Debian's
# redis saves it on the way down).
redis_conf=/etc/redis/redis.conf
redis_ours=/etc/redis/tap-trading.conf
redis_acl=/etc/redis/tap-trading.acl
redis_changed=0
if [[ -f $redis_conf ]] && grep -qE "^(include $redis_ours|aclfile $redis_acl)\$" "$redis_conf"; then
  # The `include` of today's installs; the lines written into redis.conf by earlier ones.
  sed -i -e '/^# tap-trading (deploy\/install.sh): /{N;d}' -e "\|^include $redis_ours\$|d" -e "\|^aclfile $redis_acl\$|d" "$redis_conf"
  redis_changed=1
fi
rm -f "$redis_ours" "$redis_acl"
if ((redis_changed)); then
  systemctl try-restart redis-server.service || say "could not restart redis-server: it keeps tap-trading's users until it restarts"
fi

rm -rf /opt/app "$state_dir"

if ((purge)); then
  rm -rf /data /etc/tap-trading
  getent passwd app >/dev/null && userdel app
  getent group app >/dev/null && groupdel app
  say "removed, with /data, /etc/tap-trading and the app user"
else
  say "removed; kept /data (the bets database) and /etc/tap-trading (the session secret and passwords): --purge-data deletes them"
fi
