#!/usr/bin/env bash
# Installs (or upgrades) tap-trading on a Debian/Ubuntu host with systemd:
#
#   - user and group `app`; /opt/app/bin, /opt/app/web; /data owned by app;
#   - redis-server and nginx from apt-get when missing;
#   - Redis with authentication: one ACL user per service (deploy/redis/users.acl)
#     and one for the operator, their passwords made once in /etc/tap-trading
#     (root's, 0600), the ACL in /etc/redis/tap-trading.acl, the default user off;
#   - the binaries (dist/bin, from scripts/build.sh), the systemd units and the
#     nginx site; the front end from dist/web, or a placeholder page;
#   - enables and starts redis-server, nginx and the three services, and the
#     timer of the database's backups (tap-trading-backup.timer, docs/backups.md).
#
# Idempotent: run it again over a running system to upgrade it. Each service
# is restarted exactly once, after every file is in place; nginx is reloaded,
# not restarted; /data is never touched beyond its owner and mode.
#
#   sudo deploy/install.sh          # from a checkout with dist/bin built
#   sudo make install               # builds, then runs this
#
# Settings: /etc/tap-trading/tap-trading.env (every service) and
# /etc/tap-trading/<service>.env, e.g. LOG_LEVEL=debug or CORS_ORIGINS=...;
# see docs/deployment.md.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_src=${TAP_BIN_DIR:-$root/dist/bin}
web_src=${TAP_WEB_DIR:-$root/dist/web}
services=(api ws price)

