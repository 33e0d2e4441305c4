#!/usr/bin/env bash
# Makes the patched copy of the sdk module that go.mod's replace directive points at (toolchain/.build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../versions.env"
source "$here/../copy-module.sh"

copy_module "github.com/pulumi/pulumi/sdk/v3@$PULUMI_NODEJS_SDK_VERSION" pulumi-sdk-nodejs-host "" "$here/patches"
