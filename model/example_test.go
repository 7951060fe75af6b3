package model_test

import (
	"fmt"
	"log"
	"os"

	"github.com/splade-go/splade/model"
)

// ExampleEncoder_Encode encodes texts with a checkpoint in Hugging Face
// layout (here the repository's small random-weight test model, whose
// vocabulary is a 3,199-entry subset of bert-base-uncased's, so words
// split finely; a trained SPLADE model directory is loaded the same way). The vector's terms are
// vocabulary wordpieces, heaviest first; they include expansion terms that
// the text does not contain.
func ExampleEncoder_Encode() {
	m, tok, err := model.LoadWithTokenizer("testdata/bert")
	if err != nil {
		log.Fatal(err)
	}
	enc, err := model.NewEncoder(m, tok, model.Options{MaxLength: model.DefaultDocLength, Threads: 1})
	if err != nil {
		log.Fatal(err)
	}
	vecs, err := enc.Encode([]string{"The river floods the valley every spring."})
	if err != nil {
		log.Fatal(err)
	}
	v := vecs[0]
	fmt.Println(m.Config.Arch, m.Config.Layers, "layers;", "tokens", tok.Tokenize("The river floods the valley every spring."))
	for i := range 3 {
		fmt.Printf("%s %.2f\n", v.Terms[i], v.Weights[i])
	}
	// Output:
	// bert 2 layers; tokens [the river f ##l ##o ##o ##d ##s the valley every s ##p ##ri ##ng .]
	// described 0.95
	// national 0.91
	// ##こ 0.81
}

// ExampleSaveDir writes a checkpoint (what splade train saves) and loads it
// back: the Hugging Face layout, readable by transformers as well.
func ExampleSaveDir() {
	cfg := model.Config{Arch: model.BERT, Hidden: 32, Layers: 2, Heads: 4, Intermediate: 64,
		Vocab: 8, MaxPositions: 64, TypeVocab: 2, LayerNormEps: 1e-12, TiedDecoder: true}
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "river", "flood", "##s"}
	m, err := model.NewRandom(cfg, 1)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "splade-model-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := model.SaveDir(dir, cfg, m.Tensors(), vocab); err != nil {
		log.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fmt.Println(e.Name())
	}
	m2, tok, err := model.LoadWithTokenizer(dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m2.Config.Arch, m2.Config.Hidden, tok.VocabSize(), tok.Tokenize("Rivers flood"))
	// Output:
	// config.json
	// model.safetensors
	// tokenizer_config.json
	// vocab.txt
	// bert 32 8 [river ##s flood]
}
