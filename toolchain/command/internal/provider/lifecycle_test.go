package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func create(t *testing.T, s *Server, in resource.PropertyMap, preview bool) (*pulumirpc.CreateResponse, error) {
	t.Helper()
	return s.Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: testURN, Name: "cmd", Properties: toStruct(t, in), Preview: preview,
	})
}

func mustCreate(t *testing.T, s *Server, in resource.PropertyMap) resource.PropertyMap {
	t.Helper()
	resp, err := create(t, s, in, false)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !strings.HasPrefix(resp.Id, "cmd") || len(resp.Id) != len("cmd")+8 {
		t.Fatalf("id = %q, want cmd + 8 hex digits", resp.Id)
	}
	return fromStruct(t, resp.Properties)
}

func update(t *testing.T, s *Server, olds, news resource.PropertyMap, preview bool) (*pulumirpc.UpdateResponse, error) {
	t.Helper()
	return s.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: testURN, Id: "cmd-1", Olds: toStruct(t, olds), News: toStruct(t, news), Preview: preview,
	})
}

func del(t *testing.T, s *Server, state resource.PropertyMap) error {
	t.Helper()
	_, err := s.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: testURN, Id: "cmd-1", Properties: toStruct(t, state)})
	return err
}

func TestCreateRunsCreateInDirWithEnvironmentAndStdin(t *testing.T) {
	dir := t.TempDir()
	state := mustCreate(t, New(nil), props(map[string]any{
		"create":      `pwd; echo "$GREETING"; cat; echo oops >&2; echo created > marker`,
		"dir":         dir,
		"environment": map[string]any{"GREETING": "hello"},
		"stdin":       "from stdin\n",
	}))
	if got := stringOf(t, state, "stdout"); got != dir+"\nhello\nfrom stdin" {
		t.Fatalf("stdout = %q (one trailing newline trimmed)", got)
	}
	if got := stringOf(t, state, "stderr"); got != "oops" {
		t.Fatalf("stderr = %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "marker")); got != "created\n" {
		t.Fatalf("marker = %q", got)
	}
	if stringOf(t, state, "create") == "" || stringOf(t, state, "dir") != dir {
		t.Fatalf("inputs are not echoed in the state: %v", state)
	}
}

func TestCreateUsesTheGivenInterpreter(t *testing.T) {
	state := mustCreate(t, New(nil), props(map[string]any{
		"create": "print-me", "interpreter": []any{"/bin/echo", "-n", "args:"},
	}))
	if got := stringOf(t, state, "stdout"); got != "args: print-me" {
		t.Fatalf("stdout = %q", got)
	}
}

func TestCreateInPreviewRunsNothingAndLeavesTheOutputUnknown(t *testing.T) {
	dir := t.TempDir()
	resp, err := create(t, New(nil), props(map[string]any{"create": "touch ran", "dir": dir}), true)
	if err != nil {
		t.Fatal(err)
	}
	assertMissing(t, filepath.Join(dir, "ran"))
	state := fromStruct(t, resp.Properties)
	if !state["stdout"].IsComputed() || !state["stderr"].IsComputed() {
		t.Fatalf("preview state = %v, want unknown stdout/stderr", state)
	}
}

func TestCreateWithoutACreateScriptRecordsEmptyOutput(t *testing.T) {
	state := mustCreate(t, New(nil), props(map[string]any{"delete": "true"}))
	if stringOf(t, state, "stdout") != "" || stringOf(t, state, "stderr") != "" {
		t.Fatalf("state = %v", state)
	}
}

func TestAFailingCommandFailsTheStepWithItsExitCodeAndOutput(t *testing.T) {
	cases := []struct {
		name, script string
		want         []string
	}{
		{"stderr is quoted", "echo partial; echo 'no such policy' >&2; exit 3",
			[]string{"create command exited with code 3", "stderr:\nno such policy"}},
		{"stdout when stderr is empty", "echo 'only stdout'; exit 1",
			[]string{"exited with code 1", "no stderr; stdout:\nonly stdout"}},
		{"nothing at all", "exit 7", []string{"exited with code 7; no output"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := create(t, New(nil), props(map[string]any{"create": c.script}), false)
			for _, w := range c.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("err = %v, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestAMissingDirOrInterpreterFailsWithAClearMessage(t *testing.T) {
	_, err := create(t, New(nil), props(map[string]any{"create": "true", "dir": "/nonexistent/sd"}), false)
	if err == nil || !strings.Contains(err.Error(), `dir "/nonexistent/sd" does not exist`) {
		t.Fatalf("err = %v", err)
	}
	_, err = create(t, New(nil), props(map[string]any{"create": "true", "interpreter": []any{"/no/such/sh"}}), false)
	if err == nil || !strings.Contains(err.Error(), "create command could not start") {
		t.Fatalf("err = %v", err)
	}
}

func TestUpdateRunsUpdateWithThePreviousOutputInItsEnvironment(t *testing.T) {
	s := New(nil)
	olds := mustCreate(t, s, props(map[string]any{"create": "echo first; echo warn >&2", "update": "unused"}))
	resp, err := update(t, s, olds, props(map[string]any{
		"create": "echo first", "update": `echo "updated after [$PULUMI_COMMAND_STDOUT] [$PULUMI_COMMAND_STDERR]"`,
		"addPreviousOutputInEnv": true,
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := stringOf(t, fromStruct(t, resp.Properties), "stdout"); got != "updated after [first] [warn]" {
		t.Fatalf("stdout = %q", got)
	}
}

func TestUpdateRunsCreateWhenThereIsNoUpdateScript(t *testing.T) {
	s := New(nil)
	olds := mustCreate(t, s, props(map[string]any{"create": "echo v1"}))
	resp, err := update(t, s, olds, props(map[string]any{"create": "echo v2"}), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := stringOf(t, fromStruct(t, resp.Properties), "stdout"); got != "v2" {
		t.Fatalf("stdout = %q", got)
	}
}

func TestUpdateWithoutPreviousOutputInEnvDoesNotSetIt(t *testing.T) {
	s := New(nil)
	olds := mustCreate(t, s, props(map[string]any{"create": "echo first"}))
	resp, err := update(t, s, olds, props(map[string]any{
		"create": `echo "${PULUMI_COMMAND_STDOUT-unset}"`, "addPreviousOutputInEnv": false,
	}), false)
	if err != nil {
		t.Fatal(err)
	}
	if got := stringOf(t, fromStruct(t, resp.Properties), "stdout"); got != "unset" {
		t.Fatalf("stdout = %q", got)
	}
}

func TestUpdateInPreviewRunsNothing(t *testing.T) {
	dir := t.TempDir()
	s := New(nil)
	olds := mustCreate(t, s, props(map[string]any{"create": "true", "dir": dir}))
	resp, err := update(t, s, olds, props(map[string]any{"create": "true", "update": "touch ran", "dir": dir}), true)
	if err != nil {
		t.Fatal(err)
	}
	assertMissing(t, filepath.Join(dir, "ran"))
	if !fromStruct(t, resp.Properties)["stdout"].IsComputed() {
		t.Fatal("preview stdout should be unknown")
	}
}

func TestAFailingUpdateFailsTheStep(t *testing.T) {
	s := New(nil)
	olds := mustCreate(t, s, props(map[string]any{"create": "true"}))
	_, err := update(t, s, olds, props(map[string]any{"create": "true", "update": "echo bad >&2; exit 2"}), false)
	if err == nil || !strings.Contains(err.Error(), "update command exited with code 2; stderr:\nbad") {
		t.Fatalf("err = %v", err)
	}
}

func TestDeleteRunsDeleteWithTheLastOutputInItsEnvironment(t *testing.T) {
	dir := t.TempDir()
	s := New(nil)
	state := mustCreate(t, s, props(map[string]any{
		"create": "echo made; echo note >&2", "delete": `echo "$PULUMI_COMMAND_STDOUT/$PULUMI_COMMAND_STDERR" > deleted`,
		"dir": dir, "addPreviousOutputInEnv": true,
	}))
	if err := del(t, s, state); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "deleted")); got != "made/note\n" {
		t.Fatalf("deleted = %q", got)
	}
}

func TestDeleteWithoutADeleteScriptSucceeds(t *testing.T) {
	if err := del(t, New(nil), props(map[string]any{"create": "true", "stdout": "", "stderr": ""})); err != nil {
		t.Fatal(err)
	}
}

func TestAFailingDeleteFailsTheStep(t *testing.T) {
	err := del(t, New(nil), props(map[string]any{"delete": "echo still in use >&2; exit 4", "stdout": "", "stderr": ""}))
	if err == nil || !strings.Contains(err.Error(), "delete command exited with code 4; stderr:\nstill in use") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoggingChoosesWhichStreamsReachTheEngine(t *testing.T) {
	script := "echo out1; echo err1 >&2; printf 'out2'"
	cases := []struct {
		logging string
		want    []string
	}{
		{"", []string{"err1", "out1", "out2"}},
		{"stdoutAndStderr", []string{"err1", "out1", "out2"}},
		{"stdout", []string{"out1", "out2"}},
		{"stderr", []string{"err1"}},
		{"none", nil},
	}
	for _, c := range cases {
		t.Run("logging="+c.logging, func(t *testing.T) {
			in := map[string]any{"create": script}
			if c.logging != "" {
				in["logging"] = c.logging
			}
			logger := &recordingLogger{}
			state := mustCreate(t, New(logger), props(in))
			got := logger.logged()
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Fatalf("logged %q, want %q", got, c.want)
			}
			if stringOf(t, state, "stdout") != "out1\nout2" || stringOf(t, state, "stderr") != "err1" {
				t.Fatalf("logging must not change the captured output: %v", state)
			}
		})
	}
}

func TestSecretInputsReachTheCommandInPlainTextAndMakeTheOutputSecret(t *testing.T) {
	in := props(map[string]any{"create": `echo "token=$TOKEN"`})
	in["environment"] = resource.NewObjectProperty(resource.PropertyMap{
		"TOKEN": resource.MakeSecret(resource.NewStringProperty("s3cr3t")),
	})
	state := mustCreate(t, New(nil), in)
	if !state["stdout"].IsSecret() || !state["environment"].ContainsSecrets() {
		t.Fatalf("state = %v, want secret stdout and environment", state)
	}
	if got := stringOf(t, state, "stdout"); got != "token=s3cr3t" {
		t.Fatalf("stdout = %q", got)
	}
}

func TestACustomTimeoutKillsTheCommandAndItsChildren(t *testing.T) {
	// The background child writes its pid, so the test can look for that very process afterwards: a
	// duration alone cannot tell a killed child from one left running with its pipes closed.
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	script := fmt.Sprintf("sleep 30 & echo $! > %s; sleep 30; wait", pidFile)
	_, err := New(nil).Create(context.Background(), &pulumirpc.CreateRequest{
		Urn: testURN, Properties: toStruct(t, props(map[string]any{"create": script})), Timeout: 1,
	})
	if err == nil || !strings.Contains(err.Error(), "create command timed out") {
		t.Fatalf("err = %v", err)
	}
	raw, readErr := os.ReadFile(pidFile)
	if readErr != nil {
		t.Fatalf("the command never started its child: %v", readErr)
	}
	pid, convErr := strconv.Atoi(strings.TrimSpace(string(raw)))
	if convErr != nil {
		t.Fatalf("child pid %q: %v", raw, convErr)
	}
	// Signal 0 probes for the process; a zombie (killed, not yet reaped by a dead parent) counts as gone.
	deadline := time.Now().Add(2 * time.Second)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d still runs after the command timed out", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processAlive reports whether pid is a live (not zombie) process.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}

func TestCancelKillsARunningCommand(t *testing.T) {
	s := New(nil)
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = s.Cancel(context.Background(), nil)
	}()
	_, err := create(t, s, props(map[string]any{"create": "sleep 30"}), false)
	if err == nil || !strings.Contains(err.Error(), "create command was canceled") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadReturnsTheStateUnchanged(t *testing.T) {
	state := toStruct(t, props(map[string]any{"create": "x", "stdout": "o", "stderr": ""}))
	resp, err := New(nil).Read(context.Background(), &pulumirpc.ReadRequest{Urn: testURN, Id: "cmd-1", Properties: state})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Id != "cmd-1" || !fromStruct(t, resp.Properties).DeepEquals(fromStruct(t, state)) {
		t.Fatalf("resp = %v", resp)
	}
}
