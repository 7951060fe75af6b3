package analysis

import "testing"

// Word pairs from Porter (1980) and the output of Porter's reference
// implementation on his sample vocabulary.
func TestStem(t *testing.T) {
	pairs := []struct{ in, want string }{
		// step 1a/1b
		{"caresses", "caress"}, {"ponies", "poni"}, {"ties", "ti"}, {"caress", "caress"}, {"cats", "cat"},
		{"feed", "feed"}, {"agreed", "agre"}, {"plastered", "plaster"}, {"bled", "bled"},
		{"motoring", "motor"}, {"sing", "sing"}, {"conflated", "conflat"}, {"troubled", "troubl"},
		{"sized", "size"}, {"hopping", "hop"}, {"tanned", "tan"}, {"falling", "fall"},
		{"hissing", "hiss"}, {"fizzed", "fizz"}, {"failing", "fail"}, {"filing", "file"},
		{"meetings", "meet"}, {"mating", "mate"}, {"milling", "mill"},
		// step 1c
		{"happy", "happi"}, {"sky", "sky"},
		// step 2, including the reference implementation's bli and logi rules
		{"relational", "relat"}, {"conditional", "condit"}, {"rational", "ration"},
		{"valenci", "valenc"}, {"digitizer", "digit"}, {"conformabli", "conform"},
		{"radicalli", "radic"}, {"differentli", "differ"}, {"vileli", "vile"},
		{"analogousli", "analog"}, {"vietnamization", "vietnam"}, {"predication", "predic"},
		{"operator", "oper"}, {"feudalism", "feudal"}, {"decisiveness", "decis"},
		{"hopefulness", "hope"}, {"callousness", "callous"}, {"formaliti", "formal"},
		{"sensitiviti", "sensit"}, {"sensibiliti", "sensibl"}, {"archaeology", "archaeolog"},
		// step 3
		{"triplicate", "triplic"}, {"formative", "form"}, {"formalize", "formal"},
		{"electriciti", "electr"}, {"electrical", "electr"}, {"hopeful", "hope"}, {"goodness", "good"},
		// step 4
		{"revival", "reviv"}, {"allowance", "allow"}, {"inference", "infer"}, {"airliner", "airlin"},
		{"gyroscopic", "gyroscop"}, {"adjustable", "adjust"}, {"defensible", "defens"},
		{"irritant", "irrit"}, {"replacement", "replac"}, {"adjustment", "adjust"},
		{"dependent", "depend"}, {"adoption", "adopt"}, {"homologou", "homolog"},
		{"communism", "commun"}, {"activate", "activ"}, {"angulariti", "angular"},
		{"homologous", "homolog"}, {"effective", "effect"}, {"bowdlerize", "bowdler"},
		// step 5
		{"probate", "probat"}, {"rate", "rate"}, {"cease", "ceas"}, {"controll", "control"}, {"roll", "roll"},
		// several steps
		{"generalizations", "gener"}, {"oscillators", "oscil"},
		// words of one or two units are left alone; degenerate inputs
		{"is", "is"}, {"as", "as"}, {"a", "a"}, {"", ""}, {"ies", "i"}, {"ion", "ion"}, {"eed", "eed"},
		// non-ASCII units are consonants
		{"cafés", "café"}, {"naïvely", "naïv"}, {"3.14", "3.14"}, {"u.s.a", "u.s.a"},
	}
	for _, p := range pairs {
		if got := Stem(p.in); got != p.want {
			t.Errorf("Stem(%q) = %q, want %q", p.in, got, p.want)
		}
	}
}

func FuzzStem(f *testing.F) {
	for _, s := range []string{"caresses", "ies", "eed", "y", "ion", "ational", "é", "yyyy"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, w string) {
		s := Stem(w)
		if len([]rune(s)) > len([]rune(w)) {
			t.Fatalf("Stem(%q) = %q is longer than the word", w, s)
		}
	})
}
