#!/usr/bin/env bash
# Before `pulumi up` or `pulumi destroy` (scripts/pulumi-stack.sh runs it): puts right what a killed or
# interrupted update of the stack left behind, so the next update converges without a manual step:
#   - a lock whose holder is gone (pulumi cancel),
#   - operations that were pending when the update stopped (pulumi refresh --clear-pending-creates),
#   - containers carrying the stack's labels that no state knows (docker rm -f).
# One line per thing it did; nothing when there was nothing to do. Exits non-zero, touching nothing, when
# the lock's holder still runs or runs on another host.
#
# Usage: bash scripts/recover.sh <stack>   (with the environment of scripts/env)
#
# This first look costs a few milliseconds (file tests and one `docker ps`, no Node, no Pulumi CLI): every
# `npm run deploy` pays it. Only when it finds something does scripts/recover.ts look closely and act.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stack=${1:?usage: recover.sh <stack>}
project=$(sed -n 's/^name: *//p' "$root/Pulumi.yaml")

# The file backend's layout (pulumi pkg/backend/diy): the checkpoint, and one lock file per update holding it.
case "${PULUMI_BACKEND_URL:-}" in
file://*) state=${PULUMI_BACKEND_URL#file://} ;;
*) exit 0 ;; # another backend: its locks and state are not files here
esac
checkpoint="$state/.pulumi/stacks/$project/$stack.json"
locks="$state/.pulumi/locks/organization/$project/$stack"
[ -f "$checkpoint" ] || exit 0 # a stack never deployed has nothing to recover

needs_recovery() {
  compgen -G "$locks/*.json" >/dev/null && return 0
  grep -q '"pending_operations"' "$checkpoint" && return 0
  # A container the checkpoint does not even mention is certainly unknown to it (recover.ts decides exactly).
  local id
  for id in $(docker ps -aq --no-trunc --filter "label=swiftdeploy.project=$project" \
    --filter "label=swiftdeploy.stack=$stack" 2>/dev/null); do
    grep -qF "\"$id\"" "$checkpoint" || return 0
  done
  return 1
}

needs_recovery || exit 0
cd "$root"
exec node --require sucrase/register/ts scripts/recover.ts "$project" "$stack" "$state"
