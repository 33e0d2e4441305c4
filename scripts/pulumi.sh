#!/usr/bin/env bash
# `npm run deploy` / `npm run destroy`: setup (a few seconds when everything is present), then the Pulumi
# CLI on the dev stack (or $SWIFTDEPLOY_STACK) with the local backend of scripts/env.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
source "$root/scripts/env"
cd "$root"
stack="${SWIFTDEPLOY_STACK:-dev}"
# A new stack name is created on first use (checking the state file costs nothing; the CLI ~0.1 s).
[ -f "$SWIFTDEPLOY_STATE/.pulumi/stacks/swiftdeploy/$stack.json" ] ||
  pulumi stack init "$stack" --non-interactive >/dev/null
exec pulumi --stack "$stack" --non-interactive "$@"
