package jit

import "testing"

func TestTier0VariantNames(t *testing.T) {
	for _, v := range Tier0Variants {
		if !v.Valid() {
			t.Errorf("%s not valid", v)
		}
		if got, err := ParseTier0Variant(v.String()); got != v || err != nil {
			t.Errorf("ParseTier0Variant(%q) = %v, %v", v, got, err)
		}
	}
	if Tier0Variant(len(Tier0Variants)).Valid() {
		t.Error("a value past the list is valid")
	}
	if _, err := ParseTier0Variant(""); err == nil {
		t.Error(`"" parses`)
	}
}
