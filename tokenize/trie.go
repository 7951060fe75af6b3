package tokenize

import (
	"sort"
	"unicode/utf8"
)

// trie is a byte trie over the vocabulary, flattened into arrays. WordPiece
// needs the longest vocabulary entry that starts a given position; a hash map
// answers that by probing every shorter candidate in turn, while one walk
// down the trie finds it in one pass over the bytes. Continuation pieces
// are found by starting the walk at the node for "##".
//
// A node with few children keeps them as a short run of edge bytes that a
// linear scan reads from one cache line; the few nodes with many children
// (the root, "##", common first letters) get a dense 256-entry table.
type trie struct {
	nodes     []trieNode
	edgeBytes []byte   // each node's edge labels, sorted, at [lo:hi]
	edgeTo    []uint32 // the matching child nodes
	dense     []uint32 // 256 entries per dense node: child+1, 0 for none
}

type trieNode struct {
	id     int32  // vocabulary id of the token ending here, or -1
	lo, hi uint32 // the node's edges are edgeBytes[lo:hi], edgeTo[lo:hi]
	dense  int32  // index of the node's dense table, or -1
}

// denseFanout is the number of children above which a node gets a dense
// table.
const denseFanout = 12

// buildTrie indexes vocab; every token is distinct (New checks).
func buildTrie(vocab []string) *trie {
	// Build with sorted tokens so that each node's children are created in
	// byte order and laid out breadth-first without a second sort.
	order := make([]int, len(vocab))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return vocab[order[a]] < vocab[order[b]] })

	type building struct {
		id       int32
		children []int32 // indexes into nodes, in byte order
		b        byte
	}
	nodes := []building{{id: -1}}
	for _, i := range order {
		n := int32(0)
		tok := vocab[i]
		for j := 0; j < len(tok); j++ {
			ch := nodes[n].children
			// Sorted insertion means a new child is always the last one.
			if k := len(ch); k > 0 && nodes[ch[k-1]].b == tok[j] {
				n = ch[k-1]
				continue
			}
			nodes = append(nodes, building{id: -1, b: tok[j]})
			child := int32(len(nodes) - 1)
			nodes[n].children = append(nodes[n].children, child)
			n = child
		}
		nodes[n].id = int32(i)
	}
	t := &trie{
		nodes:     make([]trieNode, len(nodes)),
		edgeBytes: make([]byte, 0, len(nodes)-1),
		edgeTo:    make([]uint32, 0, len(nodes)-1),
	}
	for i, n := range nodes {
		tn := trieNode{id: n.id, lo: uint32(len(t.edgeBytes)), dense: -1}
		for _, c := range n.children {
			t.edgeBytes = append(t.edgeBytes, nodes[c].b)
			t.edgeTo = append(t.edgeTo, uint32(c))
		}
		tn.hi = uint32(len(t.edgeBytes))
		if len(n.children) > denseFanout {
			tn.dense = int32(len(t.dense) / 256)
			table := make([]uint32, 256)
			for _, c := range n.children {
				table[nodes[c].b] = uint32(c) + 1
			}
			t.dense = append(t.dense, table...)
		}
		t.nodes[i] = tn
	}
	return t
}

// child returns the node reached from n by byte b, or -1.
func (t *trie) child(n uint32, b byte) int64 {
	node := &t.nodes[n]
	if node.dense >= 0 {
		return int64(t.dense[int(node.dense)<<8|int(b)]) - 1
	}
	for i, x := range t.edgeBytes[node.lo:node.hi] {
		if x == b {
			return int64(t.edgeTo[int(node.lo)+i])
		}
	}
	return -1
}

// walk returns the node reached from n by s, or -1.
func (t *trie) walk(n uint32, s string) int64 {
	for i := 0; i < len(s); i++ {
		c := t.child(n, s[i])
		if c < 0 {
			return -1
		}
		n = uint32(c)
	}
	return int64(n)
}

// longest returns the end and id of the longest token that, read from node
// n, matches word[start:end] and ends on a character boundary; end is -1
// when there is none.
func (t *trie) longest(n uint32, word []byte, start int) (end int, id int32) {
	end = -1
	for i := start; i < len(word); i++ {
		c := t.child(n, word[i])
		if c < 0 {
			break
		}
		n = uint32(c)
		if tid := t.nodes[n].id; tid >= 0 && (i+1 == len(word) || utf8.RuneStart(word[i+1])) {
			end, id = i+1, tid
		}
	}
	return end, id
}
