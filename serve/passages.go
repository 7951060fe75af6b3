package serve

// Passage indexes (splade encode --chunk): searches already return
// documents by their best passage (package search); here filters and
// explanations take document ids and map them to passages.

// lookup returns the internal ids an external id names: on a passage
// index, a document's passages (a passage id names that passage alone);
// otherwise the one document.
func (s *Server) lookup(id string) ([]uint32, bool) {
	if s.ix.HasPassages() {
		s.documentsOnce.Do(func() {
			n := s.ix.NumDocuments()
			s.documents = make(map[string]uint32, n)
			for d := range n {
				s.documents[s.ix.DocumentID(uint32(d))] = uint32(d)
			}
		})
		if d, ok := s.documents[id]; ok {
			return s.ix.Passages(d), true
		}
	}
	d, ok := s.docIndex(id)
	if !ok {
		return nil, false
	}
	return []uint32{d}, true
}

// passageID is the external id of passage d on a passage index, else "".
func (s *Server) passageID(d uint32) string {
	if !s.ix.HasPassages() {
		return ""
	}
	return s.ix.DocID(d)
}

// passageCount is the number of passages of a passage index, else 0.
func (s *Server) passageCount() int {
	if !s.ix.HasPassages() {
		return 0
	}
	return s.ix.NumDocs()
}
