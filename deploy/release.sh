# Releases of tap-trading, sourced by deploy/install.sh and deploy/rollback.sh:
#
#   /opt/app/releases/<version>/{api,ws,price}   the binaries of one release
#   /opt/app/releases/<version>/systemd/         the units it was installed with
#   /opt/app/releases/<version>/web/             its front end (nginx's root)
#   /opt/app/bin -> /opt/app/releases/<version>  the active release (a symlink)
#   /opt/app/web -> /opt/app/releases/<version>/web
#
# <version> is a UTC timestamp and what the checkout says of itself
# (20261202T132200Z-v1.4-3-g4fc3667, or -local without git), so names sort by
# age. The units run /opt/app/bin/<name>: switching the link (ln -sfn to a temp
# name, then mv -T over it, one rename) changes what the next start runs.
#
# Needs: say, die (the caller's).

app_dir=/opt/app
releases_dir=$app_dir/releases
bin_link=$app_dir/bin
web_link=$app_dir/web
unit_dir=/etc/systemd/system
services=(api ws price)
# How many releases are kept (the active one always is).
keep_releases=3
# How long each service may take to answer its readiness check after a restart.
ready_timeout_s=${TAP_READY_TIMEOUT_S:-60}

# The readiness check of each service, in the order they restart: the price feed
# first (api's /readyz needs a fresh price), then the API, then ws; on the port
# of its unit unless its settings change it.
declare -A ready_path=([price]=/healthz [api]=/readyz [ws]=/healthz)
declare -A default_port=([price]=8082 [api]=8080 [ws]=8081)

unit_of() { printf 'tap-trading-%s.service' "$1"; }

