package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestMain lets a test run the command itself: with SPLADE_TEST_MAIN set,
// the test binary is splade, its arguments those after "--".
func TestMain(m *testing.M) {
	if os.Getenv("SPLADE_TEST_MAIN") != "" {
		for i, a := range os.Args {
			if a == "--" {
				os.Args = append([]string{"splade"}, os.Args[i+1:]...)
				break
			}
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// splade runs the command in a child process and returns its exit status,
// standard output and standard error.
func splade(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(append(os.Environ(), "SPLADE_TEST_MAIN=1"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

var oneDash = regexp.MustCompile(`\n  -[a-z]`)

// TestHelpAndExitCodes: every subcommand's -h prints usage with examples on
// standard output and exits 0; usage errors exit 2 with a pointer to -h;
// runtime errors exit 1.
func TestHelpAndExitCodes(t *testing.T) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	helps := [][]string{{"-h"}, {"--help"}, {"help"}}
	for _, n := range names {
		if n == "export" {
			for _, f := range []string{"ciff", "opensearch", "qdrant"} {
				helps = append(helps, []string{"export", f, "-h"})
			}
			helps = append(helps, []string{"export", "--help"})
			continue
		}
		helps = append(helps, []string{n, "-h"}, []string{n, "--help"})
	}
	for _, args := range helps {
		code, stdout, stderr := splade(t, nil, args...)
		if code != 0 || stderr != "" {
			t.Errorf("splade %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
		}
		if len(args) > 1 && !strings.Contains(stdout, "Examples:") && args[0] != "export" || !strings.Contains(stdout, "splade") {
			t.Errorf("splade %s: help without examples:\n%s", strings.Join(args, " "), stdout)
		}
		if strings.Contains(stdout, "\nFlags:") && oneDash.MatchString(stdout) {
			t.Errorf("splade %s: a flag is listed with one dash:\n%s", strings.Join(args, " "), stdout)
		}
	}

	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		env  []string
		code int
		want string
	}{
		{nil, nil, 2, "Usage: splade <command>"},
		{[]string{"frobnicate"}, nil, 2, `unknown command "frobnicate"`},
		{[]string{"index"}, nil, 2, "--input and --output are required"},
		{[]string{"index", "--bogus"}, nil, 2, "see splade index -h"},
		{[]string{"search", "--k", "ten"}, nil, 2, "invalid value"},
		{[]string{"search", "--index", dir, "--queries", "q", "--output", "-", "stray"}, nil, 2, `unexpected argument "stray"`},
		{[]string{"export"}, nil, 2, "missing format"},
		{[]string{"index", "--input", filepath.Join(dir, "missing.jsonl"), "--output", dir}, nil, 1, "missing.jsonl"},
		{[]string{"eval", "--qrels", filepath.Join(dir, "none"), "--run", filepath.Join(dir, "none")}, nil, 1, "none"},
		{[]string{"index", "--input", filepath.Join(dir, "missing.jsonl"), "--output", dir, "--impact-levels", "256"}, nil, 2, "--impact-levels must be in 1..255, got 256"},
		{[]string{"index", "--input", filepath.Join(dir, "missing.jsonl"), "--output", dir, "--quantize", "f16", "--impact-levels", "31"}, nil, 2, "--impact-levels applies to --quantize u8 only"},
		{[]string{"index", "-h"}, []string{"SPLADE_LOG_FORMAT=xml"}, 2, "SPLADE_LOG_FORMAT"},
		{[]string{"index", "-h"}, []string{"SPLADE_LOG_LEVEL=loud"}, 2, "SPLADE_LOG_LEVEL"},
	} {
		code, _, stderr := splade(t, tc.env, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("splade %q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
		if code == 2 && strings.Count(stderr, "Flags:") > 0 {
			t.Errorf("splade %q: usage error dumps the whole help:\n%s", tc.args, stderr)
		}
	}
}

// TestRenamedFlagsAndJSONLogs: old flag names keep working, and logs are
// JSON lines with SPLADE_LOG_FORMAT=json.
func TestRenamedFlagsAndJSONLogs(t *testing.T) {
	dir := t.TempDir()
	docs, queries := filepath.Join(dir, "d.jsonl"), filepath.Join(dir, "q.jsonl")
	code, _, stderr := splade(t, []string{"SPLADE_LOG_FORMAT=json"}, "synth", "--docs", "20", "--queries", "3", "--out-docs", docs, "--out-queries", queries)
	if code != 0 {
		t.Fatalf("synth with the old flag names: exit %d: %s", code, stderr)
	}
	for _, p := range []string{docs, queries} {
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec["level"] == nil || rec["msg"] == nil {
			t.Fatalf("log line %q is not a JSON record: %v", l, err)
		}
	}
	code, _, stderr = splade(t, []string{"SPLADE_LOG_LEVEL=warn"}, "synth", "--docs", "20", "--output-docs", docs)
	if code != 0 || stderr != "" {
		t.Fatalf("synth at level warn: exit %d, stderr %q", code, stderr)
	}
}
