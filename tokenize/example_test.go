package tokenize_test

import (
	"fmt"

	"github.com/splade-go/splade/tokenize"
)

func ExampleTokenizer_Encode() {
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##want", "##ed", "runn", "##ing", ","}
	tok, err := tokenize.New(vocab, tokenize.DefaultOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Tokenize("Unwanted, running"))
	fmt.Println(tok.Encode("Unwanted, running", 0))
	fmt.Println(tok.Encode("Unwanted, running", 4)) // truncated to 4 ids
	fmt.Println(tok.Tokenize("unknownword"))
	// Output:
	// [un ##want ##ed , runn ##ing]
	// [2 4 5 6 9 7 8 3]
	// [2 4 5 3]
	// [[UNK]]
}

func ExampleTokenizer_EncodePassages() {
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b", "c", "d", "e"}
	tok, err := tokenize.New(vocab, tokenize.DefaultOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	// windows of 3 wordpieces every 2: the last one is shorter
	ps, err := tok.EncodePassages("a b c d e a", 3, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range ps {
		fmt.Println(p)
	}
	// Output:
	// [2 4 5 6 3]
	// [2 6 7 8 3]
	// [2 8 4 3]
}
