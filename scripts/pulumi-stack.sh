#!/usr/bin/env bash
# The Pulumi CLI on the dev stack (or $SWIFTDEPLOY_STACK) with the local backend of scripts/env: what
# `npm run deploy` / `npm run destroy` run once setup is done (scripts/pulumi.sh). Before an `up` or a
# `destroy`, scripts/recover.sh clears what a killed or interrupted update left (a stale lock, pending
# operations, containers no state knows), saying what it did.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/env"
cd "$root"
stack="${SWIFTDEPLOY_STACK:-dev}"
# A new stack name is created on first use (checking the state file costs nothing; the CLI ~0.1 s).
[ -f "$SWIFTDEPLOY_STATE/.pulumi/stacks/swiftdeploy/$stack.json" ] ||
  pulumi stack init "$stack" --non-interactive >/dev/null
case "${1:-}" in
up | destroy) bash "$root/scripts/recover.sh" "$stack" ;;
esac
exec pulumi --stack "$stack" --non-interactive "$@"
