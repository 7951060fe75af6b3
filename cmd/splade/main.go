// Command splade is the one binary of the toolkit: each subcommand parses
// flags, opens files, shows progress and calls the library packages, which
// do the work.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"sort"
)

// command is one subcommand. Run receives the arguments after the
// subcommand's name and returns an error to report; errors of type
// usageError exit with status 2, others with 1.
type command struct {
	name    string
	summary string
	run     func(args []string) error
}

var commands = map[string]command{}

// register adds a subcommand; each subcommand's file calls it from init.
func register(c command) { commands[c.name] = c }

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usagef returns an error that makes the command exit with status 2.
func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// newFlags returns a flag set whose -h output shows the usage line,
// the description and examples, then the flags.
func newFlags(name, usage, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: splade %s %s\n\n%s\n\nFlags:\n", name, usage, help)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; -h prints help and exits 0.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (see splade %s -h)", fs.Arg(0), fs.Name())
	}
	return nil
}

func mainUsage(w io.Writer) {
	fmt.Fprintln(w, "splade: learned sparse retrieval (SPLADE) in one binary")
	fmt.Fprintln(w, "\nUsage: splade <command> [flags]   (splade <command> -h for help)\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
}

func main() {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if len(os.Args) < 2 {
		mainUsage(os.Stderr)
		os.Exit(2)
	}
	name := os.Args[1]
	if name == "-h" || name == "--help" || name == "help" {
		mainUsage(os.Stdout)
		return
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "splade: unknown command %q\n\n", name)
		mainUsage(os.Stderr)
		os.Exit(2)
	}
	// SPLADE_CPUPROFILE=FILE writes a CPU profile of the command (go tool pprof).
	if path := os.Getenv("SPLADE_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "splade: SPLADE_CPUPROFILE: %v\n", err)
			os.Exit(1)
		}
	}
	err := c.run(os.Args[2:])
	pprof.StopCPUProfile()
	if err != nil {
		fmt.Fprintf(os.Stderr, "splade %s: %v\n", name, err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
