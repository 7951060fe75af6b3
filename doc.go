// Package splade is the root of a learned sparse retrieval toolkit: SPLADE
// (Formal, Piwowarski, Clinchant, SIGIR 2021) end to end in Go, as one
// binary (cmd/splade) and as a library of packages, each one stage of the
// pipeline, data flowing one way:
//
//	tokenize -> model -> sparse -> index -> search -> eval
//
// The packages, and why each exists:
//
//   - tokenize: BERT WordPiece exactly as Hugging Face, because a term
//     split differently lands on another vocabulary dimension.
//   - model: the BERT/DistilBERT masked-LM encoder and SPLADE head; reads
//     Hugging Face checkpoints and turns text into sparse vectors.
//   - sparse: the vectors and their JSONL interchange form (Anserini's
//     JsonVectorCollection), optionally as passages of longer documents.
//   - index: the compressed, checksummed, crash-safe inverted index.
//   - search: exact and approximate query processors; documents scored by
//     their best passage on passage indexes (MaxP).
//   - eval: trec_eval-compatible metrics, so numbers compare with papers.
//   - bm25: the Lucene-exact BM25 baseline every SPLADE number sits next to.
//   - train, serve, export, corpus, synth, quickstart: training, the HTTP
//     service, other engines' formats, collection readers, synthetic
//     collections and the end-to-end demonstration.
//
// This package holds no code; its example runs the pipeline.
package splade
