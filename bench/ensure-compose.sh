#!/usr/bin/env bash
# Makes `docker compose` (Compose v2, the baseline of `npm run bench`) available: built from the module proxy
# through the wrapper module toolchain/compose, kept in the tool cache keyed by version and go.sum, and
# installed as the Docker CLI plugin. Does nothing when the plugin already reports the pinned version.
# Usage: bash bench/ensure-compose.sh   (prints one line; ~2 min when it has to build)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/env"
version=v2.35.1
plugin_dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
plugin="$plugin_dir/docker-compose"

if [ -x "$plugin" ] && [ "$("$plugin" version --short 2>/dev/null)" = "${version#v}" ]; then
  echo "compose: docker compose $version present"
  exit 0
fi

module="$root/toolchain/compose"
key="$version-$(cat "$module/go.mod" "$module/go.sum" | sha256sum | cut -c1-12)"
out="$SWIFTDEPLOY_TOOLS/compose/$key"
if [ ! -x "$out/docker-compose" ]; then
  started=$SECONDS
  echo "compose: building docker compose $version from the module proxy (about 2 min) ..."
  mkdir -p "$out.partial"
  # One Go build at a time on this machine (2 cores): the lock is shared with setup and the other engineers.
  (cd "$module" && flock /tmp/swiftdeploy-go.lock nice -n 10 go build -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$version" \
    -o "$out.partial/docker-compose" github.com/docker/compose/v2/cmd)
  rm -rf "$out"
  mv "$out.partial" "$out"
  echo "compose: built in $((SECONDS - started)) s"
fi
mkdir -p "$plugin_dir"
install -m 0755 "$out/docker-compose" "$plugin"
echo "compose: installed $plugin ($("$plugin" version --short))"
