# shellcheck shell=bash
# copy_module module@version destination [overlay-dir] [patches-dir]: a writable copy of a downloaded Go
# module in toolchain/.build/<destination> (git-ignored) for a go.mod `replace`: downloaded modules are
# read-only in the module cache and Go's -overlay cannot patch them. overlay-dir adds files; each patch in
# patches-dir changes upstream files (and says why).
copy_module() {
  local build dir patch
  build="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.build"
  mkdir -p "$build"
  dir=$(go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir" ] || { echo "go mod download $1 gave no directory" >&2; exit 1; }
  rm -rf "$build/$2.tmp"
  cp -r "$dir" "$build/$2.tmp"
  chmod -R u+w "$build/$2.tmp"
  if [ -n "${3:-}" ]; then cp -r "$3/." "$build/$2.tmp/"; fi
  for patch in "${4:-/nonexistent}"/*.patch; do
    [ -f "$patch" ] || continue
    patch --quiet --forward --batch -p1 -d "$build/$2.tmp" <"$patch" ||
      { echo "patch $patch does not apply to $1" >&2; exit 1; }
  done
  rm -rf "$build/$2"
  mv "$build/$2.tmp" "$build/$2"
}
