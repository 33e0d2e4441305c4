// Command pulumi-resource-command serves `command:local:Command` to the Pulumi engine, so that
// `@pulumi/command` 1.2.1 works on machines where the official plugin cannot be downloaded.
package main

import (
	"fmt"
	"os"

	pulumiprovider "github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/swiftdeploy/swiftdeploy/toolchain/command/internal/provider"
)

func main() {
	err := pulumiprovider.Main(provider.Name, func(host *pulumiprovider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		// host is nil when the engine attaches to an already running provider (debugging).
		if host == nil {
			return provider.New(nil), nil
		}
		return provider.New(host), nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
