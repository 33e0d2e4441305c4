package provider

import (
	"context"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Create runs `create` (if any) and records the inputs with the command's stdout and stderr. In a
// preview nothing runs and stdout/stderr are unknown. A failed create records nothing, so the next
// `pulumi up` creates again.
func (s *Server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetProperties(), "create.properties")
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		props, err := marshal(previewState(news), "create.preview", true)
		return &pulumirpc.CreateResponse{Properties: props}, err
	}
	in, err := decodeInputs(revealMap(news))
	if err != nil {
		return nil, err
	}
	var out output
	if in.create != nil {
		e := execution{step: "create", command: *in.create, in: in}
		if out, err = s.execute(ctx, req.GetUrn(), req.GetTimeout(), e); err != nil {
			return nil, err
		}
	}
	id, err := resource.NewUniqueHex(resourceName(req.GetUrn(), req.GetName()), 8, 0)
	if err != nil {
		return nil, err
	}
	props, err := marshal(state(news, out), "create.state", false)
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, err
}

// Update runs `update`, or `create` when there is no `update`, with the previous stdout/stderr in
// PULUMI_COMMAND_STDOUT/STDERR. With neither script the previous output is kept. A failed update
// keeps the old state.
func (s *Server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds(), "update.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "update.news")
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		props, err := marshal(previewState(news), "update.preview", true)
		return &pulumirpc.UpdateResponse{Properties: props}, err
	}
	in, err := decodeInputs(revealMap(news))
	if err != nil {
		return nil, err
	}
	previous := previousOutput(olds)
	out := previous
	if step, command := updateScript(in); command != nil {
		e := execution{step: step, command: *command, in: in, previous: &previous}
		if out, err = s.execute(ctx, req.GetUrn(), req.GetTimeout(), e); err != nil {
			return nil, err
		}
	}
	props, err := marshal(state(news, out), "update.state", false)
	return &pulumirpc.UpdateResponse{Properties: props}, err
}

func updateScript(in commandInputs) (string, *string) {
	if in.update != nil {
		return "update", in.update
	}
	return "create", in.create
}

// Delete runs `delete` (if any) with the inputs it was created with and the last stdout/stderr in
// PULUMI_COMMAND_STDOUT/STDERR. If it fails, the Command stays in the state.
func (s *Server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetProperties(), "delete.properties")
	if err != nil {
		return nil, err
	}
	in, err := decodeInputs(revealMap(olds))
	if err != nil {
		return nil, err
	}
	if in.delete != nil {
		previous := previousOutput(olds)
		e := execution{step: "delete", command: *in.delete, in: in, previous: &previous}
		if _, err := s.execute(ctx, req.GetUrn(), req.GetTimeout(), e); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, nil
}

// Read returns the state unchanged: what a command did cannot be read back.
func (s *Server) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (s *Server) execute(ctx context.Context, urn string, timeout float64, e execution) (output, error) {
	ctx, cancel := s.stepContext(ctx, timeout)
	defer cancel()
	e.logLine = s.logLine(ctx, urn)
	return run(ctx, e)
}

// state is what the engine records: the inputs echoed, as the official provider does, plus the
// output. The output is secret when any input is, since it may repeat it.
func state(inputs resource.PropertyMap, out output) resource.PropertyMap {
	props := inputs.Copy()
	props[keyStdout] = resource.NewStringProperty(out.stdout)
	props[keyStderr] = resource.NewStringProperty(out.stderr)
	if inputs.ContainsSecrets() {
		props[keyStdout] = resource.MakeSecret(props[keyStdout])
		props[keyStderr] = resource.MakeSecret(props[keyStderr])
	}
	return props
}

// previewState is the state a preview shows: the output is not known until the command runs.
func previewState(inputs resource.PropertyMap) resource.PropertyMap {
	props := inputs.Copy()
	props[keyStdout] = resource.MakeComputed(resource.NewStringProperty(""))
	props[keyStderr] = resource.MakeComputed(resource.NewStringProperty(""))
	return props
}

// previousOutput reads the stdout/stderr recorded by the last create/update.
func previousOutput(olds resource.PropertyMap) output {
	plain := revealMap(olds)
	var out output
	if v := plain[keyStdout]; v.IsString() {
		out.stdout = v.StringValue()
	}
	if v := plain[keyStderr]; v.IsString() {
		out.stderr = v.StringValue()
	}
	return out
}

func resourceName(urn, name string) string {
	if name != "" {
		return name
	}
	return resource.URN(urn).Name()
}
