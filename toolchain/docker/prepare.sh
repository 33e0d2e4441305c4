#!/usr/bin/env bash
# Makes the two build copies that go.mod's replace directives point at (toolchain/.build, git-ignored).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../versions.env"
source "$here/../copy-module.sh"

copy_module "$DOCKER_UPSTREAM_MODULE" terraform-provider-docker "$here/overlay/upstream" "$here/patches/upstream"
copy_module "$TF_SDK_FORK_MODULE" terraform-plugin-sdk "$here/overlay/sdk"
