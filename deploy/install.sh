#!/usr/bin/env bash
# Installs (or upgrades) tap-trading on a Debian/Ubuntu host with systemd:
#
#   - user and group `app`; /opt/app/releases; /data owned by app;
#   - redis-server, nginx and curl from apt-get when missing (redis-server only
#     when a service uses the local one: not when REDIS_URL or REDIS_ADDR in
#     /etc/tap-trading names another host, or another port of this one);
#   - the local Redis with authentication: one ACL user per service
#     (deploy/redis/users.acl) and one for the operator, their passwords made once
#     in /etc/tap-trading (root's, 0600), the ACL in /etc/redis/tap-trading.acl,
#     the default user off, maxmemory with LRU eviction; all in
#     /etc/redis/tap-trading.conf, which one `include` line at the end of
#     redis.conf loads; the services that use it want it (a unit drop-in);
#   - a new release: the binaries (dist/bin, from scripts/build.sh), the
#     systemd units and the front end (dist/web, or a placeholder page) in
#     /opt/app/releases/<version>, beside the earlier ones (deploy/release.sh);
#     the nginx site;
#   - enables and starts redis-server and nginx; switches /opt/app/bin (and
#     /opt/app/web, nginx's root) to the new release and restarts the services one at a time (price, api, ws), each
#     waited for until it answers its readiness check; enables the timer of the
#     database's backups (tap-trading-backup.timer, docs/backups.md).
#
# A service that is not ready in time (TAP_READY_TIMEOUT_S, 60 s) fails the
# install: its journal's last lines are printed, /opt/app/bin goes back to the
# previous release, which is restarted the same way, and the exit status is 1.
# The last 3 releases are kept; deploy/rollback.sh goes back one by hand.
#
# Idempotent: run it again over a running system to upgrade it. Each service
# is restarted exactly once, after every file is in place; nginx is reloaded,
# not restarted; /data is never touched beyond its owner and mode.
#
#   sudo deploy/install.sh          # from a checkout with dist/bin built
#   sudo make install               # builds, then runs this
#   sudo TAP_RELEASE=v2 deploy/install.sh   # names the release <timestamp>-v2
#                                           # (default: git describe of the checkout)
#   sudo deploy/install.sh --domain example.com [--cert PATH --key PATH]
#                                   # the HTTPS site (nginx/render-site.sh, docs/tls.md):
#                                   # certbot's files by default; kept by later installs
#   sudo deploy/install.sh --no-domain      # back to the HTTP site
#   sudo deploy/install.sh --api-upstreams "10.0.0.11:8080 10.0.0.12:8080" \
#                          --ws-upstreams "10.0.0.11:8081 10.0.0.12:8081"
#                                   # nginx in front of several nodes (docs/nodes.md), or
#                                   # API_UPSTREAMS / WS_UPSTREAMS (an option wins);
#                                   # kept by later installs, one list without the other
#   sudo deploy/install.sh --local-nodes    # back to the one local api and ws
#
# Settings: /etc/tap-trading/tap-trading.env (every service) and
# /etc/tap-trading/<service>.env, e.g. LOG_LEVEL=debug or CORS_ORIGINS=...;
# see docs/deployment.md.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# What the release is made of: the checkout's by default.
bin_src=${TAP_BIN_DIR:-$root/dist/bin}
web_src=${TAP_WEB_DIR:-$root/dist/web}
units_src=${TAP_UNIT_DIR:-$root/systemd}

