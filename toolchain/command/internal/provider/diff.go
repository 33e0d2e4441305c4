package provider

import (
	"context"
	"maps"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Diff compares the old inputs with the new ones, as the official provider does: a change to
// `triggers` replaces the Command (create runs for the new one, delete for the old one); a change to
// any other input updates it (`update` runs, or `create` again when there is no `update`).
// Replacement creates the new Command before deleting the old one unless the program sets the
// deleteBeforeReplace resource option.
func (s *Server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	if err := checkType(req.GetUrn()); err != nil {
		return nil, err
	}
	olds, err := oldInputs(req)
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "diff.news")
	if err != nil {
		return nil, err
	}
	return diffInputs(olds, news, req.GetIgnoreChanges()), nil
}

// oldInputs prefers the inputs the engine recorded; older states only have the outputs, which echo
// the inputs.
func oldInputs(req *pulumirpc.DiffRequest) (resource.PropertyMap, error) {
	if len(req.GetOldInputs().GetFields()) > 0 {
		return unmarshal(req.GetOldInputs(), "diff.oldInputs")
	}
	olds, err := unmarshal(req.GetOlds(), "diff.olds")
	return onlyInputs(olds), err
}

func diffInputs(olds, news resource.PropertyMap, ignoreChanges []string) *pulumirpc.DiffResponse {
	detailed := map[string]*pulumirpc.PropertyDiff{}
	var replaces []string
	for _, k := range inputKeys {
		if slices.Contains(ignoreChanges, string(k)) {
			continue
		}
		kind, changed := compare(olds[k], news[k])
		if !changed {
			continue
		}
		if k == keyTriggers {
			kind = replacing(kind)
			replaces = append(replaces, string(k))
		}
		detailed[string(k)] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	changes := pulumirpc.DiffResponse_DIFF_NONE
	if len(detailed) > 0 {
		changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{
		Changes:         changes,
		Replaces:        replaces,
		Diffs:           slices.Sorted(maps.Keys(detailed)),
		DetailedDiff:    detailed,
		HasDetailedDiff: true,
	}
}

// compare tells whether an input changed, and how. A missing input is the zero PropertyValue (null).
// A new value that is not known yet (preview) counts as a change: it may well be one.
func compare(old, new resource.PropertyValue) (pulumirpc.PropertyDiff_Kind, bool) {
	switch {
	case old.IsNull() && new.IsNull():
		return 0, false
	case old.IsNull():
		return pulumirpc.PropertyDiff_ADD, true
	case new.IsNull():
		return pulumirpc.PropertyDiff_DELETE, true
	case new.ContainsUnknowns() || !old.DeepEquals(new):
		return pulumirpc.PropertyDiff_UPDATE, true
	}
	return 0, false
}

func replacing(kind pulumirpc.PropertyDiff_Kind) pulumirpc.PropertyDiff_Kind {
	switch kind {
	case pulumirpc.PropertyDiff_ADD:
		return pulumirpc.PropertyDiff_ADD_REPLACE
	case pulumirpc.PropertyDiff_DELETE:
		return pulumirpc.PropertyDiff_DELETE_REPLACE
	}
	return pulumirpc.PropertyDiff_UPDATE_REPLACE
}
