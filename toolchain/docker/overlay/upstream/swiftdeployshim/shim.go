// Package swiftdeployshim is added by SwiftDeploy's setup to a build copy of the upstream Terraform Docker
// provider: Go forbids importing its internal/provider package from outside the module, and the Pulumi
// bridge needs exactly that provider.
package swiftdeployshim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns the upstream SDKv2 provider.
func NewProvider(version string) *schema.Provider {
	return provider.New(version)()
}
