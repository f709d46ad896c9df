#!/usr/bin/env bash
# Runs the whole default test suite (tests tagged "slow" run with: ./test.sh -Pslow): every module's
# tests, then installs the artifacts into the local Maven repository and builds and tests the example
# consumer project (examples/consumer) against performer-core by its coordinates, as a user would.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/scripts/find-jdk.sh"
if ! command -v mvn >/dev/null 2>&1; then
  echo "error: Maven (mvn) is needed to run the tests; install it (apt-get install maven)." >&2
  exit 1
fi
cd "$here"
# Maven 3.8 bundles a Guava that calls sun.misc.Unsafe; JDK 24+ warns about it unless allowed
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
mvn -B install "$@"
cd examples/consumer
exec mvn -B test
