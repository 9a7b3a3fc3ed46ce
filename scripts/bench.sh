#!/usr/bin/env bash
# Runs the end-to-end load driver (keep-bench's org.keepstore.bench.LoadDriver) against the real
# server: builds the server jar and the benchmarks jar first when they are missing or older than
# the sources, then starts the server on 127.0.0.1 with fresh volumes, measures, stops it, and
# writes keep-bench/target/load-report.md and load-report.svg. The server is started through
# the ./keepstore launcher, as operators start it (it sizes memory from -max-buffers).
#
# Usage: scripts/bench.sh [--check] [--quick] [other LoadDriver options; --help lists them]
# Extra Maven arguments (e.g. -o for offline) can be given in MVN_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."

server_jar=keep-server/target/keepstore.jar
bench_jar=keep-bench/target/benchmarks.jar

stale() {
  [ ! -f "$1" ] && return 0
  # Only what goes into the jars counts: the POMs and the modules' sources.
  [ -n "$(find pom.xml keep-*/pom.xml keep-*/src -type f -newer "$1" -print -quit)" ]
}

if stale "$server_jar" || stale "$bench_jar"; then
  # shellcheck disable=SC2086
  mvn -B -q ${MVN_ARGS:-} -pl keep-server,keep-bench -am package -DskipTests
fi

exec java -cp "$bench_jar" org.keepstore.bench.LoadDriver "$@"
