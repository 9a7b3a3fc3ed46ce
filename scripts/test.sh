#!/usr/bin/env bash
# Runs every test of the project on a fresh machine: installs the test backends that are
# missing (an S3-compatible server and the Azure Blob emulator), starts them on 127.0.0.1,
# runs the Maven build with all tests, and stops what it started.
#
# Usage: scripts/test.sh [extra mvn arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

backends_dir=scripts/backends
state_dir=${KEEPSTORE_TEST_STATE:-$PWD/target/test-backends}
mkdir -p "$state_dir"

started=()
stop_all() {
  local b
  for b in "${started[@]:-}"; do
    [ -n "$b" ] && "$backends_dir/$b.sh" stop "$state_dir" || true
  done
}
trap stop_all EXIT

# Each backend script prints "NAME=VALUE" lines (endpoints, credentials) on start.
for script in "$backends_dir"/*.sh; do
  [ -e "$script" ] || continue
  name=$(basename "$script" .sh)
  "$script" install "$state_dir"
  while IFS= read -r line; do
    case "$line" in
      *=*) export "${line?}" ;;
    esac
  done < <("$script" start "$state_dir")
  started+=("$name")
done

mvn -B verify "$@"
