#!/usr/bin/env bash
# Runs a command after making sure the npm dependencies are installed and fresh (for npm run status/audit/
# validate on a fresh clone), with the tools and backend settings of scripts/env.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
logs="$root/.swiftdeploy/setup-logs"
mkdir -p "$logs"
source "$root/scripts/lib/steps.sh"
source "$root/scripts/env"
stamp="$root/node_modules/.package-lock.json"
if ! { [ -f "$stamp" ] && [ "$stamp" -nt "$root/package-lock.json" ] && [ "$stamp" -nt "$root/package.json" ]; }; then
  step "npm dependencies" ensure_npm_dependencies >&2
fi
cd "$root"
exec npx --no-install "$@"
