package export

import (
	"bytes"
	"io"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/splade-go/splade/index"
	"github.com/splade-go/splade/sparse"
)

var testDocs = []sparse.Record{
	{ID: "d0", Vector: sparse.Vector{Terms: []string{"cat", "dog", "."}, Weights: []float32{1.5, 0.25, 0.1}}},
	{ID: "d1", Vector: sparse.Vector{Terms: []string{"dog", "fish"}, Weights: []float32{2.0, 0.75}}},
	{ID: "d2", Vector: sparse.Vector{Terms: []string{"cat", "##ing", "zebra"}, Weights: []float32{0.5, 3.0, 1.0}}},
	{ID: "d3", Vector: sparse.Vector{Terms: []string{"cat"}, Weights: []float32{0.01}}},
	{ID: "d4", Vector: sparse.Vector{Terms: []string{"fish", "dog", "cat"}, Weights: []float32{1, 1, 1}}},
}

func buildIndex(t *testing.T, q index.Quantization) *index.Index {
	t.Helper()
	dir := t.TempDir()
	if _, err := index.Build(dir, testDocs, index.BuildOptions{Quantize: q, Fingerprint: "fp-test"}); err != nil {
		t.Fatal(err)
	}
	ix, err := index.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// readAll reads a whole CIFF stream back.
func readAll(t *testing.T, data []byte) (CIFFHeader, []CIFFPostingsList, []CIFFDocRecord) {
	t.Helper()
	cr, err := NewCIFFReader(bytes.NewReader(data), "test.ciff")
	if err != nil {
		t.Fatal(err)
	}
	var lists []CIFFPostingsList
	for {
		var pl CIFFPostingsList
		err := cr.NextPostingsList(&pl)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lists = append(lists, pl)
	}
	var docs []CIFFDocRecord
	for {
		r, err := cr.NextDocRecord()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, r)
	}
	if err := cr.Finish(); err != nil {
		t.Fatal(err)
	}
	return cr.Header(), lists, docs
}

func TestCIFFRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		q    index.Quantization
		bits int
	}{{index.QuantU8, 0}, {index.QuantF16, 8}, {index.QuantF32, 4}, {index.QuantF32, 16}} {
		t.Run(tc.q.String(), func(t *testing.T) {
			ix := buildIndex(t, tc.q)
			var buf bytes.Buffer
			st, err := WriteCIFF(&buf, ix, CIFFOptions{Bits: tc.bits, Description: "unit test"})
			if err != nil {
				t.Fatal(err)
			}
			h, lists, docs := readAll(t, buf.Bytes())
			if h.Version != CIFFVersion || int(h.NumPostingsLists) != ix.NumTerms() || int(h.NumDocRecords) != ix.NumDocs() ||
				h.TotalPostingsLists != h.NumPostingsLists || h.TotalDocs != h.NumDocRecords {
				t.Fatalf("header %+v", h)
			}
			if !strings.HasPrefix(h.Description, "unit test; ") || !strings.Contains(h.Description, "fp-test") ||
				strings.Contains(h.Description, "requantized") != (tc.q != index.QuantU8) {
				t.Errorf("description %q", h.Description)
			}
			bits := tc.bits
			if bits == 0 {
				bits = 8
			}
			levels := int32(1)<<bits - 1
			docLen := make([]int64, ix.NumDocs())
			var total, postings int64
			var cur index.Cursor
			for ti, pl := range lists {
				if pl.Term != ix.Term(uint32(ti)) || int(pl.DF) != ix.DocFreq(uint32(ti)) {
					t.Fatalf("list %d: term %q df %d, index has %q df %d", ti, pl.Term, pl.DF, ix.Term(uint32(ti)), ix.DocFreq(uint32(ti)))
				}
				i := 0
				for cur.Open(ix, uint32(ti)); cur.Doc() != index.End; cur.Next() {
					if int(pl.Docs[i]) != int(cur.Doc()) {
						t.Fatalf("term %q posting %d: doc %d, want %d", pl.Term, i, pl.Docs[i], cur.Doc())
					}
					tf := pl.TFs[i]
					if tf < 1 || tf > levels {
						t.Fatalf("term %q: tf %d outside 1..%d", pl.Term, tf, levels)
					}
					// the integer impact times the scale recovers the
					// stored weight to within half a quantization step
					want := float64(cur.Impact())
					if tc.q == index.QuantU8 {
						if float64(tf) != want {
							t.Fatalf("term %q: tf %d, stored impact %v", pl.Term, tf, want)
						}
					} else if got := float64(tf) * st.Scale; math.Abs(got-want) > st.Scale/2+1e-9 && tf > 1 {
						t.Fatalf("term %q: tf %d x scale %v = %v, impact %v", pl.Term, tf, st.Scale, got, want)
					}
					docLen[cur.Doc()] += int64(tf)
					total += int64(tf)
					i++
					postings++
				}
			}
			if postings != st.Postings || postings != ix.Meta.Postings || total != h.TotalTermsInCollection {
				t.Errorf("postings %d (stats %d, meta %d), total %d vs header %d", postings, st.Postings, ix.Meta.Postings, total, h.TotalTermsInCollection)
			}
			if math.Abs(h.AverageDocLength-float64(total)/float64(ix.NumDocs())) > 1e-12 {
				t.Errorf("average doclength %v", h.AverageDocLength)
			}
			for d, r := range docs {
				if r.CollectionID != ix.DocID(uint32(d)) || int64(r.DocLength) != docLen[d] {
					t.Errorf("doc record %d: %+v, want id %q length %d", d, r, ix.DocID(uint32(d)), docLen[d])
				}
			}
		})
	}
}

