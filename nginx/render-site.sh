#!/usr/bin/env bash
# Prints tap-trading's nginx site, one self-contained file, from nginx/site/:
#
#   nginx/render-site.sh                      the HTTP site on port 80 (nginx/tap-trading.conf)
#   nginx/render-site.sh --domain example.com [--cert PATH --key PATH]
#                                             the HTTPS site: 443 with TLS, 80 redirecting
#                                             to it and answering certbot's challenges
#
# Options of the HTTPS site:
#   --cert PATH        the certificate chain (default /etc/letsencrypt/live/<domain>/fullchain.pem)
#   --key PATH         its private key       (default /etc/letsencrypt/live/<domain>/privkey.pem)
#   --acme-root DIR    where certbot --webroot writes its challenges (default /var/www/letsencrypt)
#   --http-port N      plain HTTP's port (default 80)
#   --https-port N     HTTPS's port (default 443; the redirect names any other)
#
# Options of both sites: the nodes behind nginx (docs/nodes.md), each list
# host:port addresses separated by spaces or commas, one `server` line each:
#   --api-upstreams "A B"   the api nodes (default $API_UPSTREAMS, else 127.0.0.1:8080)
#   --ws-upstreams "A B"    the ws nodes  (default $WS_UPSTREAMS, else 127.0.0.1:8081)
# e.g. API_UPSTREAMS="10.0.0.11:8080 10.0.0.12:8080" nginx/render-site.sh
#
# Each `include site/<part>.conf;` of a template is replaced by that part (its
# opening comment block left out), indented as the include line was: nginx
# finds no file of ours beside the site. Used by deploy/install.sh and by
# nginx/render.ts (the tests, `make run`). docs/tls.md tells the whole story.
set -euo pipefail

die() { printf 'render-site: %s\n' "$*" >&2; exit 64; }
here=$(dirname "${BASH_SOURCE[0]}")

domain= cert= key= acme_root= http_port= https_port=
api_upstreams=${API_UPSTREAMS:-127.0.0.1:8080} ws_upstreams=${WS_UPSTREAMS:-127.0.0.1:8081}
while (($# > 0)); do
  (($# >= 2)) || die "$1 needs a value"
  case $1 in
    --domain) domain=$2 ;;
    --cert) cert=$2 ;;
    --key) key=$2 ;;
    --acme-root) acme_root=$2 ;;
    --http-port) http_port=$2 ;;
    --https-port) https_port=$2 ;;
    --api-upstreams) api_upstreams=$2 ;;
    --ws-upstreams) ws_upstreams=$2 ;;
    *) die "unknown option $1 (see the comment at the top of $0)" ;;
  esac
  shift 2
done

# A value goes into nginx's syntax and into a sed replacement: plain characters only.
plain_path() {
  [[ $2 == /* && $2 =~ ^[A-Za-z0-9._/@+=,:-]+$ && $2 != *..* ]] || die "$1 must be an absolute path of plain characters: '$2'"
}
port() {
  [[ $2 =~ ^[0-9]{1,5}$ ]] && (($2 >= 1 && $2 <= 65535)) || die "$1 must be a port (1-65535): '$2'"
}
# The nodes of one upstream into the array named $3: host:port each (a host
# name, an IPv4 address or an [IPv6] one), at least one, none twice.
upstream_list() {
  local -n into=$3
  local address seen=" "
  read -r -a into <<<"${2//,/ }"
  ((${#into[@]} > 0)) || die "$1 must name at least one node (host:port)"
  for address in "${into[@]}"; do
    [[ $address =~ ^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$ ]] &&
      ((10#${BASH_REMATCH[3]} >= 1 && 10#${BASH_REMATCH[3]} <= 65535)) ||
      die "$1 must be host:port addresses (a name, an IPv4 address or [IPv6], a port 1-65535): '$address'"
    [[ $seen != *" $address "* ]] || die "$1 names $address twice"
    seen+="$address "
  done
}

upstream_list --api-upstreams "$api_upstreams" api_nodes
upstream_list --ws-upstreams "$ws_upstreams" ws_nodes

if [[ -z $domain ]]; then
  [[ -z $cert$key$acme_root$http_port$https_port ]] || die "--cert, --key, --acme-root and the ports go with --domain"
  template=$here/site/http-site.conf
  edits=()
else
  label='[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
  [[ ${#domain} -le 253 && $domain =~ ^$label(\.$label)*$ ]] || die "--domain must be a host name such as example.com: '$domain'"
  cert=${cert:-/etc/letsencrypt/live/$domain/fullchain.pem}
  key=${key:-/etc/letsencrypt/live/$domain/privkey.pem}
  acme_root=${acme_root:-/var/www/letsencrypt}
  http_port=${http_port:-80}
  https_port=${https_port:-443}
  plain_path --cert "$cert"
  plain_path --key "$key"
  plain_path --acme-root "$acme_root"
  port --http-port "$http_port"
  port --https-port "$https_port"
  [[ $http_port != "$https_port" ]] || die "--http-port and --https-port must differ"
  origin=https://$domain
  [[ $https_port == 443 ]] || origin=$origin:$https_port
  template=$here/site/https-site.conf
  edits=(
    -e "s|@DOMAIN@|$domain|g"
    -e "s|@CERTIFICATE@|$cert|g"
    -e "s|@CERTIFICATE_KEY@|$key|g"
    -e "s|@HTTP_PORT@|$http_port|g"
    -e "s|@HTTPS_PORT@|$https_port|g"
    -e "s|@HTTPS_ORIGIN@|$origin|g"
    -e "s|root /var/www/letsencrypt;|root $acme_root;|"
  )
fi

# The template with its parts inlined.
site=$(
  while IFS= read -r line || [[ -n $line ]]; do
    if [[ $line =~ ^([[:space:]]*)include\ site/([a-z-]+\.conf)\;[[:space:]]*$ ]]; then
      indent=${BASH_REMATCH[1]}
      part=$here/site/${BASH_REMATCH[2]}
      [[ -r $part ]] || die "$template includes $part, which is missing"
      opening=1
      while IFS= read -r partline || [[ -n $partline ]]; do
        if ((opening)); then
          [[ $partline == \#* ]] && continue
          opening=0
          [[ -z $partline ]] && continue
        fi
        if [[ -z $partline ]]; then printf '\n'; else printf '%s%s\n' "$indent" "$partline"; fi
      done <"$part"
    else
      printf '%s\n' "$line"
    fi
  done <"$template"
)
((${#edits[@]} == 0)) || site=$(sed "${edits[@]}" <<<"$site")

# Each upstream's one `server` line in the templates, once per node.
server_line='^([[:space:]]*)server 127\.0\.0\.1:(8080|8081)( [^;]*)?;$'
expanded=0
site=$(
  while IFS= read -r line; do
    if [[ $line =~ $server_line ]]; then
      indent=${BASH_REMATCH[1]} parameters=${BASH_REMATCH[3]}
      if [[ ${BASH_REMATCH[2]} == 8080 ]]; then nodes=("${api_nodes[@]}"); else nodes=("${ws_nodes[@]}"); fi
      for node in "${nodes[@]}"; do printf '%sserver %s%s;\n' "$indent" "$node" "$parameters"; done
      ((++expanded))
    else
      printf '%s\n' "$line"
    fi
  done <<<"$site"
  ((expanded == 2)) || die "$template: expected one server line in each of the two upstreams, found $expanded"
)
! grep -qE '@[A-Z_]+@|include site/' <<<"$site" || die "a placeholder or an include of $template was left unfilled"
printf '%s\n' "$site"