# The last value given to <key> in the env files, quotes removed (as systemd reads
# EnvironmentFile=: later files win).
env_value() { # <key> <file>...
  local key=$1 file line value=
  shift
  for file in "$@"; do
    [[ -r $file ]] || continue
    line=$(grep -E "^[[:space:]]*$key=" "$file" | tail -n1 || true)
    [[ -n $line ]] && value=${line#*=}
  done
  value=${value%%[[:space:]]}
  value=${value#[\"\']}
  value=${value%[\"\']}
  printf '%s' "$value"
}

# The settings files of <service>, in the order its unit reads them.
env_files_of() { printf '%s\n' /etc/tap-trading/tap-trading.env "/etc/tap-trading/$1.env"; }

# Where <service>'s Redis is: REDIS_URL (which wins) or REDIS_ADDR, the last one
# set in tap-trading.env, then <service>.env (as systemd reads them; the unit's
# default is localhost:6379). Prints host:port, without user info or database.
redis_authority_of() { # <service>
  local -a files
  mapfile -t files < <(env_files_of "$1")
  local where
  where=$(env_value REDIS_URL "${files[@]}")
  if [[ -n $where ]]; then
    where=${where#*://}
    where=${where##*@} # user:password@
    where=${where%%/*} # /db
  else
    where=$(env_value REDIS_ADDR "${files[@]}")
    where=${where:-localhost:6379}
  fi
  printf '%s' "$where"
}

redis_host_of() { # <service>: the host its Redis is on
  local where
  where=$(redis_authority_of "$1")
  if [[ $where == \[* ]]; then where=${where#[}; printf '%s' "${where%%]*}"; else printf '%s' "${where%:*}"; fi
}

redis_port_of() { # <service>: the port of its Redis (6379 when the URL names none)
  local where port=
  where=$(redis_authority_of "$1")
  if [[ $where == \[* ]]; then where=${where#*]}; fi
  [[ $where == *:* ]] && port=${where##*:}
  printf '%s' "${port:-6379}"
}

# Whether <service> uses this host's redis-server, which listens on <port>: its
# Redis is on localhost and that port. Another port of localhost is a Redis of
# the operator's own, which the installer neither configures nor starts.
uses_this_hosts_redis() { # <service> <port>
  case $(redis_host_of "$1") in
    localhost | 127.* | ::1) [[ $(redis_port_of "$1") == "$2" ]] ;;
    *) return 1 ;;
  esac
}

# Whether <service>'s REDIS_URL holds credentials of its own (user info), which the
# service uses instead of its unit's REDIS_USERNAME and REDIS_PASSWORD_FILE
# (common/config.ts, redisUrlFrom).
redis_url_has_credentials() { # <service>
  local -a files
  mapfile -t files < <(env_files_of "$1")
  local url userinfo
  url=$(env_value REDIS_URL "${files[@]}")
  [[ $url == *://*@* ]] || return 1
  userinfo=${url#*://}
  userinfo=${userinfo%@*}
  [[ -n $userinfo && $userinfo != : ]]
}

# The backup unit has no network (PrivateNetwork=yes): enough for SQLite. Where the
# API's DATABASE_URL names a PostgreSQL, `api backup` dumps it over TCP, so the unit
# gets a drop-in that opens the network to that host only: its address, or localhost;
# a host name needs the resolver, so then any address (docs/backups.md). Prints the
# drop-in, or nothing when the API is on SQLite.
backup_network_dropin() {
  local -a files
  mapfile -t files < <(env_files_of api)
  local url host allow
  url=$(env_value DATABASE_URL "${files[@]}")
  [[ $url == postgres://* || $url == postgresql://* ]] || return 0
  host=${url#*://}
  host=${host%%[/?]*} # /database, ?options
  host=${host##*@}    # user:password@
  if [[ $host == \[* ]]; then host=${host#[}; host=${host%%]*}; else host=${host%:*}; fi
  case $host in
    "" | localhost | 127.* | ::1) allow=localhost ;;
    *[!0-9.]*) [[ $host == *:* && $host != *[!0-9a-fA-F:]* ]] && allow=$host ;;
    *) allow=$host ;;
  esac
  printf "# Written by deploy/install.sh: the API's store is the PostgreSQL at %s, which api backup dumps over TCP.\n[Service]\nPrivateNetwork=no\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n" "${host:-localhost}"
  if [[ -n $allow ]]; then
    printf 'IPAddressAllow=%s\n' "$allow"
  else
    printf '# A host name: its address is known only once resolved, so no address is denied.\nIPAddressDeny=\n'
  fi
}

# Where <service> answers its readiness check: its HOST and PORT settings (an
# address of every interface is asked on 127.0.0.1), else 127.0.0.1 and its unit's port.
ready_url_of() { # <service>
  local -a files
  mapfile -t files < <(env_files_of "$1")
  local host port
  host=$(env_value HOST "${files[@]}")
  port=$(env_value PORT "${files[@]}")
  case $host in
    "" | 0.0.0.0 | :: | "[::]") host=127.0.0.1 ;;
    *:*) host="[${host#[}" && host="${host%]}]" ;; # IPv6
  esac
  printf 'http://%s:%s%s' "$host" "${port:-${default_port[$1]}}" "${ready_path[$1]}"
}

# The release /opt/app/bin points to (its folder name), or nothing.
active_release() {
  [[ -L $bin_link ]] || return 0
  basename "$(readlink "$bin_link")"
}

# Every release, oldest first.
list_releases() {
  [[ -d $releases_dir ]] || return 0
  find "$releases_dir" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' | sort
}

# Points /opt/app/bin at releases/<version>, and /opt/app/web at its web/, each
# in one rename (a release made before releases had web/ leaves the page as it is).
switch_to() {
  local version=$1
  [[ -d $releases_dir/$version ]] || die "no release $version in $releases_dir"
  ln -sfn "$releases_dir/$version" "$app_dir/.bin.new"
  mv -T "$app_dir/.bin.new" "$bin_link"
  if [[ -d $releases_dir/$version/web ]]; then
    ln -sfn "$releases_dir/$version/web" "$app_dir/.web.new"
    mv -T "$app_dir/.web.new" "$web_link"
  fi
}

# Installs the units a release was made with, and tells systemd.
install_units_of() {
  local version=$1 file
  for file in "$releases_dir/$version"/systemd/*; do
    [[ -f $file ]] || continue
    install -o root -g root -m 0644 "$file" "$unit_dir/$(basename "$file")"
  done
  systemctl daemon-reload
}

# Prints the last journal lines of a unit, to stderr.
show_journal() {
  say "the last lines of $1's journal:"
  journalctl -u "$1" -n 30 --no-pager >&2 || true
}

# Waits until <service> answers its readiness URL with 2xx; fails at once when its
# unit has failed (exit 78, a bad setting, is not restarted), or after the timeout.
wait_ready() {
  local name=$1 unit deadline url
  unit=$(unit_of "$name")
  url=$(ready_url_of "$name")
  deadline=$((SECONDS + ready_timeout_s))
  while ((SECONDS < deadline)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      return 0
    fi
    if systemctl is-failed --quiet "$unit"; then
      say "$unit failed ($(systemctl show -p Result --value "$unit"), exit status $(systemctl show -p ExecMainStatus --value "$unit"))"
      return 1
    fi
    sleep 0.5
  done
  say "$unit did not answer $url within ${ready_timeout_s} s"
  return 1
}

# Restarts the services one at a time (price, api, ws), each waited for until
# ready. On the first that is not, prints its journal, sets failed_unit and fails.
failed_unit=
restart_and_wait() {
  local name unit
  for name in price api ws; do
    unit=$(unit_of "$name")
    # A start limit hit by earlier restarts must not refuse this one.
    systemctl reset-failed "$unit" 2>/dev/null || true
    say "restarting $unit"
    if ! systemctl restart "$unit" || ! wait_ready "$name"; then
      failed_unit=$unit
      show_journal "$unit"
      return 1
    fi
  done
}

# Makes <to> the active release and restarts onto it; if a service is not ready,
# goes back to <from> (when there is one), restarts that, and fails.
activate() {
  local to=$1 from=${2:-}
  switch_to "$to"
  install_units_of "$to"
  if restart_and_wait; then
    return 0
  fi
  local broken=$failed_unit
  if [[ -z $from ]]; then
    say "$broken is not ready, and there is no earlier release to go back to"
    return 1
  fi
  say "$broken is not ready on release $to: going back to $from"
  switch_to "$from"
  install_units_of "$from"
  if restart_and_wait; then
    say "back on release $from, ready; release $to was not kept active"
  else
    say "release $from is not ready either ($failed_unit): see the journal above"
  fi
  return 1
}

# Removes the oldest releases beyond the newest $keep_releases, never the active one.
prune_releases() {
  local active version
  active=$(active_release)
  local -a all
  mapfile -t all < <(list_releases)
  local excess=$((${#all[@]} - keep_releases))
  for version in "${all[@]}"; do
    ((excess > 0)) || break
    [[ $version == "$active" ]] && continue
    rm -rf "${releases_dir:?}/$version"
    excess=$((excess - 1))
  done
}
