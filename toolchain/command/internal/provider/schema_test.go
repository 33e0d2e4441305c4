package provider

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func TestTheSchemaDescribesExactlyTheImplementedInputs(t *testing.T) {
	resp, err := New(nil).GetSchema(context.Background(), &pulumirpc.GetSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Name      string
		Version   string
		Resources map[string]struct {
			InputProperties map[string]json.RawMessage
			Properties      map[string]json.RawMessage
			Required        []string
		}
	}
	if err := json.Unmarshal([]byte(resp.Schema), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if schema.Name != Name || schema.Version != Version {
		t.Fatalf("schema names %s %s", schema.Name, schema.Version)
	}
	res, ok := schema.Resources[CommandType]
	if !ok {
		t.Fatalf("schema has no %s", CommandType)
	}
	var inputs []string
	for k := range res.InputProperties {
		inputs = append(inputs, k)
		if _, ok := res.Properties[k]; !ok {
			t.Errorf("input %s is not echoed as an output", k)
		}
	}
	var want []string
	for _, k := range inputKeys {
		want = append(want, string(k))
	}
	slices.Sort(inputs)
	slices.Sort(want)
	if !slices.Equal(inputs, want) {
		t.Fatalf("schema inputs %v, implemented %v", inputs, want)
	}
	if !slices.Equal(res.Required, []string{"stdout", "stderr"}) {
		t.Fatalf("required = %v", res.Required)
	}
}

func TestPluginInfoReportsTheSdkVersion(t *testing.T) {
	info, err := New(nil).GetPluginInfo(context.Background(), nil)
	if err != nil || info.Version != "1.2.1" {
		t.Fatalf("info = %v, err = %v", info, err)
	}
}
