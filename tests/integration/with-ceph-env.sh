#!/usr/bin/env bash
# with-ceph-env.sh COMMAND [ARGS...]: run COMMAND against the Ceph RGW started by
# scripts/services/ceph-rgw.sh. It loads the S3 environment (S3_ENDPOINT, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION, ...) from `ceph-rgw.sh env` and then execs COMMAND. The
# SLUICE_CEPH_DIR / SLUICE_RGW_PORT / SLUICE_CEPH_MON_PORT settings must be the ones the server was
# started with (CTest sets them on every test of the ceph_rgw fixture).
#
# It fails (exit 1) instead of running COMMAND when the server is not healthy, so a test can never
# pass or skip silently without a server.
set -euo pipefail
if [ $# -eq 0 ]; then echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; fi

service="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/services/ceph-rgw.sh"

if ! status=$(bash "$service" status 2>&1); then
  {
    echo "with-ceph-env: the Ceph RGW server (SLUICE_CEPH_DIR=${SLUICE_CEPH_DIR:-/tmp/sluice-ceph}) is not healthy:"
    echo "$status" | sed 's/^/  /'
    echo "with-ceph-env: start it with 'bash scripts/services/ceph-rgw.sh start' (CTest does this in"
    echo "the fixture test service.ceph_rgw.start; see its output for why it failed)"
  } >&2
  exit 1
fi

# nothing from the caller's AWS setup may leak in (profiles, sessions, container/IMDS credentials,
# ~/.aws files): the only credentials are the test user's, the only endpoint is 127.0.0.1
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ROLE_ARN \
      AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
      AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=""
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost
eval "$(bash "$service" env)"
exec "$@"
