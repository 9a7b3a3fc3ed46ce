#!/usr/bin/env bash
# Test backend: Azurite, Microsoft's Azure Blob Storage emulator, on 127.0.0.1.
#
#   azurite.sh install STATE_DIR   install azurite into STATE_DIR/azurite (npm), unless present
#   azurite.sh start STATE_DIR     start it on a free port; print on stdout only the
#                                  KEEPSTORE_TEST_AZURE_* lines the tests read
#   azurite.sh stop STATE_DIR      stop the instance started from STATE_DIR
#
# Everything but those lines goes to stderr or to STATE_DIR/azurite.log, because
# scripts/test.sh exports whatever NAME=VALUE lines this prints on start.
set -euo pipefail

AZURITE_VERSION=3.37.0
# The emulator's fixed development account; its key is public (documented by Microsoft) and
# accepted only by the emulator.
ACCOUNT=devstoreaccount1
DEV_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

usage() {
  echo "usage: $0 install|start|stop STATE_DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
state_dir=$2
mkdir -p "$state_dir"
state_dir=$(cd "$state_dir" && pwd)
install_dir=$state_dir/azurite
bin=$install_dir/node_modules/.bin/azurite-blob
pid_file=$state_dir/azurite.pid
port_file=$state_dir/azurite.port
log_file=$state_dir/azurite.log

print_environment() {
  echo "KEEPSTORE_TEST_AZURE_ENDPOINT=http://127.0.0.1:$1/$ACCOUNT"
  echo "KEEPSTORE_TEST_AZURE_ACCOUNT=$ACCOUNT"
  echo "KEEPSTORE_TEST_AZURE_KEY=$DEV_KEY"
}

free_port() {
  # Ask the kernel for an unused port on the loopback interface.
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

is_running() {
  [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

case $cmd in
  install)
    if [ -x "$bin" ]; then
      echo "azurite already installed in $install_dir" >&2
      exit 0
    fi
    command -v npm >/dev/null || { echo "azurite.sh: npm is required to install Azurite" >&2; exit 1; }
    echo "installing azurite@$AZURITE_VERSION into $install_dir" >&2
    npm install --prefix "$install_dir" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >&2
    [ -x "$bin" ] || { echo "azurite.sh: install did not produce $bin" >&2; exit 1; }
    ;;

  start)
    [ -x "$bin" ] || { echo "azurite.sh: not installed; run '$0 install $state_dir' first" >&2; exit 1; }
    if is_running && [ -f "$port_file" ]; then
      # Started earlier from this state directory and still up: reuse it.
      echo "azurite.sh: already running (pid $(cat "$pid_file"))" >&2
      print_environment "$(cat "$port_file")"
      exit 0
    fi
    port=$(free_port)
    # Azurite keeps its metadata files in the working directory even with in-memory
    # persistence, so run it from the state directory.
    (
      cd "$state_dir"
      exec "$bin" --blobHost 127.0.0.1 --blobPort "$port" --inMemoryPersistence \
        --disableTelemetry --skipApiVersionCheck
    ) >"$log_file" 2>&1 </dev/null &
    echo $! >"$pid_file"
    echo "$port" >"$port_file"
    # Wait until it answers HTTP (any status; an unauthenticated request gets 4xx).
    for _ in $(seq 1 300); do
      if ! is_running; then
        echo "azurite.sh: azurite exited during startup; log follows" >&2
        cat "$log_file" >&2
        rm -f "$pid_file" "$port_file"
        exit 1
      fi
      if curl -s -o /dev/null "http://127.0.0.1:$port/$ACCOUNT?comp=list"; then
        print_environment "$port"
        exit 0
      fi
      sleep 0.1
    done
    echo "azurite.sh: azurite did not answer on port $port within 30 s; log: $log_file" >&2
    kill "$(cat "$pid_file")" 2>/dev/null || true
    rm -f "$pid_file" "$port_file"
    exit 1
    ;;

  stop)
    if is_running; then
      pid=$(cat "$pid_file")
      kill "$pid"
      for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pid_file" "$port_file"
    ;;

  *)
    usage
    ;;
esac
