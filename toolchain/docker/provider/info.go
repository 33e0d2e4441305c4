// Package provider describes how the Pulumi bridge maps the upstream Terraform Docker provider onto the
// resource tokens and property names of the @pulumi/docker 5.2.0 SDK.
package provider

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/terraform-providers/terraform-provider-docker/swiftdeployshim"
)

// Version is the @pulumi/docker SDK version this build serves.
const Version = "5.2.0"

const mainMod = "index"

// Info returns the bridge's provider info.
func Info() tfbridge.ProviderInfo {
	p := shimv2.NewProvider(swiftdeployshim.NewProvider(Version))
	prov := tfbridge.ProviderInfo{
		P:           p,
		Name:        "docker",
		Version:     Version,
		DisplayName: "Docker",
		Publisher:   "Pulumi",
		Description: "A Pulumi package for interacting with Docker in Pulumi programs",
		License:     "Apache-2.0",
		Repository:  "https://github.com/pulumi/pulumi-docker",
		GitHubOrg:   "kreuzwerker",
		Config: map[string]*tfbridge.SchemaInfo{
			"registry_auth": {Name: "registryAuth"},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			// The SDK names these two differently from the standard token rule.
			"docker_image":  {Tok: "docker:index/remoteImage:RemoteImage"},
			"docker_config": {Tok: "docker:index/serviceConfig:ServiceConfig"},
			"docker_container": {
				Tok: "docker:index/container:Container",
				Fields: map[string]*tfbridge.SchemaInfo{
					// The bridge would pluralise these list fields; the SDK keeps the singular names.
					"command":           {Name: "command"},
					"networks_advanced": {Name: "networksAdvanced"},
				},
				DeleteBeforeReplace: true,
			},
		},
		JavaScript: &tfbridge.JavaScriptInfo{PackageName: "@pulumi/docker"},
	}
	prov.MustComputeTokens(tokens.SingleModule("docker_", mainMod, tokens.MakeStandard("docker")))
	prov.SetAutonaming(255, "-")
	return prov
}
