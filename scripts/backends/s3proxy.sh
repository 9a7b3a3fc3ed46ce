#!/usr/bin/env bash
# Test backend: S3Proxy (an S3-compatible server backed by a local directory), so the S3 volume
# is tested against a real S3 API with SigV4 authentication and Content-MD5 checks.
#
#   s3proxy.sh install STATE_DIR   fetch the S3Proxy jar from Maven Central unless present
#   s3proxy.sh start STATE_DIR     start it on a free 127.0.0.1 port; print on stdout only
#                                  KEEPSTORE_TEST_S3_ENDPOINT=..., _ACCESS_KEY=..., _SECRET_KEY=...
#   s3proxy.sh stop STATE_DIR      stop the instance started with this STATE_DIR
set -euo pipefail

version=4.1.0
artifact=org.gaul:s3proxy:$version:jar:jar-with-dependencies

usage() {
  echo "usage: $0 install|start|stop STATE_DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
command=$1
state_dir=$(mkdir -p "$2" && cd "$2" && pwd)
home=$state_dir/s3proxy
jar=$home/s3proxy-$version-jar-with-dependencies.jar
pid_file=$home/s3proxy.pid

install() {
  mkdir -p "$home"
  if [ ! -s "$jar" ]; then
    # Run outside the project so Maven does not visit every module of the reactor.
    (cd "$home" && mvn -B -q -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="$artifact" -DoutputDirectory="$home") >&2
  fi
  [ -s "$jar" ] || { echo "s3proxy: $jar missing after download" >&2; exit 1; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

running() {
  [ -s "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

start() {
  [ -s "$jar" ] || install
  if running; then
    echo "s3proxy: already running with pid $(cat "$pid_file"); stop it first" >&2
    exit 1
  fi
  local port identity credential endpoint
  port=$(free_port)
  identity=keepstore-test
  credential=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  endpoint=http://127.0.0.1:$port
  mkdir -p "$home/data"
  cat >"$home/s3proxy.properties" <<PROPS
s3proxy.endpoint=$endpoint
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$identity
s3proxy.credential=$credential
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$home/data
PROPS
  chmod 600 "$home/s3proxy.properties"
  nohup java -Xmx512m -jar "$jar" --properties "$home/s3proxy.properties" \
    >"$home/s3proxy.log" 2>&1 </dev/null &
  echo $! >"$pid_file"
  # Any HTTP answer (403 for an unsigned request) means it is listening.
  local i
  for i in $(seq 1 120); do
    if curl -s -o /dev/null --max-time 2 "$endpoint/"; then
      echo "KEEPSTORE_TEST_S3_ENDPOINT=$endpoint"
      echo "KEEPSTORE_TEST_S3_ACCESS_KEY=$identity"
      echo "KEEPSTORE_TEST_S3_SECRET_KEY=$credential"
      return 0
    fi
    if ! running; then
      echo "s3proxy: exited during startup; see $home/s3proxy.log" >&2
      tail -20 "$home/s3proxy.log" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  echo "s3proxy: not answering on $endpoint after 60 s; see $home/s3proxy.log" >&2
  stop
  exit 1
}

stop() {
  if [ -s "$pid_file" ]; then
    local pid
    pid=$(cat "$pid_file")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      local i
      for i in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
      done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" || true
    fi
    rm -f "$pid_file"
  fi
}

case "$command" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
