package serve

// Passage indexes (splade encode --chunk): searches already return
// documents by their best passage (package search); here filters and
// explanations take document ids and map them to passages.

// lookup returns the internal ids an external id names: on a passage
// index, a document's passages (a passage id names that passage alone);
// otherwise the one document.
func (sn *snapshot) lookup(id string) ([]uint32, bool) {
	if sn.ix.HasPassages() {
		sn.documentsOnce.Do(func() {
			n := sn.ix.NumDocuments()
			sn.documents = make(map[string]uint32, n)
			for d := range n {
				sn.documents[sn.ix.DocumentID(uint32(d))] = uint32(d)
			}
		})
		if d, ok := sn.documents[id]; ok {
			return sn.ix.Passages(d), true
		}
	}
	d, ok := sn.docIndex(id)
	if !ok {
		return nil, false
	}
	return []uint32{d}, true
}

// passageID is the external id of passage d on a passage index, else "".
func (sn *snapshot) passageID(d uint32) string {
	if !sn.ix.HasPassages() {
		return ""
	}
	return sn.ix.DocID(d)
}

// passageCount is the number of passages of a passage index, else 0.
func (sn *snapshot) passageCount() int {
	if !sn.ix.HasPassages() {
		return 0
	}
	return sn.ix.NumDocs()
}
