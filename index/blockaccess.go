package index

// Block returns the decoded documents and impacts of the current block from
// the current position on; term-at-a-time processors consume postings a
// block at a time with NextBlock instead of Next.
func (c *Cursor) Block() (docs []uint32, impacts []float32) {
	if c.bi >= c.nb {
		return nil, nil
	}
	return c.docs[c.i:c.n], c.imps[c.i:c.n]
}

// NextBlock moves to the first posting of the next block.
func (c *Cursor) NextBlock() { c.load(c.bi + 1) }
