// Command tfgen writes the Pulumi schema of the bridged Docker provider (`tfgen schema --out DIR`).
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"github.com/swiftdeploy/swiftdeploy/toolchain/docker/provider"
)

func main() {
	tfgen.Main("docker", provider.Version, provider.Info())
}
