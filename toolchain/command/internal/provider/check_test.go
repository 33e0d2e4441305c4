package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func check(t *testing.T, news resource.PropertyMap) *pulumirpc.CheckResponse {
	t.Helper()
	resp, err := New(nil).Check(context.Background(), &pulumirpc.CheckRequest{Urn: testURN, News: toStruct(t, news)})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return resp
}

func TestCheckAcceptsEveryImplementedInputAndDefaultsAddPreviousOutputInEnvToTrue(t *testing.T) {
	resp := check(t, props(map[string]any{
		"create": "echo hi", "update": "echo up", "delete": "echo bye", "dir": "/tmp", "stdin": "x",
		"environment": map[string]any{"A": "1"}, "interpreter": []any{"/bin/bash", "-c"},
		"triggers": []any{"a", 1.0, map[string]any{"k": true}}, "logging": "stderr",
	}))
	if len(resp.Failures) > 0 {
		t.Fatalf("unexpected failures: %v", resp.Failures)
	}
	inputs := fromStruct(t, resp.Inputs)
	if v := inputs["addPreviousOutputInEnv"]; !v.IsBool() || !v.BoolValue() {
		t.Fatalf("addPreviousOutputInEnv = %v, want true", v)
	}
	if stringOf(t, inputs, "create") != "echo hi" {
		t.Fatalf("create not passed through: %v", inputs)
	}
}

func TestCheckKeepsAnExplicitAddPreviousOutputInEnvFalse(t *testing.T) {
	inputs := fromStruct(t, check(t, props(map[string]any{"create": "true", "addPreviousOutputInEnv": false})).Inputs)
	if v := inputs["addPreviousOutputInEnv"]; !v.IsBool() || v.BoolValue() {
		t.Fatalf("addPreviousOutputInEnv = %v, want false", v)
	}
}

func TestCheckRejectsBadInputsNamingTheKeyAndTheValue(t *testing.T) {
	cases := []struct {
		name   string
		news   map[string]any
		key    string
		reason string
	}{
		{"assetPaths", map[string]any{"assetPaths": []any{"*.txt"}}, "assetPaths", "assetPaths is not supported"},
		{"archivePaths", map[string]any{"archivePaths": []any{"*"}}, "archivePaths", "archivePaths is not supported"},
		{"create number", map[string]any{"create": 3.0}, "create", "create must be a string, got number 3"},
		{"environment value", map[string]any{"environment": map[string]any{"A": true}}, "environment",
			`environment must be a map of strings, got bool true for "A"`},
		{"empty interpreter", map[string]any{"interpreter": []any{}}, "interpreter", "interpreter must be a non-empty list"},
		{"logging", map[string]any{"logging": "verbose"}, "logging",
			"logging must be one of stdout, stderr, stdoutAndStderr, none, got string \"verbose\""},
		{"triggers", map[string]any{"triggers": "x"}, "triggers", "triggers must be a list"},
		{"flag", map[string]any{"addPreviousOutputInEnv": "yes"}, "addPreviousOutputInEnv", "must be a boolean"},
		{"unknown key", map[string]any{"crate": "x"}, "crate", `unknown input "crate"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := check(t, props(c.news))
			if len(resp.Failures) != 1 {
				t.Fatalf("failures = %v, want exactly one", resp.Failures)
			}
			f := resp.Failures[0]
			if f.Property != c.key || !strings.Contains(f.Reason, c.reason) {
				t.Fatalf("failure = %s: %q, want %s containing %q", f.Property, f.Reason, c.key, c.reason)
			}
		})
	}
}

func TestCheckAcceptsValuesThatAreNotKnownYet(t *testing.T) {
	news := props(map[string]any{"create": "echo"})
	news["dir"] = resource.MakeComputed(resource.NewStringProperty(""))
	news["environment"] = resource.NewObjectProperty(resource.PropertyMap{
		"A": resource.MakeComputed(resource.NewStringProperty("")),
	})
	if resp := check(t, news); len(resp.Failures) > 0 {
		t.Fatalf("unexpected failures: %v", resp.Failures)
	}
}

func TestCheckValidatesTheValueInsideASecret(t *testing.T) {
	news := resource.PropertyMap{"create": resource.MakeSecret(resource.NewNumberProperty(1))}
	resp := check(t, news)
	if len(resp.Failures) != 1 || resp.Failures[0].Property != "create" {
		t.Fatalf("failures = %v, want one for create", resp.Failures)
	}
}

func TestCheckRefusesOtherResourceTypes(t *testing.T) {
	_, err := New(nil).Check(context.Background(), &pulumirpc.CheckRequest{
		Urn:  "urn:pulumi:dev::proj::command:remote:Command::cmd",
		News: toStruct(t, props(map[string]any{"create": "x"})),
	})
	if err == nil || !strings.Contains(err.Error(), `implements only command:local:Command, got "command:remote:Command"`) {
		t.Fatalf("err = %v", err)
	}
}
