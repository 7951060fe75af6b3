// Package export writes SPLADE vectors and indexes in the formats other
// search engines ingest, so that a model trained and evaluated here can be
// served by PISA, Anserini, JASS, OpenSearch, Elasticsearch or Qdrant
// without re-encoding the corpus.
//
// Three targets cover the common engines:
//
//   - CIFF (Common Index File Format, Lin et al. 2020, osirrc/ciff): a
//     stream of length-delimited protobuf messages (Header, PostingsList per
//     term, DocRecord per document) that PISA, Anserini and JASS import. A
//     learned sparse index travels in it the way Anserini and PISA exchange
//     impact indexes: the integer impact takes the place of the term
//     frequency. WriteCIFF exports a built index; CIFFReader reads one back
//     (used to check round trips and to validate files from elsewhere).
//   - OpenSearch/Elasticsearch _bulk NDJSON with the vector in a
//     rank_features / sparse_vector field (OpenSearch neural sparse search,
//     Elasticsearch ELSER-style sparse_vector).
//   - Qdrant sparse vectors: JSON lines of points whose vector is
//     {indices, values} over a vocabulary's term ids.
//
// Anserini's JsonVectorCollection needs no exporter: it is the vector JSONL
// format that package sparse reads and writes.
//
// The CIFF writer is hand-written on protowire rather than generated code:
// the schema is four small messages, and this keeps the format's few
// invariants (gap-encoded document ids, sorted terms, counts in the header)
// visible in one place.
package export
