package jsonscan

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestStringMatchesEncodingJSON(t *testing.T) {
	for _, raw := range []string{
		`"plain"`, `""`, `"é"`, `"esc\"aped"`, `"\u0041\n\t\\"`, "\"bad\xffutf8\"", `"\ud800"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		got, ok := String([]byte(raw))
		if !ok || got != want {
			t.Errorf("String(%q) = %q, %v; encoding/json says %q", raw, got, ok, want)
		}
	}
	for _, raw := range []string{`42`, `null`, `{"a":1}`, `"`, ``} {
		if s, ok := String([]byte(raw)); ok {
			t.Errorf("String(%q) = %q, true; want false", raw, s)
		}
	}
}

func TestForEachMember(t *testing.T) {
	doc := []byte(` { "a" : 1, "b":"x,}", "\u0063":{"d":[1,{"e":"]"}]}, "a":null, "f":[] } `)
	if !json.Valid(doc) {
		t.Fatal("the test document is not valid JSON")
	}
	var got []string
	ForEachMember(doc, SkipSpace(doc, 0), func(key string, value []byte) {
		got = append(got, key+"="+string(value))
	})
	want := []string{`a=1`, `b="x,}"`, `c={"d":[1,{"e":"]"}]}`, `a=null`, `f=[]`}
	if !slices.Equal(got, want) {
		t.Errorf("members %q, want %q", got, want)
	}
	ForEachMember([]byte(`{}`), 0, func(key string, _ []byte) { t.Errorf("member %q of an empty object", key) })
}
