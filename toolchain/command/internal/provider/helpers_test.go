package provider

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"google.golang.org/protobuf/types/known/structpb"
)

const testURN = "urn:pulumi:dev::proj::command:local:Command::cmd"

// recordingLogger stands in for the engine's HostClient.
type recordingLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *recordingLogger) Log(_ context.Context, sev diag.Severity, urn resource.URN, msg string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if sev == diag.Info && string(urn) == testURN {
		l.lines = append(l.lines, msg)
	}
	return nil
}

func (l *recordingLogger) logged() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// props builds a property map from plain Go values (strings, bools, []any, map[string]any).
func props(m map[string]any) resource.PropertyMap {
	return resource.NewPropertyMapFromMap(m)
}

func toStruct(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := marshal(m, "test", true)
	if err != nil {
		t.Fatalf("marshal %v: %v", m, err)
	}
	return s
}

func fromStruct(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := unmarshal(s, "test")
	if err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return m
}

// stringOf reads a string property, revealing a secret.
func stringOf(t *testing.T, m resource.PropertyMap, key string) string {
	t.Helper()
	v := reveal(m[resource.PropertyKey(key)])
	if !v.IsString() {
		t.Fatalf("%s is %v, want a string", key, m[resource.PropertyKey(key)])
	}
	return v.StringValue()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

func assertMissing(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("%s exists (err %v), but nothing should have run", filepath.Base(path), err)
	}
}
