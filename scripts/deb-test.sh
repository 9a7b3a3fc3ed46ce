#!/usr/bin/env bash
# Installs the keepstore Debian package and runs it the way the Arvados install guide does:
# dpkg -i, keepstore -h, then the server under runit's runsv with the guide's style of run
# script on a temporary volume. Stores and reads a block, kills the server (kill -9) and
# checks that runsv restarts it and the block is still readable, purges the package and
# checks the volume data survived, and runs lintian on the package (fails on errors).
#
# Needs root on Debian (it installs packages); elsewhere it says why and exits 0.
# Installs runit, lintian and curl when missing. Uses the package from the build
# (keep-deb/target/keepstore_<version>_all.deb), rebuilding it when the sources are newer;
# KEEPSTORE_DEB=/path/to/file.deb tests that file instead.
#
# Usage: scripts/deb-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "deb-test: $*"; }
fail() {
  echo "deb-test: FAIL: $*" >&2
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  log "skipped: must run as root (it installs and purges the keepstore package)"
  exit 0
fi
if [ ! -r /etc/debian_version ] || ! command -v dpkg >/dev/null || ! command -v apt-get >/dev/null; then
  log "skipped: not a Debian system (no /etc/debian_version, dpkg or apt-get)"
  exit 0
fi
if dpkg-query -W -f '${Status}' keepstore 2>/dev/null | grep -q 'installed'; then
  fail "a keepstore package is already installed here; this test installs and purges it, so remove it first"
fi

missing=()
command -v runsv >/dev/null || missing+=(runit)
command -v lintian >/dev/null || missing+=(lintian)
command -v curl >/dev/null || missing+=(curl)
apt_updated=no
apt_update_once() {
  if [ "$apt_updated" = no ]; then
    apt-get update -q
    apt_updated=yes
  fi
}
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- the package under test -------------------------------------------------------------
version=$(sed -n 's:.*<version>\(.*\)</version>.*:\1:p' pom.xml | head -n 1)
deb=${KEEPSTORE_DEB:-keep-deb/target/keepstore_${version}_all.deb}
if [ -z "${KEEPSTORE_DEB:-}" ]; then
  if [ ! -f "$deb" ] || [ -n "$(find pom.xml keep-*/pom.xml keep-*/src scripts/keepstore-launcher docs/install.md docs/operators.md \
    -newer "$deb" -print -quit 2>/dev/null)" ]; then
    log "building $deb"
    build_log=$(mktemp /tmp/keepstore-deb-build.XXXXXX)
    if ! mvn -B -q -Dstyle.color=never -pl keep-deb -am package -DskipTests >"$build_log" 2>&1; then
      cat "$build_log" >&2
      rm -f "$build_log"
      fail "the package build failed"
    fi
    rm -f "$build_log"
  else
    log "reusing $deb (newer than its sources)"
  fi
fi
[ -f "$deb" ] || fail "no package at $deb"
deb=$(readlink -f "$deb")

# --- everything started below is stopped by cleanup ----------------------------------------
work=$(mktemp -d /tmp/keepstore-deb-test.XXXXXX)
service_dir=$work/service/keepstore
runsv_pid=""
config_pid=""
installed_by_us=no

server_pid() {
  local pid
  pid=$(cat "$service_dir/supervise/pid" 2>/dev/null || true)
  [ -n "$pid" ] && [ -d "/proc/$pid" ] && echo "$pid"
  return 0
}

cleanup() {
  local status=$? pid
  set +e
  if [ -n "$runsv_pid" ] && kill -0 "$runsv_pid" 2>/dev/null; then
    sv -w 60 force-stop "$service_dir" >/dev/null 2>&1
    pid=$(server_pid)
    sv exit "$service_dir" >/dev/null 2>&1
    wait "$runsv_pid" 2>/dev/null
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  fi
  if [ -n "$config_pid" ] && [ -d "/proc/$config_pid" ]; then
    kill -9 "$config_pid" 2>/dev/null
  fi
  if [ "$installed_by_us" = yes ] && dpkg-query -W -f '${Status}' keepstore 2>/dev/null | grep -q 'installed'; then
    dpkg --purge keepstore >/dev/null 2>&1
  fi
  if [ "$status" -ne 0 ] && [ -f "$work/runsv.log" ]; then
    echo "deb-test: server output (last 40 lines):" >&2
    tail -n 40 "$work/runsv.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free TCP port on 127.0.0.1 (nothing answers a connection to it).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

# Waits (generously: a cold JVM on a busy machine) until $1 holds; fails with $2 otherwise.
wait_for() {
  local condition=$1 what=$2 i
  for i in $(seq 1 600); do
    if eval "$condition"; then return 0; fi
    sleep 0.5
  done
  fail "timed out waiting for $what"
}

# --- install ---------------------------------------------------------------------------------
log "installing $(basename "$deb")"
installed_by_us=yes
if ! dpkg -i "$deb" >"$work/dpkg.log" 2>&1; then
  log "dpkg -i left dependencies unresolved; apt-get install -f"
  apt_update_once >>"$work/dpkg.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -q >>"$work/dpkg.log" 2>&1 ||
    { cat "$work/dpkg.log" >&2; fail "apt-get install -f did not complete the installation"; }
fi
dpkg-query -W -f '${Status}' keepstore | grep -q 'install ok installed' ||
  { cat "$work/dpkg.log" >&2; fail "keepstore is not installed after dpkg -i"; }
getent passwd keepstore >/dev/null || fail "postinst did not create the keepstore user"
[ "$(stat -c '%a %U:%G' /etc/keepstore)" = "750 root:keepstore" ] ||
  fail "/etc/keepstore is $(stat -c '%a %U:%G' /etc/keepstore), expected 750 root:keepstore"
log "installed: $(command -v keepstore), user keepstore, /etc/keepstore 750 root:keepstore"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify --man=no /lib/systemd/system/keepstore.service ||
    fail "systemd-analyze rejects keepstore.service"
  log "systemd-analyze verify keepstore.service: OK"
fi

help=$(keepstore -h 2>&1) || fail "keepstore -h exited with status $?: $help"
grep -q -- '-max-buffers' <<<"$help" || fail "keepstore -h does not list -max-buffers: $help"
log "keepstore -h: exit 0, $(wc -l <<<"$help") lines of usage"

# --- run under runit with the guide's run script ------------------------------------------------
volume=$work/mnt/keep
mkdir -p "$volume" "$service_dir"
signing_key=/etc/keepstore/blob-signing.key
head -c 48 /dev/urandom | base64 -w0 >"$signing_key"
chown keepstore:keepstore "$signing_key"
chmod 0600 "$signing_key"
port=$(free_port)
cat >"$service_dir/run" <<EOF
#!/bin/sh
exec 2>&1
exec keepstore -enforce-permissions=true -blob-signing-key-file=$signing_key -max-buffers=100 -serialize=true -never-delete=false -volume=$volume -listen=127.0.0.1:$port
EOF
chmod 0755 "$service_dir/run"

runsv "$service_dir" >"$work/runsv.log" 2>&1 &
runsv_pid=$!
base=http://127.0.0.1:$port
answers() { [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/" 2>/dev/null)" != 000 ]; }
# Answers on $base, or gives up early when runsv has had to start it again and again.
started_pids=" "
serving_or_crash_looping() {
  local pid
  pid=$(server_pid)
  if [ -n "$pid" ] && [[ "$started_pids" != *" $pid "* ]]; then started_pids="$started_pids$pid "; fi
  if [ "$(wc -w <<<"$started_pids")" -gt 3 ]; then
    fail "the server keeps exiting under runsv (started as pids$started_pids)"
  fi
  answers
}
wait_for serving_or_crash_looping "the server to answer on $base"
first_pid=$(server_pid)
[ -n "$first_pid" ] || fail "runsv reports no running server"
[ "$(basename "$(readlink -f "/proc/$first_pid/exe")")" = java ] ||
  fail "the supervised process $first_pid is $(readlink -f "/proc/$first_pid/exe"), not the JVM (the launcher must exec it)"
tr '\0' '\n' <"/proc/$first_pid/cmdline" | grep -qx -- '-XX:MaxDirectMemorySize=6628m' ||
  fail "the JVM was not given -XX:MaxDirectMemorySize=6628m (100 buffers x 65 MiB + 128 MiB): $(tr '\0' ' ' <"/proc/$first_pid/cmdline")"
log "server answers on $base under runsv; pid $first_pid is the JVM, direct memory 6628m for -max-buffers=100"
if grep -q 'of direct memory for block buffers' "$work/runsv.log"; then
  fail "the server says the launcher's memory limit cannot hold its buffers: $(grep 'of direct memory for block buffers' "$work/runsv.log")"
fi

token=deb-test-token-$RANDOM$RANDOM
head -c 300000 /dev/urandom >"$work/block"
hash=$(md5sum "$work/block" | cut -d' ' -f1)
locator=$(curl -sSf -X PUT -H "Authorization: Bearer $token" --data-binary @"$work/block" "$base/$hash") ||
  fail "PUT $hash failed"
locator=$(head -n 1 <<<"$locator" | tr -d '\r')
[ "${locator%%+*}" = "$hash" ] || fail "PUT answered '$locator', expected a locator for $hash"
read_back() {
  curl -sSf -H "Authorization: Bearer $token" -o "$work/read" "$base/$locator" && cmp -s "$work/block" "$work/read"
}
read_back || fail "GET $hash did not return the stored bytes"
log "PUT and GET of a 300000-byte block: OK ($hash)"
# Small GETs are answered from the page cache through JNA (PageCacheReader), which unpacks its
# native part from the jar at startup; it logs a line when it cannot.
if grep -q 'native calls unavailable' "$work/runsv.log"; then
  fail "JNA's native part did not load: $(grep 'native calls unavailable' "$work/runsv.log")"
fi
log "JNA's native part loaded from the packaged jar"

kill -9 "$first_pid"
restarted() {
  local pid
  pid=$(server_pid)
  [ -n "$pid" ] && [ "$pid" != "$first_pid" ] && answers
}
wait_for restarted "runsv to restart the server after kill -9"
second_pid=$(server_pid)
read_back || fail "the block is not readable after the restart"
log "kill -9 $first_pid: runsv restarted the server as pid $second_pid; block still readable"

sv -w 60 down "$service_dir" >/dev/null || fail "sv down did not stop the server"
sv exit "$service_dir" >/dev/null
wait "$runsv_pid" || true
runsv_pid=""
if [ -d "/proc/$second_pid" ]; then fail "the server (pid $second_pid) is still running after sv down"; fi
log "sv down: server stopped; runsv exited"

# --- a cluster config sets the buffers: the launcher sizes direct memory from it ------------------
# Flow style and a hex number: the launcher asks the server's own config reader.
config_port=$(free_port)
mkdir -p "$work/config-volume"
cat >"$work/config.yml" <<EOF
Clusters:
  zzzzz:
    API: {MaxKeepBlobBuffers: 0x10}
    SystemRootToken: deb-test-root-token-$RANDOM$RANDOM
    Collections: {BlobSigningKey: $(head -c 48 /dev/urandom | base64 -w0 | tr -d '+/=')}
    Services:
      Keepstore:
        InternalURLs: {"http://127.0.0.1:$config_port": {}}
    Volumes:
      zzzzz-nyw5e-000000000000000:
        Driver: Directory
        DriverParameters: {Root: "$work/config-volume"}
EOF
chmod 0600 "$work/config.yml"
keepstore -config="$work/config.yml" >"$work/config-server.log" 2>&1 &
config_pid=$!
base=http://127.0.0.1:$config_port
config_server_up() {
  [ -d "/proc/$config_pid" ] || { cat "$work/config-server.log" >&2; fail "keepstore -config exited"; }
  answers
}
wait_for config_server_up "the -config server to answer on $base"
config_cmdline=$(tr '\0' ' ' <"/proc/$config_pid/cmdline")
kill "$config_pid"
wait "$config_pid" || true
grep -q -- '-XX:MaxDirectMemorySize=1168m ' <<<"$config_cmdline" ||
  fail "MaxKeepBlobBuffers 0x10 did not give -XX:MaxDirectMemorySize=1168m (16 x 65 MiB + 128 MiB): $config_cmdline"
log "keepstore -config with API: {MaxKeepBlobBuffers: 0x10}: direct memory 1168m; stopped"

# --- purge: configuration and account go, data stays ------------------------------------
dpkg --purge keepstore >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "dpkg --purge failed"; }
installed_by_us=no
! dpkg-query -W -f '${Status}' keepstore 2>/dev/null | grep -q 'installed' || fail "keepstore still installed after purge"
[ ! -e /etc/keepstore ] || fail "/etc/keepstore survived the purge"
[ ! -e /usr/bin/keepstore ] || fail "/usr/bin/keepstore survived the purge"
! getent passwd keepstore >/dev/null || fail "the keepstore user survived the purge"
stored=$volume/${hash:0:3}/$hash
[ -f "$stored" ] && [ "$(md5sum <"$stored" | cut -d' ' -f1)" = "$hash" ] ||
  fail "the stored block $stored is gone or changed after the purge"
log "dpkg --purge: package, /etc/keepstore and user removed; volume data intact ($stored)"

# --- lintian ---------------------------------------------------------------------------------
lintian_status=0
lintian --fail-on error "$deb" >"$work/lintian.log" 2>&1 || lintian_status=$?
grep -v '^running with root privileges' "$work/lintian.log" | sed 's/^/deb-test: lintian: /' || true
[ "$lintian_status" -eq 0 ] || fail "lintian reports errors (exit status $lintian_status)"
log "lintian: no errors ($(grep -c '^W:' "$work/lintian.log" || true) warnings)"

log "PASS"
