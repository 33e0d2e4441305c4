#!/usr/bin/env bash
# Makes the two build copies that go.mod's replace directives point at (toolchain/.build, git-ignored):
# downloaded modules are read-only in the module cache and Go's -overlay cannot patch them. overlay/ adds
# files; patches/ changes upstream files (each patch says why).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../versions.env"
build="$here/../.build"
mkdir -p "$build"

copy_module() { # module@version destination overlay-dir [patches-dir]
  local dir
  dir=$(go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { echo "go mod download $1 gave no directory" >&2; exit 1; }
  rm -rf "$build/$2.tmp"
  cp -r "$dir" "$build/$2.tmp"
  chmod -R u+w "$build/$2.tmp"
  cp -r "$3/." "$build/$2.tmp/"
  local patch
  for patch in "${4:-/nonexistent}"/*.patch; do
    [ -f "$patch" ] || continue
    patch --quiet --forward --batch -p1 -d "$build/$2.tmp" <"$patch" ||
      { echo "patch $patch does not apply to $1" >&2; exit 1; }
  done
  rm -rf "$build/$2"
  mv "$build/$2.tmp" "$build/$2"
}

copy_module "$DOCKER_UPSTREAM_MODULE" terraform-provider-docker "$here/overlay/upstream" "$here/patches/upstream"
copy_module "$TF_SDK_FORK_MODULE" terraform-plugin-sdk "$here/overlay/sdk"
