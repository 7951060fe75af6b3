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
func newProgress(total int64, what string) *progressbar.ProgressBar {
	w := io.Discard
	if term.IsTerminal(int(os.Stderr.Fd())) {
		w = os.Stderr
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("items"),
		progressbar.OptionThrottle(100_000_000),
		progressbar.OptionClearOnFinish(),
	)
}
