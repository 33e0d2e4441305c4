#!/usr/bin/env bash
# `npm run deploy` / `npm run destroy`: setup (a few seconds when everything is present), then the Pulumi
# CLI on the dev stack (or $SWIFTDEPLOY_STACK) with the local backend of scripts/env (scripts/pulumi-stack.sh,
# which first puts right what a killed update left).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/scripts/setup.sh"
exec bash "$root/scripts/pulumi-stack.sh" "$@"
