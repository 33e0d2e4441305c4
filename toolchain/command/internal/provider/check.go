package provider

import (
	"context"
	"maps"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Check validates the inputs of a Command and fills in the documented default of
// addPreviousOutputInEnv (true), so that the state records what the commands ran with.
func (s *Server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "check.news")
	if err != nil {
		return nil, err
	}
	if failures := checkFailures(news); len(failures) > 0 {
		return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
	}
	if _, ok := news[keyAddPreviousOutputInEnv]; !ok {
		news[keyAddPreviousOutputInEnv] = resource.NewBoolProperty(true)
	}
	inputs, err := marshal(news, "check.inputs", true)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs}, nil
}

// checkFailures turns the validation reasons into the engine's failures, in a stable order.
func checkFailures(news resource.PropertyMap) []*pulumirpc.CheckFailure {
	reasons := validateInputs(revealMap(news))
	var failures []*pulumirpc.CheckFailure
	for _, k := range slices.Sorted(maps.Keys(reasons)) {
		failures = append(failures, &pulumirpc.CheckFailure{Property: string(k), Reason: reasons[k]})
	}
	return failures
}
