#!/usr/bin/env bash
# Installs the Java SDK's dependencies from Maven Central into ~/.m2 and builds the SDK jar and the
# conformance driver (sdks/java/conformance-driver/target). Idempotent. Needs a JDK 17+ and Maven.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v javac >/dev/null || ! command -v mvn >/dev/null; then
  # A JDK (javac: the README example is compiled by the tests) and Maven, from Debian's packages.
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "sdks/java: installing openjdk-17-jdk-headless and maven (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven >/dev/null
  fi
fi
command -v javac >/dev/null || { echo "setup.sh: a JDK 17+ (javac) is not installed (apt-get install openjdk-17-jdk-headless)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "setup.sh: mvn (Maven) is not installed (apt-get install maven)" >&2; exit 1; }
echo "sdks/java: resolving dependencies and packaging (mvn -B -q package)"
# Running the codec's unit tests here also fetches the JUnit provider that the offline
# `mvn -o test` of test.sh needs; the relay-backed tests run in test.sh.
mvn -B -q package -Dtest='WireVectorsTest' -Dsurefire.failIfNoSpecifiedTests=false
# Plugins the offline test run may ask for beyond the package phase.
mvn -B -q dependency:resolve-plugins >/dev/null
echo "sdks/java: built client/target/fastpubsub-client-0.1.0.jar and conformance-driver/target/{fastpubsub-conformance-driver.jar,lib/}"
