#!/usr/bin/env bash
# Installs every Debian 12 package that building and testing sluice needs. Idempotent: packages
# already present are not touched, and apt is only asked when something is missing.
#   scripts/install-deps.sh           build and test packages (the test command uses this)
#   scripts/install-deps.sh --build   only what building and running sluice needs (the quickstart)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libspdlog-dev libfmt-dev libtomlplusplus-dev nlohmann-json3-dev libcli11-dev
  libsqlite3-dev sqlite3 libssl-dev libcurl4-openssl-dev libpugixml-dev
  librabbitmq-dev     # the amqp:// queue and the amqp source (rabbitmq-c)
  libcpp-httplib-dev  # the webhook source and the /metrics endpoint (HTTP server)
  prometheus-cpp-dev  # /metrics: registry and text format (only libprometheus-cpp-core is linked)
)
if [ "${1:-}" != "--build" ]; then
  packages+=(
    libgtest-dev libgmock-dev python3 time
    ceph-mon ceph-osd radosgw ceph-common awscli curl  # real S3 server and peer for the tests
    rabbitmq-server                                    # real AMQP broker for the amqp:// tests
  )
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
