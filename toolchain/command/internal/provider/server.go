// Package provider implements the `command:local:Command` resource of `@pulumi/command` 1.2.1 on the
// Pulumi gRPC ResourceProvider interface.
package provider

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	// Name is the package name the engine knows the plugin by (`pulumi-resource-<Name>`).
	Name = "command"
	// Version is the version of `@pulumi/command` whose SDK this provider serves unchanged.
	Version = "1.2.1"
	// CommandType is the only resource type this provider implements.
	CommandType = "command:local:Command"
)

//go:embed schema.json
var schemaJSON string

// Logger sends a message to the engine, attached to a resource; the engine's HostClient is one.
type Logger interface {
	Log(ctx context.Context, sev diag.Severity, urn resource.URN, msg string) error
}

// Server is the gRPC resource provider. It keeps no state between calls except the cancellation
// that the engine requests with Cancel.
type Server struct {
	pulumirpc.UnimplementedResourceProviderServer

	logger Logger
	// canceled is closed by Cancel so that running commands are killed when the engine gives up.
	canceled context.Context
	cancel   context.CancelFunc
}

// New returns a provider that logs command output through logger (nil: output is not logged).
func New(logger Logger) *Server {
	canceled, cancel := context.WithCancel(context.Background())
	return &Server{logger: logger, canceled: canceled, cancel: cancel}
}

func (s *Server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

func (s *Server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: schemaJSON}, nil
}

// CheckConfig accepts any provider configuration: the command provider has none of its own.
func (s *Server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *Server) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

// Configure asks for secrets to be sent as secrets, so that outputs derived from secret inputs can be
// marked secret, and tells the engine that Create and Update understand preview.
func (s *Server) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

// Cancel kills the commands that are still running; the engine calls it when the user interrupts.
func (s *Server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.cancel()
	return &emptypb.Empty{}, nil
}

// stepContext bounds a create/update/delete by the engine's request, the resource's custom timeout
// (seconds, 0 = none) and Cancel.
func (s *Server) stepContext(ctx context.Context, timeoutSeconds float64) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.canceled, cancel)
	if timeoutSeconds > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, seconds(timeoutSeconds))
		return ctx, func() { cancelTimeout(); stop(); cancel() }
	}
	return ctx, func() { stop(); cancel() }
}

// logLine returns the function that sends one line of command output to the engine for urn.
func (s *Server) logLine(ctx context.Context, urn string) func(string) {
	if s.logger == nil {
		return func(string) {}
	}
	return func(line string) {
		// A failed log call must not fail the command: the output is still captured in stdout/stderr.
		_ = s.logger.Log(ctx, diag.Info, resource.URN(urn), line)
	}
}

// checkType refuses resource types this provider does not implement, naming the one it does.
func checkType(urn string) error {
	if t := string(resource.URN(urn).Type()); t != CommandType {
		return fmt.Errorf("pulumi-resource-command %s implements only %s, got %q", Version, CommandType, t)
	}
	return nil
}
