#!/usr/bin/env bash
# Runs the full reliability suite (keep-reliability) against the real keepstore process:
# kill -9 during concurrent PUTs, disk full on tmpfs volumes, injected I/O errors, an Azure
# emulator outage, overload and slow clients, 100,000 fuzzed HTTP requests, property tests of
# the parsers, and the secrets checks. Prints the figures at the end.
#
# Needs root for the tmpfs and bind mounts (those tests skip with a message otherwise) and npm
# for Azurite on first use. `mvn verify` (and scripts/test.sh) runs a shortened version.
#
# Usage: scripts/reliability.sh [extra mvn arguments, e.g. -o or -Dkeepstore.fuzz.requests=500000]
set -euo pipefail
cd "$(dirname "$0")/.."

figures=keep-reliability/target/reliability-figures.txt
rm -f "$figures"
status=0
mvn -B -pl keep-reliability -am verify \
  -Dkeepstore.reliability.full=true \
  -Dtest='org.keepstore.reliability.*Test' -Dit.test='org.keepstore.reliability.*IT' \
  -Dsurefire.failIfNoSpecifiedTests=false -Dfailsafe.failIfNoSpecifiedTests=false \
  "$@" || status=$?

echo
echo "== Reliability figures ($figures) =="
cat "$figures" 2>/dev/null || echo "(none recorded)"
exit $status
