// Command splade is the one binary of the toolkit: each subcommand parses
// flags, opens files, shows progress and calls the library packages, which
// do the work.
//
// Conventions every subcommand follows: flags take one or two dashes (-k 10
// and --k 10 are the same); -h or --help prints the usage with examples on
// standard output and exits 0; the main output file is --output (renamed
// flags keep their old names as aliases); logs are structured (log/slog) on
// standard error, key=value text or JSON lines (SPLADE_LOG_FORMAT=json),
// at SPLADE_LOG_LEVEL (debug, info, warn or error; default info); results
// meant for pipes go to standard output. Exit status: 0 on success, 1 on a
// runtime error (bad input, I/O), 2 on a usage error (bad or missing
// flags, unknown command).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
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
		printFlags(out, fs)
	}
	return fs
}

// printFlags lists the flags as the help texts and examples write them,
// with two dashes.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		switch {
		case typ == "" && f.DefValue == "true":
			usage += fmt.Sprintf(" (default true; --%s=false turns it off)", f.Name)
		case f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false":
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, "%s\n    \t%s\n", line, usage)
	})
}

// alias registers old as another name of flag name, so that a renamed flag
// keeps working in existing scripts.
func alias(fs *flag.FlagSet, name, old string) {
	fs.Var(fs.Lookup(name).Value, old, "old name of --"+name)
}

// parseFlags parses args. -h prints the help on standard output and exits
// 0; a bad flag is a usage error pointing at -h (the help is not dumped
// into error output).
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(os.Stdout)
		fs.Usage()
		os.Exit(0)
	}
	fs.SetOutput(nil)
	if err != nil {
		return usagef("%v (see splade %s -h)", err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (see splade %s -h)", fs.Arg(0), fs.Name())
	}
	return nil
}

// round rounds x to digits decimals, for log values that stay numbers in
// JSON logs yet read well as text.
func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// newLogger is the default logger: text or JSON on standard error at the
// level SPLADE_LOG_FORMAT and SPLADE_LOG_LEVEL ask for.
func newLogger(format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if level != "" {
		if err := lv.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("SPLADE_LOG_LEVEL=%q: want debug, info, warn or error", level)
		}
	}
	opt := &slog.HandlerOptions{Level: lv}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opt)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opt)), nil
	}
	return nil, fmt.Errorf("SPLADE_LOG_FORMAT=%q: want text or json", format)
}

func mainUsage(w io.Writer) {
	fmt.Fprintln(w, "splade: learned sparse retrieval (SPLADE) in one binary")
	fmt.Fprintln(w, "\nUsage: splade <command> [flags]   (splade <command> -h for help and examples)\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, `
Flags take one or two dashes. Logs go to standard error as key=value text,
or JSON lines with SPLADE_LOG_FORMAT=json; SPLADE_LOG_LEVEL=debug|info|warn|error.
Exit status: 0 success, 1 runtime error, 2 usage error.`)
}

func main() {
	logger, err := newLogger(os.Getenv("SPLADE_LOG_FORMAT"), os.Getenv("SPLADE_LOG_LEVEL"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "splade: %v\n", err)
		os.Exit(2)
	}
	slog.SetDefault(logger)
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
	err = c.run(os.Args[2:])
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

// setFlags returns the names of the flags given on the command line.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
