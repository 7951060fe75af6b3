package sparse

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseFast parses the common shape of a vector record,
//
//	{"id": "...", "doc": "...", "contents": "...", "vector": {"term": 1.5, ...}}
//
// with keys in any order, an order of magnitude faster than encoding/json's
// token API. It reports ok=false for anything unusual (an unknown key with
// an object or array value, invalid syntax, duplicate terms, bad numbers)
// and the caller then parses the line with the strict general path, which
// also produces the error message. So the fast path never decides that a
// line is invalid, and never accepts one the general path would reject.
func parseFast(line []byte) (rec Record, ok bool) {
	p := scanner{b: line}
	p.ws()
	if !p.eat('{') {
		return rec, false
	}
	var haveID, haveVec, haveDoc bool
	first := true
	for {
		p.ws()
		if p.eat('}') {
			break
		}
		if !first && !p.eat(',') {
			return rec, false
		}
		first = false
		p.ws()
		key, ok := p.str()
		if !ok {
			return rec, false
		}
		p.ws()
		if !p.eat(':') {
			return rec, false
		}
		p.ws()
		switch key {
		case "id", "_id":
			if haveID {
				return rec, false // let the general path apply encoding/json's rules
			}
			if p.peek() == '"' {
				s, ok := p.str()
				if !ok || s == "" {
					return rec, false
				}
				rec.ID = s
			} else {
				n, ok := p.number()
				if !ok {
					return rec, false
				}
				rec.ID = n
			}
			haveID = true
		case "doc":
			if haveDoc || p.peek() != '"' {
				return rec, false // numbers, null and repeats take the general path
			}
			s, ok := p.str()
			if !ok || s == "" {
				return rec, false
			}
			rec.Doc = s
			haveDoc = true
		case "vector":
			if haveVec || !p.vector(&rec.Vector) {
				return rec, false
			}
			haveVec = true
		default:
			// encoding/json matches keys case-insensitively: "Doc" is a
			// doc for the general path, so it must not be skipped here.
			if strings.EqualFold(key, "doc") || !p.skipScalar() {
				return rec, false
			}
		}
	}
	p.ws()
	if p.i != len(p.b) || !haveID || !haveVec {
		return rec, false
	}
	return rec, true
}

type scanner struct {
	b []byte
	i int
}

func (p *scanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *scanner) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *scanner) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a JSON string. Strings with escapes or non-ASCII bytes are
// decoded by encoding/json, which also validates them.
func (p *scanner) str() (string, bool) {
	if !p.eat('"') {
		return "", false
	}
	start := p.i
	simple := true
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if simple {
				return string(raw), true
			}
			var s string
			if err := json.Unmarshal(p.b[start-1:p.i], &s); err != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			simple = false
			p.i += 2
			continue
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			simple = false
		}
		p.i++
	}
	return "", false
}

// number reads a JSON number and returns its text.
func (p *scanner) number() (string, bool) {
	start := p.i
	p.eat('-')
	digits := 0
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
		digits++
	}
	if digits == 0 || (digits > 1 && p.b[start+boolInt(p.b[start] == '-')] == '0') {
		return "", false
	}
	if p.eat('.') {
		d := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			d++
		}
		if d == 0 {
			return "", false
		}
	}
	if p.eat('e') || p.eat('E') {
		if !p.eat('+') {
			p.eat('-')
		}
		d := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			d++
		}
		if d == 0 {
			return "", false
		}
	}
	return string(p.b[start:p.i]), true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (p *scanner) skipScalar() bool {
	switch c := p.peek(); {
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '-' || (c >= '0' && c <= '9'):
		_, ok := p.number()
		return ok
	}
	for _, lit := range []string{"null", "true", "false"} {
		if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
			p.i += len(lit)
			return true
		}
	}
	return false
}

func (p *scanner) vector(v *Vector) bool {
	if !p.eat('{') {
		return false
	}
	seen := make(map[string]struct{}, 64)
	first := true
	for {
		p.ws()
		if p.eat('}') {
			return true
		}
		if !first && !p.eat(',') {
			return false
		}
		first = false
		p.ws()
		term, ok := p.str()
		if !ok {
			return false
		}
		p.ws()
		if !p.eat(':') {
			return false
		}
		p.ws()
		num, ok := p.number()
		if !ok {
			return false
		}
		w, err := strconv.ParseFloat(num, 64)
		if err != nil || !finite(w) || math32Overflow(w) {
			return false
		}
		if _, dup := seen[term]; dup || len(v.Terms) >= MaxTerms {
			return false
		}
		seen[term] = struct{}{}
		v.Terms = append(v.Terms, term)
		v.Weights = append(v.Weights, float32(w))
	}
}
