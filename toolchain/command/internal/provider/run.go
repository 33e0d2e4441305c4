package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// defaultInterpreter is the official provider's default on Linux and macOS.
var defaultInterpreter = []string{"/bin/sh", "-c"}

// Environment variables that hand the previous create/update output to the next command.
const (
	envPreviousStdout = "PULUMI_COMMAND_STDOUT"
	envPreviousStderr = "PULUMI_COMMAND_STDERR"
)

// pipeGrace bounds how long a finished command's output is awaited: a command that leaves a
// background process holding its stdout open must not hang the deployment.
const pipeGrace = 5 * time.Second

// failureTail is how much of the command's output an error message quotes, from the end.
const failureTail = 4096

// output is what a command printed, with one trailing newline trimmed as the official provider does.
type output struct {
	stdout, stderr string
}

// execution is one run of one of the Command's scripts.
type execution struct {
	step    string // "create", "update" or "delete": names the script in messages
	command string
	in      commandInputs
	// previous is the output of the last create/update, handed over as PULUMI_COMMAND_STDOUT/STDERR
	// when addPreviousOutputInEnv is true; nil on create, where there is none.
	previous *output
	logLine  func(string)
}

// run executes the script with the interpreter and waits for it; a non-zero exit is an error that
// quotes the script's stderr (or stdout when stderr is empty).
func run(ctx context.Context, e execution) (output, error) {
	if err := checkDir(e.in.dir); err != nil {
		return output{}, fmt.Errorf("%s command: %w", e.step, err)
	}
	argv := append(slices.Clone(interpreterOf(e.in)), e.command)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = e.in.dir
	cmd.Env = environ(e)
	if e.in.stdin != "" {
		cmd.Stdin = strings.NewReader(e.in.stdin)
	}
	var stdout, stderr bytes.Buffer
	logs := &lineLogger{logLine: e.logLine}
	cmd.Stdout = teeTo(&stdout, logs.stream(e.in.logging == logStdout || e.in.logging == logStdoutAndStderr))
	cmd.Stderr = teeTo(&stderr, logs.stream(e.in.logging == logStderr || e.in.logging == logStdoutAndStderr))
	killWholeGroup(cmd)

	err := cmd.Run()
	logs.flush()
	out := output{stdout: trimOutput(stdout.String()), stderr: trimOutput(stderr.String())}
	if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
		return out, failure(ctx, e.step, err, out)
	}
	return out, nil
}

func interpreterOf(in commandInputs) []string {
	if len(in.interpreter) > 0 {
		return in.interpreter
	}
	return defaultInterpreter
}

// checkDir gives a clearer message than exec's "chdir: no such file or directory".
func checkDir(dir string) error {
	if dir == "" {
		return nil // the provider's working directory, which the engine sets to the program's
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("dir %q does not exist or cannot be read: %w", dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("dir %q is not a directory", dir)
	}
	return nil
}

// environ is the provider's environment plus `environment`, plus the previous output; later
// entries win over earlier ones with the same name.
func environ(e execution) []string {
	env := os.Environ()
	for _, name := range slices.Sorted(maps.Keys(e.in.environment)) {
		env = append(env, name+"="+e.in.environment[name])
	}
	if e.in.addPreviousOutputInEnv && e.previous != nil {
		env = append(env, envPreviousStdout+"="+e.previous.stdout, envPreviousStderr+"="+e.previous.stderr)
	}
	return env
}

// killWholeGroup runs the script in its own process group and kills the group on cancel or timeout,
// so that the children of `sh -c` die with it.
func killWholeGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = pipeGrace
}

// trimOutput removes one trailing newline and makes the text valid UTF-8, which gRPC requires of
// strings.
func trimOutput(s string) string {
	return strings.ToValidUTF8(strings.TrimSuffix(s, "\n"), "\uFFFD")
}

func failure(ctx context.Context, step string, err error, out output) error {
	var exit *exec.ExitError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s command timed out and was killed; %s", step, quoteOutput(out))
	case ctx.Err() != nil:
		return fmt.Errorf("%s command was canceled and killed; %s", step, quoteOutput(out))
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return fmt.Errorf("%s command exited with code %d; %s", step, exit.ExitCode(), quoteOutput(out))
	case errors.As(err, &exit):
		return fmt.Errorf("%s command was killed (%v); %s", step, exit, quoteOutput(out))
	}
	return fmt.Errorf("%s command could not start: %w", step, err)
}

// quoteOutput shows stderr, or stdout when the command wrote nothing to stderr.
func quoteOutput(out output) string {
	switch {
	case out.stderr != "":
		return "stderr:\n" + tail(out.stderr)
	case out.stdout != "":
		return "no stderr; stdout:\n" + tail(out.stdout)
	}
	return "no output"
}

func tail(s string) string {
	if len(s) <= failureTail {
		return s
	}
	return "..." + strings.ToValidUTF8(s[len(s)-failureTail:], "")
}

// teeTo copies a stream into its capture buffer and, when it is logged, into the engine's log.
func teeTo(buf *bytes.Buffer, log io.Writer) io.Writer {
	if log == nil {
		return buf
	}
	return io.MultiWriter(buf, log)
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second))
}