say() { printf 'install: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
# shellcheck source=deploy/release.sh
source "$root/deploy/release.sh"

# The site: HTTP, or HTTPS for a domain; and the nodes nginx sends /api/ and /ws
# to, one local api and ws by default. Both are kept in site_conf, each kind on
# its own, so an install without options keeps the site as it was.
site_conf=/etc/tap-trading/site.env
usage() {
  printf 'usage: %s [--domain NAME [--cert PATH] [--key PATH] | --no-domain]\n' "$0" >&2
  printf '         [[--api-upstreams "HOST:PORT ..."] [--ws-upstreams "HOST:PORT ..."] | --local-nodes]\n' >&2
  exit 64
}
site_given=0 domain='' cert='' key=''
# A list given (an option, else API_UPSTREAMS / WS_UPSTREAMS) replaces the kept
# one; an option given empty (--api-upstreams '') is passed on, for render-site.sh
# to refuse.
api_given=0 ws_given=0 local_nodes=0 api_upstreams='' ws_upstreams=''
[[ -z ${API_UPSTREAMS:-} ]] || api_given=1 api_upstreams=$API_UPSTREAMS
[[ -z ${WS_UPSTREAMS:-} ]] || ws_given=1 ws_upstreams=$WS_UPSTREAMS
# render-site.sh would read them too: it gets the lists as options only.
unset API_UPSTREAMS WS_UPSTREAMS
api_option=0 ws_option=0
while (($# > 0)); do
  case $1 in
    --domain | --cert | --key)
      (($# >= 2)) || usage
      site_given=1
      case $1 in --domain) domain=$2 ;; --cert) cert=$2 ;; --key) key=$2 ;; esac
      shift 2
      ;;
    --no-domain) site_given=1 domain='' cert='' key='' && shift ;;
    --api-upstreams) (($# >= 2)) || usage; api_option=1 api_given=1 api_upstreams=$2 && shift 2 ;;
    --ws-upstreams) (($# >= 2)) || usage; ws_option=1 ws_given=1 ws_upstreams=$2 && shift 2 ;;
    --local-nodes) local_nodes=1 && shift ;;
    *) usage ;;
  esac
done
if ((local_nodes)); then
  # Both lists back to the default; a list given besides is a contradiction.
  ((api_option + ws_option == 0)) || usage
  api_given=0 ws_given=0 api_upstreams='' ws_upstreams=''
fi
if [[ -r $site_conf ]]; then
  if ((site_given == 0)); then
    domain=$(env_value DOMAIN "$site_conf")
    cert=$(env_value CERT "$site_conf")
    key=$(env_value KEY "$site_conf")
  fi
  ((api_given || local_nodes)) || api_upstreams=$(env_value API_UPSTREAMS "$site_conf")
  ((ws_given || local_nodes)) || ws_upstreams=$(env_value WS_UPSTREAMS "$site_conf")
fi
# A list of nodes as one line, a space between them.
nodes_line() {
  local -a nodes
  read -r -a nodes <<<"${1//,/ }"
  printf '%s' "${nodes[*]}"
}
site_args=()
[[ -z $domain ]] || site_args=(--domain "$domain")
[[ -z $cert ]] || site_args+=(--cert "$cert")
[[ -z $key ]] || site_args+=(--key "$key")
# Apart from site_args: the HTTP site that stands in for a domain without its
# certificate yet (below) still goes to these nodes.
node_args=()
if ((api_given)) || [[ -n $api_upstreams ]]; then node_args=(--api-upstreams "$api_upstreams"); fi
if ((ws_given)) || [[ -n $ws_upstreams ]]; then node_args+=(--ws-upstreams "$ws_upstreams"); fi
# Refused values (a domain that is no host name, a relative path, an address
# that is not host:port, a node named twice) stop here, before any change.
bash "$root/nginx/render-site.sh" "${site_args[@]}" "${node_args[@]}" >/dev/null || exit 64

[[ $(id -u) -eq 0 ]] || die "run as root (sudo $0)"
command -v systemctl >/dev/null || die "systemctl not found: this installer needs systemd"
for name in "${services[@]}"; do
  [[ -x $bin_src/$name ]] || die "$bin_src/$name is missing: build it first (scripts/build.sh, or make build)"
done

# --- where Redis is -------------------------------------------------------------
# A service uses the host's redis-server unless its settings name another host, or
# another port of this one (uses_this_hosts_redis, deploy/release.sh). A REDIS_URL
# with credentials of its own is used with those (the unit's ACL user is not).
this_redis_port=$(awk '$1 == "port" { port = $2 } END { print port }' /etc/redis/redis.conf 2>/dev/null || true)
this_redis_port=${this_redis_port:-6379}
local_redis=() # the services on this host's redis-server
for name in "${services[@]}"; do
  if uses_this_hosts_redis "$name" "$this_redis_port"; then
    local_redis+=("$name")
  else
    credentials="its unit's Redis user and password file"
    redis_url_has_credentials "$name" && credentials="the credentials in its REDIS_URL"
    say "$name uses the Redis at $(redis_authority_of "$name") with $credentials, not this host's redis-server"
  fi
done
# Checked before anything changes: a masked redis-server cannot be the services' Redis.
if ((${#local_redis[@]})) && [[ $(systemctl is-enabled redis-server.service 2>/dev/null || true) == masked ]]; then
  die "redis-server.service is masked, but ${local_redis[*]} use this host's Redis: unmask it, or set REDIS_URL in /etc/tap-trading/tap-trading.env (docs/deployment.md, \"Redis on another host\")"
fi

# --- packages -----------------------------------------------------------------
missing=()
wanted_packages=(nginx curl)
((${#local_redis[@]})) && wanted_packages=(redis-server "${wanted_packages[@]}")
for package in "${wanted_packages[@]}"; do
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
install -d -o root -g root -m 0755 /opt/app /opt/app/releases
install -d -o app -g app -m 0750 /data
install -d -o root -g app -m 0750 /etc/tap-trading
# What deploy/uninstall.sh needs to put back (Debian's default site).
state_dir=/var/lib/tap-trading
install -d -o root -g root -m 0755 "$state_dir"

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

# --- the release ------------------------------------------------------------
# Before releases, /opt/app/bin was a folder of binaries: it becomes the first
# release (named by its binaries' age, so it sorts before the new one), with the
# units installed now, and /opt/app/bin its link. Running services keep running.
if [[ -d $bin_link && ! -L $bin_link ]]; then
  migrated="$(date -u -r "$bin_link/api" +%Y%m%dT%H%M%SZ 2>/dev/null || echo 00000000T000000Z)-migrated"
  say "moving the binaries of $bin_link to the release $migrated"
  mv "$bin_link" "$releases_dir/$migrated"
  ln -sfn "$releases_dir/$migrated" "$bin_link"
  install -d -m 0755 "$releases_dir/$migrated/systemd"
  for file in "$unit_dir"/tap-trading-*.service "$unit_dir"/tap-trading-*.timer; do
    [[ -f $file ]] && cp -p "$file" "$releases_dir/$migrated/systemd/"
  done
fi
previous=$(active_release)
# The same for the front end, a folder /opt/app/web before releases had one.
# Without an active release, the folder goes: the new release brings its own.
if [[ -d $web_link && ! -L $web_link ]]; then
  if [[ -n $previous && ! -e $releases_dir/$previous/web ]]; then
    mv "$web_link" "$releases_dir/$previous/web"
  else
    rm -rf "$web_link"
  fi
  if [[ -n $previous && -d $releases_dir/$previous/web ]]; then ln -sfn "$releases_dir/$previous/web" "$web_link"; fi
fi

label=${TAP_RELEASE:-$(git -c safe.directory="$root" -C "$root" describe --always --tags --dirty 2>/dev/null ||
  git -c safe.directory="$root" -C "$root" describe --always --tags 2>/dev/null || echo local)}
version="$(date -u +%Y%m%dT%H%M%SZ)-$(printf '%s' "$label" | tr -c 'A-Za-z0-9._-' '_')"
suffix=1
while [[ -e $releases_dir/$version ]]; do version="${version%-r[0-9]*}-r$((++suffix))"; done
say "installing the release $version"
# Filled in a hidden folder, then renamed: a release folder is always complete.
staging=$(mktemp -d "$releases_dir/.new.XXXXXX")
trap 'rm -rf "$staging"' EXIT
for name in "${services[@]}"; do
  install -o root -g root -m 0755 "$bin_src/$name" "$staging/$name"
done
# The units are the release's: installed when it becomes active (below), and the
# previous release's again if it is rolled back. Among them the backups: `api
# backup` (the api binary) on a timer, into /data/backups (docs/backups.md).
backup_units=(tap-trading-backup.service tap-trading-backup.timer)
install -d -o root -g root -m 0755 "$staging/systemd" "$staging/web"
for file in "$units_src"/tap-trading-*.service "$units_src"/tap-trading-*.timer; do
  install -o root -g root -m 0644 "$file" "$staging/systemd/"
done
for unit in "${services[@]/%/.service}" "${backup_units[@]}"; do
  unit=${unit/#tap-trading-/}
  [[ -f $staging/systemd/tap-trading-$unit ]] || die "$units_src has no tap-trading-$unit"
done
if [[ -f $web_src/index.html ]]; then
  cp -R "$web_src/." "$staging/web/"
else
  say "no front end in $web_src: installing the placeholder page"
  cp "$root/nginx/placeholder/index.html" "$staging/web/index.html"
fi
chmod -R u=rwX,go=rX "$staging/web"
printf '%s\n' "$version" >"$staging/VERSION"
chmod 0755 "$staging"
mv -T "$staging" "$releases_dir/$version"
# A release that never became active (the install stopped before, e.g. at Redis
# or nginx) is removed on the way out: it was never run.
trap '[[ $(active_release) == "$version" ]] || rm -rf "${releases_dir:?}/$version"' EXIT

# --- redis: users and their rights, memory --------------------------------------
# Only when a service uses this host's redis-server. Its settings are ours, in
# /etc/redis/tap-trading.conf, loaded by one `include` line at the end of
# Debian's redis.conf (so they win; deploy/uninstall.sh removes the line):
#   aclfile      the users, rendered from deploy/redis/users.acl with the password
#                hashes only (a restart loads it: Redis reads an ACL file only if
#                it started with one; a changed ACL is loaded with ACL LOAD, as
#                tap-admin, without a restart);
#   maxmemory    TAP_REDIS_MAXMEMORY, 256mb by default: the data is the latest
#                price and an hour of ticks (about 1 MB), rebuilt by the price
#                service, so evicting the least recently used (allkeys-lru) is safe.
redis_conf=/etc/redis/redis.conf
redis_ours=/etc/redis/tap-trading.conf
redis_acl=/etc/redis/tap-trading.acl
redis_include="include $redis_ours"
redis_maxmemory=${TAP_REDIS_MAXMEMORY:-256mb}
# The units want redis-server (and start after it) through a drop-in, only where it is used.
for name in "${services[@]}"; do
  dropin=$unit_dir/tap-trading-$name.service.d
  if [[ " ${local_redis[*]} " == *" $name "* ]]; then
    install -d -m 0755 "$dropin"
    printf '# Written by deploy/install.sh: %s uses this host'"'"'s redis-server.\n# Wanted, not required: the service rides out a Redis restart on its own.\n[Unit]\nWants=redis-server.service\nAfter=redis-server.service\n' "$name" >"$dropin/redis-local.conf"
  else
    rm -f "$dropin/redis-local.conf"
    rmdir "$dropin" 2>/dev/null || true
  fi
done

# The backup unit reaches the API's PostgreSQL, when it has one, through a drop-in (backup_network_dropin).
backup_dropin=$unit_dir/tap-trading-backup.service.d
backup_network=$(backup_network_dropin)
if [[ -n $backup_network ]]; then
  install -d -m 0755 "$backup_dropin"
  printf '%s\n' "$backup_network" >"$backup_dropin/postgres-network.conf"
else
  rm -f "$backup_dropin/postgres-network.conf"
  rmdir "$backup_dropin" 2>/dev/null || true
fi

if ((${#local_redis[@]})); then
  [[ -f $redis_conf ]] || die "$redis_conf is missing: is redis-server installed?"
  # Before `include`, install.sh wrote its lines into redis.conf itself: they go.
  if grep -qE '^# tap-trading \(deploy/install.sh\): ' "$redis_conf"; then
    sed -i -e '/^# tap-trading (deploy\/install.sh): its Redis users/{N;d}' -e '/^# tap-trading (deploy\/install.sh): evict least recently used/{N;d}' "$redis_conf"
  fi
  foreign=$(grep -E '^\s*aclfile\s' "$redis_conf" || true)
  [[ -z $foreign ]] || die "$redis_conf already loads an ACL file ($foreign): add the users of deploy/redis/users.acl to it by hand (docs/deployment.md)"
  grep -qE '^\s*user\s' "$redis_conf" && die "$redis_conf defines users, which Redis refuses beside an ACL file: move them to one (docs/deployment.md)"

  bash "$root/deploy/redis/render-acl.sh" /etc/tap-trading >"$redis_acl.new"
  chown redis:redis "$redis_acl.new"
  chmod 0640 "$redis_acl.new"
  acl_changed=0
  cmp -s "$redis_acl.new" "$redis_acl" || acl_changed=1
  mv -f "$redis_acl.new" "$redis_acl"

  printf '# tap-trading'"'"'s settings of redis-server, written by deploy/install.sh and loaded by\n# the last line of %s; deploy/uninstall.sh removes both.\n# Its users (deploy/redis/users.acl): no password, no access.\naclfile %s\n# The latest price and an hour of ticks, rebuilt by the price service: evicting is safe.\nmaxmemory %s\nmaxmemory-policy allkeys-lru\n' \
    "$redis_conf" "$redis_acl" "$redis_maxmemory" >"$redis_ours.new"
  chmod 0644 "$redis_ours.new"
  mv -f "$redis_ours.new" "$redis_ours"
  conf_changed=0
  if ! grep -qxF "$redis_include" "$redis_conf"; then
    printf '# tap-trading (deploy/install.sh): its users and memory limit; removed by deploy/uninstall.sh.\n%s\n' "$redis_include" >>"$redis_conf"
    conf_changed=1
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
  # Live, without a restart (a changed TAP_REDIS_MAXMEMORY too).
  [[ $(redis_admin CONFIG SET maxmemory "$redis_maxmemory" maxmemory-policy allkeys-lru 2>&1) == OK ]] ||
    die "redis-server refused maxmemory $redis_maxmemory (TAP_REDIS_MAXMEMORY)"
  # The proof that the default user is off: a client with no password is refused.
  anonymous=$(redis-cli PING 2>&1 || true)
  [[ $anonymous == NOAUTH* ]] || die "redis-server answers a client without a password (\"$anonymous\"), expected NOAUTH"
else
  say "no service uses this host's redis-server: it is neither configured nor started (docs/deployment.md, \"Redis on another host\")"
fi

# --- nginx --------------------------------------------------------------------
# The site is rendered by nginx/render-site.sh: every setting, TLS's too, is in
# our files, so installing again never loses one (docs/tls.md). For a domain
# whose certificate is not there yet, the HTTP site goes in: it answers certbot's
# challenges from the webroot, and the next install, once certbot has the
# certificate, switches to HTTPS.
acme_root=/var/www/letsencrypt
if [[ ! -d $acme_root ]]; then
  install -d -o root -g root -m 0755 "$acme_root"
  touch "$state_dir/created-acme-root"
fi
if [[ -n $domain ]]; then
  cert_path=${cert:-/etc/letsencrypt/live/$domain/fullchain.pem}
  key_path=${key:-/etc/letsencrypt/live/$domain/privkey.pem}
  if [[ ! -r $cert_path || ! -r $key_path ]]; then
    say "no certificate for $domain yet ($cert_path, $key_path): installing the HTTP site, which answers certbot's challenges from $acme_root; get one (docs/tls.md: certbot certonly --webroot -w $acme_root -d $domain) and install again"
    site_args=()
  fi
fi
site=/etc/nginx/sites-available/tap-trading.conf
bash "$root/nginx/render-site.sh" "${site_args[@]}" "${node_args[@]}" >"$site.new"
chmod 0644 "$site.new"
[[ -f $site ]] && cp -p "$site" "$state_dir/tap-trading.conf.previous"
mv -f "$site.new" "$site"
ln -sfn "$site" /etc/nginx/sites-enabled/tap-trading.conf
# Debian's default site also claims port 80 as the default server: disabled, its
# link kept in $state_dir for deploy/uninstall.sh to put back.
if [[ -e /etc/nginx/sites-enabled/default || -L /etc/nginx/sites-enabled/default ]]; then
  mv -f /etc/nginx/sites-enabled/default "$state_dir/nginx-sites-enabled-default"
fi
# Debian's 768 connections per worker hold under 400 proxied websockets. An
# `events` setting has no drop-in: the lines are edited, marked, and
# deploy/uninstall.sh puts them back as they were.
if grep -qE '^\s*worker_connections 768;' /etc/nginx/nginx.conf; then
  sed -i -E 's/^(\s*)worker_connections 768;/\1worker_connections 8192; # tap-trading (deploy\/install.sh)/' /etc/nginx/nginx.conf
  grep -q '^worker_rlimit_nofile' /etc/nginx/nginx.conf ||
    sed -i -E '0,/^worker_processes/s//worker_rlimit_nofile 20000; # tap-trading (deploy\/install.sh)\n&/' /etc/nginx/nginx.conf
fi
if ! nginx -t -q; then
  # The site that was there goes back: nginx keeps serving what it served.
  if [[ -f $state_dir/tap-trading.conf.previous ]]; then mv -f "$state_dir/tap-trading.conf.previous" "$site"; else rm -f "$site" /etc/nginx/sites-enabled/tap-trading.conf; fi
  die "nginx -t rejects the configuration with the new site: the previous site is back, nginx was not reloaded"
fi
rm -f "$state_dir/tap-trading.conf.previous"
systemctl enable nginx.service
if systemctl is-active --quiet nginx.service; then systemctl reload nginx.service; else systemctl start nginx.service; fi
# Rewritten when a setting of the site was given: the domain's lines and the
# lists' lines each as they now are, so giving one kind keeps the other.
if ((site_given || api_given || ws_given || local_nodes)); then
  kept=()
  [[ -z $domain ]] || kept+=("DOMAIN=$domain" "CERT=$cert" "KEY=$key")
  # One space between nodes (render-site.sh took commas too); quoted, as they hold spaces.
  [[ -z $api_upstreams ]] || kept+=("API_UPSTREAMS=\"$(nodes_line "$api_upstreams")\"")
  [[ -z $ws_upstreams ]] || kept+=("WS_UPSTREAMS=\"$(nodes_line "$ws_upstreams")\"")
  if ((${#kept[@]})); then
    printf '# The nginx site of deploy/install.sh (nginx/render-site.sh), kept for the next install.\n' >"$site_conf.new"
    printf '%s\n' "${kept[@]}" >>"$site_conf.new"
    chmod 0640 "$site_conf.new"
    mv -f "$site_conf.new" "$site_conf"
  else
    rm -f "$site_conf"
  fi
fi
served=http://localhost/
((${#site_args[@]})) && served=https://$domain/

# --- services -----------------------------------------------------------------
# One restart each (a start when it was not running), after every file is in
# place, one at a time and each waited for; back to the previous release if one
# is not ready.
if ! activate "$version" "$previous"; then
  if [[ -n $previous ]]; then
    rm -rf "${releases_dir:?}/$version"
    die "release $version failed its readiness checks and was removed; $previous is active"
  fi
  die "release $version failed its readiness checks: fix it and run this again"
fi
units=("${services[@]/#/tap-trading-}")
units=("${units[@]/%/.service}")
systemctl enable "${units[@]}"
prune_releases
# The timer's schedule is re-read by daemon-reload; a backup never runs at install.
systemctl enable --now tap-trading-backup.timer
systemctl is-active --quiet tap-trading-backup.timer || die "tap-trading-backup.timer did not start: journalctl -u tap-trading-backup.timer"
say "installed release $version: ${units[*]} ready, tap-trading-backup.timer active; nginx serves $served"
