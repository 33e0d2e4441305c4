// Added by SwiftDeploy's setup to a build copy of Pulumi's terraform-plugin-sdk fork: the upstream Docker
// provider needs terraform-plugin-go v0.31, whose tfprotov5.ProviderServer has this method; the fork
// predates it. Pulumi never calls it (it serves Terraform's -generate-config-out).
package schema

import (
	"context"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
)

func (s *GRPCProviderServer) GenerateResourceConfig(
	_ context.Context, req *tfprotov5.GenerateResourceConfigRequest,
) (*tfprotov5.GenerateResourceConfigResponse, error) {
	return &tfprotov5.GenerateResourceConfigResponse{
		Diagnostics: []*tfprotov5.Diagnostic{{
			Severity: tfprotov5.DiagnosticSeverityError,
			Summary:  "GenerateResourceConfig is not supported",
			Detail:   "resource type " + req.TypeName + ": configuration generation is not implemented by this build",
		}},
	}, nil
}
