package provider

import (
	"context"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

var baseInputs = map[string]any{
	"create": "echo c", "update": "echo u", "delete": "echo d", "triggers": []any{"1"},
	"environment": map[string]any{"A": "1"}, "addPreviousOutputInEnv": true,
}

func with(changes map[string]any, removed ...string) resource.PropertyMap {
	m := map[string]any{}
	for k, v := range baseInputs {
		m[k] = v
	}
	for k, v := range changes {
		m[k] = v
	}
	for _, k := range removed {
		delete(m, k)
	}
	return props(m)
}

func diff(t *testing.T, olds, news resource.PropertyMap, ignore ...string) *pulumirpc.DiffResponse {
	t.Helper()
	resp, err := New(nil).Diff(context.Background(), &pulumirpc.DiffRequest{
		Urn: testURN, Id: "cmd-1", OldInputs: toStruct(t, olds), Olds: toStruct(t, olds),
		News: toStruct(t, news), IgnoreChanges: ignore,
	})
	if err != nil {
		t.Fatalf("Diff: %v", err)
	}
	return resp
}

func TestDiffClassifiesEachInputChange(t *testing.T) {
	unknown := with(nil)
	unknown["triggers"] = resource.MakeComputed(resource.NewArrayProperty(nil))
	cases := []struct {
		name     string
		news     resource.PropertyMap
		key      string
		kind     pulumirpc.PropertyDiff_Kind
		replaces bool
	}{
		{"create changed updates", with(map[string]any{"create": "echo c2"}), "create", pulumirpc.PropertyDiff_UPDATE, false},
		{"update removed updates", with(nil, "update"), "update", pulumirpc.PropertyDiff_DELETE, false},
		{"delete changed updates", with(map[string]any{"delete": "rm x"}), "delete", pulumirpc.PropertyDiff_UPDATE, false},
		{"dir added updates", with(map[string]any{"dir": "/tmp"}), "dir", pulumirpc.PropertyDiff_ADD, false},
		{"environment changed updates", with(map[string]any{"environment": map[string]any{"A": "2"}}), "environment",
			pulumirpc.PropertyDiff_UPDATE, false},
		{"logging added updates", with(map[string]any{"logging": "none"}), "logging", pulumirpc.PropertyDiff_ADD, false},
		{"triggers changed replaces", with(map[string]any{"triggers": []any{"2"}}), "triggers",
			pulumirpc.PropertyDiff_UPDATE_REPLACE, true},
		{"triggers removed replaces", with(nil, "triggers"), "triggers", pulumirpc.PropertyDiff_DELETE_REPLACE, true},
		{"unknown triggers replace", unknown, "triggers", pulumirpc.PropertyDiff_UPDATE_REPLACE, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := diff(t, with(nil), c.news)
			if resp.Changes != pulumirpc.DiffResponse_DIFF_SOME || len(resp.DetailedDiff) != 1 {
				t.Fatalf("changes = %v, detailed = %v; want exactly %s", resp.Changes, resp.DetailedDiff, c.key)
			}
			if d := resp.DetailedDiff[c.key]; d == nil || d.Kind != c.kind || !d.InputDiff {
				t.Fatalf("detailed[%s] = %v, want %v", c.key, d, c.kind)
			}
			if got := slices.Contains(resp.Replaces, c.key); got != c.replaces {
				t.Fatalf("replaces = %v, want replace=%v", resp.Replaces, c.replaces)
			}
			if resp.DeleteBeforeReplace {
				t.Fatal("the official provider creates the replacement first; deleteBeforeReplace is the program's choice")
			}
		})
	}
}

func TestDiffReportsNoChangeForEqualInputs(t *testing.T) {
	resp := diff(t, with(nil), with(nil))
	if resp.Changes != pulumirpc.DiffResponse_DIFF_NONE || len(resp.DetailedDiff) != 0 || len(resp.Replaces) != 0 {
		t.Fatalf("resp = %v, want no changes", resp)
	}
}

func TestDiffFallsBackToTheStateIgnoringOutputs(t *testing.T) {
	state := with(map[string]any{"stdout": "old out", "stderr": ""})
	resp, err := New(nil).Diff(context.Background(), &pulumirpc.DiffRequest{
		Urn: testURN, Olds: toStruct(t, state), News: toStruct(t, with(nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Changes != pulumirpc.DiffResponse_DIFF_NONE {
		t.Fatalf("resp = %v, want no changes (stdout/stderr are outputs)", resp)
	}
}

func TestDiffHonoursIgnoreChanges(t *testing.T) {
	resp := diff(t, with(nil), with(map[string]any{"triggers": []any{"2"}}), "triggers")
	if resp.Changes != pulumirpc.DiffResponse_DIFF_NONE || len(resp.Replaces) != 0 {
		t.Fatalf("resp = %v, want the ignored triggers change dropped", resp)
	}
}
