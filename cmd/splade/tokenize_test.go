package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/splade-go/splade/tokenize"
)

func TestTokenizeLines(t *testing.T) {
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##want", "##ed", "runn", "##ing", "?"}
	tok, err := tokenize.New(vocab, tokenize.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in string
		maxLen   int
		want     string
		wantErr  string
	}{
		{"pieces", "q1\tUnwanted running?\nq2\t\n", 0, "q1\tun ##want ##ed runn ##ing ?\nq2\t\n", ""},
		{"truncated to N-2", "q1\tunwanted running\n", 4, "q1\tun ##want\n", ""},
		{"tabs in text are spaces", "q1\trunning\tunwanted", 0, "q1\trunn ##ing un ##want ##ed\n", ""},
		{"missing tab", "q1\trunning\nq2 running\n", 0, "q1\trunn ##ing\n", "in:2: no tab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w := bufio.NewWriter(&out)
			_, _, err := tokenizeLines(tok, strings.NewReader(tt.in), "in", w, tt.maxLen)
			w.Flush()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if out.String() != tt.want {
				t.Errorf("output %q, want %q", out.String(), tt.want)
			}
		})
	}
}