say() { printf 'install: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (sudo $0)"
command -v systemctl >/dev/null || die "systemctl not found: this installer needs systemd"
for name in "${services[@]}"; do
  [[ -x $bin_src/$name ]] || die "$bin_src/$name is missing: build it first (scripts/build.sh, or make build)"
done

# --- packages -----------------------------------------------------------------
missing=()
for package in redis-server nginx; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]} (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

# --- user, folders ------------------------------------------------------------
getent group app >/dev/null || groupadd --system app
getent passwd app >/dev/null ||
  useradd --system --gid app --home-dir /opt/app --no-create-home --shell /usr/sbin/nologin --comment "tap-trading services" app
install -d -o root -g root -m 0755 /opt/app /opt/app/bin /opt/app/web
install -d -o app -g app -m 0750 /data
install -d -o root -g app -m 0750 /etc/tap-trading

# The key that signs session tokens: made once, kept across upgrades, readable by app only.
secret=/etc/tap-trading/session-secret
if [[ ! -s $secret ]]; then
  say "generating the session secret ($secret)"
  (umask 077 && head -c 48 /dev/urandom | base64 -w0 >"$secret")
fi
chown app:app "$secret"
chmod 0600 "$secret"

# Root's secrets, made once and kept across upgrades: each Redis user's password
# (the services' and the operator's, tap-admin) and the key that signs ticks.
# systemd hands each service its own as a credential (LoadCredential=), so app
# cannot read the others'. Delete one and run this again to rotate it.
new_secret() { # <file> <what>: 32 random bytes, base64url, when the file is missing or empty
  if [[ ! -s $1 ]]; then
    say "generating $2 ($1)"
    (umask 077 && { head -c 32 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '='; echo; } >"$1")
  fi
  chown root:root "$1"
  chmod 0600 "$1"
}
for name in admin "${services[@]}"; do
  new_secret "/etc/tap-trading/redis-$name.password" "the Redis password of $name"
done
new_secret /etc/tap-trading/price-signing-key "the key that signs ticks"

# --- files --------------------------------------------------------------------
# Copied beside the old file, then renamed over it: a running service keeps its
# old binary (the inode it executes) until it is restarted below.
for name in "${services[@]}"; do
  install -o root -g root -m 0755 "$bin_src/$name" "/opt/app/bin/.$name.new"
  mv -f "/opt/app/bin/.$name.new" "/opt/app/bin/$name"
done

web_new=$(mktemp -d /opt/app/.web.XXXXXX)
if [[ -f $web_src/index.html ]]; then
  cp -R "$web_src/." "$web_new/"
else
  say "no front end in $web_src: installing the placeholder page"
  cp "$root/nginx/placeholder/index.html" "$web_new/index.html"
fi
chmod -R u=rwX,go=rX "$web_new"
rm -rf /opt/app/.web.old
mv /opt/app/web /opt/app/.web.old && mv "$web_new" /opt/app/web && rm -rf /opt/app/.web.old

for name in "${services[@]}"; do
  install -o root -g root -m 0644 "$root/systemd/tap-trading-$name.service" "/etc/systemd/system/tap-trading-$name.service"
done
# The backups: `api backup` (the api binary) on a timer, into /data/backups (docs/backups.md).
backup_units=(tap-trading-backup.service tap-trading-backup.timer)
for unit in "${backup_units[@]}"; do
  install -o root -g root -m 0644 "$root/systemd/$unit" "/etc/systemd/system/$unit"
done
systemctl daemon-reload

# --- redis: users and their rights, the plan's eviction advice ----------------
# The ACL is rendered from deploy/redis/users.acl with the password hashes only.
# redis.conf gets `aclfile` (a restart loads it: Redis reads an ACL file only if
# it started with one) and `maxmemory-policy allkeys-lru`, which only matters
# once `maxmemory` is set (see docs/deployment.md). An ACL that changed on an
# upgrade is loaded with ACL LOAD, as tap-admin, without a restart.
redis_conf=/etc/redis/redis.conf
redis_acl=/etc/redis/tap-trading.acl
[[ -f $redis_conf ]] || die "$redis_conf is missing: is redis-server installed?"
foreign=$(grep -E '^\s*aclfile\s' "$redis_conf" | grep -vxF "aclfile $redis_acl" || true)
[[ -z $foreign ]] || die "$redis_conf already loads another ACL file ($foreign): add the users of deploy/redis/users.acl to it by hand (docs/deployment.md)"
grep -qE '^\s*user\s' "$redis_conf" && die "$redis_conf defines users, which Redis refuses beside an ACL file: move them to one (docs/deployment.md)"

bash "$root/deploy/redis/render-acl.sh" /etc/tap-trading >"$redis_acl.new"
chown redis:redis "$redis_acl.new"
chmod 0640 "$redis_acl.new"
acl_changed=0
cmp -s "$redis_acl.new" "$redis_acl" || acl_changed=1
mv -f "$redis_acl.new" "$redis_acl"

conf_changed=0
if ! grep -qxF "aclfile $redis_acl" "$redis_conf"; then
  printf '\n# tap-trading (deploy/install.sh): its Redis users (deploy/redis/users.acl); no password, no access.\naclfile %s\n' "$redis_acl" >>"$redis_conf"
  conf_changed=1
fi
if ! grep -qE '^maxmemory-policy allkeys-lru' "$redis_conf"; then
  printf '\n# tap-trading (deploy/install.sh): evict least recently used keys at maxmemory.\nmaxmemory-policy allkeys-lru\n' >>"$redis_conf"
fi

# redis-cli as the operator; the password goes through the environment, not the command line.
redis_admin() { REDISCLI_AUTH=$(head -n1 /etc/tap-trading/redis-admin.password) redis-cli --no-auth-warning --user tap-admin "$@"; }
systemctl enable redis-server.service
if ! systemctl is-active --quiet redis-server.service; then
  systemctl start redis-server.service
elif ((conf_changed)); then
  say "restarting redis-server: it loads its users from $redis_acl"
  systemctl restart redis-server.service
elif ((acl_changed)) && [[ $(redis_admin ACL LOAD 2>&1) != OK ]]; then
  # The running server knows another tap-admin password (it was rotated): restart it.
  say "ACL LOAD as tap-admin failed: restarting redis-server to load $redis_acl"
  systemctl restart redis-server.service
fi
if [[ $(redis_admin PING 2>&1) != PONG ]]; then
  die "redis-server does not accept tap-admin's password: journalctl -u redis-server"
fi
redis_admin CONFIG SET maxmemory-policy allkeys-lru >/dev/null # live, without a restart
# The proof that the default user is off: a client with no password is refused.
anonymous=$(redis-cli PING 2>&1 || true)
[[ $anonymous == NOAUTH* ]] || die "redis-server answers a client without a password (\"$anonymous\"), expected NOAUTH"

# --- nginx --------------------------------------------------------------------
install -o root -g root -m 0644 "$root/nginx/tap-trading.conf" /etc/nginx/sites-available/tap-trading.conf
ln -sfn /etc/nginx/sites-available/tap-trading.conf /etc/nginx/sites-enabled/tap-trading.conf
# Debian's default site also claims port 80 as the default server.
rm -f /etc/nginx/sites-enabled/default
# Debian's 768 connections per worker hold under 400 proxied websockets.
if grep -qE '^\s*worker_connections 768;' /etc/nginx/nginx.conf; then
  sed -i -E 's/^(\s*)worker_connections 768;/\1worker_connections 8192; # tap-trading (deploy\/install.sh)/' /etc/nginx/nginx.conf
  grep -q '^worker_rlimit_nofile' /etc/nginx/nginx.conf ||
    sed -i -E '0,/^worker_processes/s//worker_rlimit_nofile 20000; # tap-trading (deploy\/install.sh)\n&/' /etc/nginx/nginx.conf
fi
nginx -t -q || die "nginx -t rejects the configuration: the site is installed but nginx was not reloaded"
systemctl enable nginx.service
if systemctl is-active --quiet nginx.service; then systemctl reload nginx.service; else systemctl start nginx.service; fi

# --- services -----------------------------------------------------------------
units=("${services[@]/#/tap-trading-}")
units=("${units[@]/%/.service}")
systemctl enable "${units[@]}"
# One restart each (a start when it was not running), after every file is in place.
systemctl restart "${units[@]}"

for unit in "${units[@]}"; do
  systemctl is-active --quiet "$unit" || die "$unit did not start: journalctl -u $unit"
done
# The timer's schedule is re-read by daemon-reload; a backup never runs at install.
systemctl enable --now tap-trading-backup.timer
systemctl is-active --quiet tap-trading-backup.timer || die "tap-trading-backup.timer did not start: journalctl -u tap-trading-backup.timer"
say "installed: ${units[*]} tap-trading-backup.timer active; nginx serves http://localhost/"
