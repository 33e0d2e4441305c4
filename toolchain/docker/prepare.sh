#!/usr/bin/env bash
# Makes the two build copies that go.mod's replace directives point at (toolchain/.build, git-ignored):
# downloaded modules are read-only in the module cache and Go's -overlay cannot patch them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../versions.env"
build="$here/../.build"
mkdir -p "$build"

copy_module() { # module@version destination overlay-dir
  local dir
  dir=$(go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { echo "go mod download $1 gave no directory" >&2; exit 1; }
  rm -rf "$build/$2.tmp"
  cp -r "$dir" "$build/$2.tmp"
  chmod -R u+w "$build/$2.tmp"
  cp -r "$3/." "$build/$2.tmp/"
  rm -rf "$build/$2"
  mv "$build/$2.tmp" "$build/$2"
}

copy_module "$DOCKER_UPSTREAM_MODULE" terraform-provider-docker "$here/overlay/upstream"
copy_module "$TF_SDK_FORK_MODULE" terraform-plugin-sdk "$here/overlay/sdk"
