package main

import (
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// newProgress returns a progress bar on standard error when it is a
// terminal, and a silent one otherwise (logs and CI stay clean). total < 0
// means unknown.
//
// A bar of unknown length runs a spinner goroutine that reads the bar's
// start time without its lock (progressbar v3.19.1), racing with the first
// render, which sets it. A silent bar runs no goroutine, and a visible one
// renders blank before the goroutine starts, so the start time is set
// before any read: go test -race stays clean.
func newProgress(total int64, what string) *progressbar.ProgressBar {
	w := io.Discard
	visible := term.IsTerminal(int(os.Stderr.Fd()))
	if visible {
		w = os.Stderr
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetVisibility(visible),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("items"),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)
}