func TestCIFFBits(t *testing.T) {
	ix := buildIndex(t, index.QuantF32)
	for _, bits := range []int{-1, 17} {
		if _, err := WriteCIFF(io.Discard, ix, CIFFOptions{Bits: bits}); err == nil {
			t.Errorf("bits %d accepted", bits)
		}
	}
}

// msg frames one message.
func msg(b []byte) []byte { return append(protowire.AppendVarint(nil, uint64(len(b))), b...) }

func TestCIFFReaderErrors(t *testing.T) {
	hdr := func(lists, docs int32) []byte {
		return msg(appendHeader(nil, CIFFHeader{Version: 1, NumPostingsLists: lists, NumDocRecords: docs}))
	}
	list := func(term string, docs, tfs []int32, df, cf int64) []byte {
		return msg(appendPostingsList(nil, &CIFFPostingsList{Term: term, DF: df, CF: cf, Docs: docs, TFs: tfs}))
	}
	doc := func(id int32, name string) []byte {
		return msg(appendDocRecord(nil, CIFFDocRecord{DocID: id, CollectionID: name, DocLength: 1}))
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	good := cat(hdr(2, 2), list("a", []int32{0, 1}, []int32{1, 2}, 2, 3), list("b", []int32{1}, []int32{4}, 1, 4), doc(0, "x"), doc(1, "y"))
	if _, lists, docs := readAll(t, good); len(lists) != 2 || len(docs) != 2 || lists[0].Docs[1] != 1 || lists[1].Docs[0] != 1 {
		t.Fatalf("good file read as %+v %+v", lists, docs)
	}
	cases := []struct {
		name, data, want string
	}{
		{"empty", "", "empty CIFF file"},
		{"truncated header", string(good[:3]), "truncated message"},
		{"missing lists", string(hdr(2, 0)), "file ends after 0 of 2 postings lists"},
		{"unsorted terms", string(cat(hdr(2, 2), list("b", []int32{0}, []int32{1}, 1, 1), list("a", []int32{0}, []int32{1}, 1, 1))), `does not sort after "b"`},
		{"duplicate term", string(cat(hdr(2, 2), list("a", []int32{0}, []int32{1}, 1, 1), list("a", []int32{1}, []int32{1}, 1, 1))), "does not sort"},
		{"bad df", string(cat(hdr(1, 2), list("a", []int32{0}, []int32{1}, 2, 1))), "df 2 and cf 1 disagree"},
		{"bad cf", string(cat(hdr(1, 2), list("a", []int32{0}, []int32{1}, 1, 5))), "disagree"},
		{"doc beyond", string(cat(hdr(1, 2), list("a", []int32{0, 2}, []int32{1, 1}, 2, 2))), "beyond the header's 2 documents"},
		{"repeated doc", string(cat(hdr(1, 2), list("a", []int32{1, 1}, []int32{1, 1}, 2, 2))), "invalid docid gap 0"},
		{"doc order", string(cat(hdr(0, 2), doc(1, "y"))), "docid 1, want 0"},
		{"missing docs", string(cat(hdr(0, 2), doc(0, "x"))), "file ends after 1 of 2 document records"},
		{"trailing", string(cat(hdr(0, 1), doc(0, "x"), []byte{0})), "trailing data"},
		{"huge length", string(protowire.AppendVarint(nil, 1<<40)), "exceeds"},
		{"wrong wire type", string(msg(protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), "x"))), "wire type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := readErr([]byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "test.ciff") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

// readErr reads a whole stream and returns the first error.
func readErr(data []byte) error {
	cr, err := NewCIFFReader(bytes.NewReader(data), "test.ciff")
	if err != nil {
		return err
	}
	var pl CIFFPostingsList
	for {
		if err := cr.NextPostingsList(&pl); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
	}
	for {
		if _, err := cr.NextDocRecord(); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
	}
	return cr.Finish()
}

func FuzzCIFFReader(f *testing.F) {
	h := msg(appendHeader(nil, CIFFHeader{Version: 1, NumPostingsLists: 1, NumDocRecords: 2, Description: "seed"}))
	l := msg(appendPostingsList(nil, &CIFFPostingsList{Term: "a", DF: 2, CF: 3, Docs: []int32{0, 1}, TFs: []int32{1, 2}}))
	d0 := msg(appendDocRecord(nil, CIFFDocRecord{DocID: 0, CollectionID: "x", DocLength: 1}))
	d1 := msg(appendDocRecord(nil, CIFFDocRecord{DocID: 1, CollectionID: "y", DocLength: 2}))
	f.Add(bytes.Join([][]byte{h, l, d0, d1}, nil))
	f.Add(h)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		cr, err := NewCIFFReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		var pl CIFFPostingsList
		for {
			if err := cr.NextPostingsList(&pl); err != nil {
				break
			}
			if int64(len(pl.Docs)) != pl.DF {
				t.Fatalf("accepted list with df %d and %d postings", pl.DF, len(pl.Docs))
			}
			for i := 1; i < len(pl.Docs); i++ {
				if pl.Docs[i] <= pl.Docs[i-1] {
					t.Fatalf("accepted unsorted postings %v", pl.Docs)
				}
			}
		}
		for i := 0; ; i++ {
			r, err := cr.NextDocRecord()
			if err != nil {
				break
			}
			if int(r.DocID) != i {
				t.Fatalf("accepted doc record %d as number %d", r.DocID, i)
			}
		}
	})
}
