package function

import (
	"math/rand/v2"
	"reflect"
	"strings"
)

// trickyStrings are the pieces randomString joins: what JSON escapes
// (quotes, backslashes, control characters, <>& for HTML, U+2028/2029),
// invalid UTF-8, multi-byte runes, and plain ids.
var trickyStrings = []string{
	"", "a", "d-bp1stoppedsys0000000", "cn-hangzhou", "DryRunPassed", `"`, `\`, "/", "<", ">", "&", "\n", "\t", "\r", "\b", "\f",
	"\x00", "\x1f", "\x7f", "\u2028", "\u2029", "é", "日本", "\xff", "\xe2\x80", "\U0001F600", "\ufffd", " ",
}

func randomString(rnd *rand.Rand) string {
	var b strings.Builder
	for range rnd.IntN(4) {
		b.WriteString(trickyStrings[rnd.IntN(len(trickyStrings))])
	}
	return b.String()
}

// fillRandom sets every exported field reachable from v to a random value,
// so a test comparing two encoders or decoders over it also covers fields
// added after the test was written. full makes every value non-zero (every
// pointer set, every slice non-empty, every omitempty field present);
// otherwise zero values, nil and empty slices come up too.
func fillRandom(v reflect.Value, rnd *rand.Rand, full bool, depth int) {
	switch v.Kind() {
	case reflect.String:
		s := randomString(rnd)
		for full && s == "" {
			s = randomString(rnd)
		}
		v.SetString(s)
	case reflect.Bool:
		v.SetBool(full || rnd.IntN(2) == 1)
	case reflect.Int, reflect.Int64, reflect.Int32:
		n := rnd.Int64N(1<<40) - 1<<39
		if rnd.IntN(3) == 0 {
			n = rnd.Int64N(5)
		}
		if full && n == 0 {
			n = 1
		}
		v.SetInt(n)
	case reflect.Pointer:
		if !full && (depth > 3 || rnd.IntN(3) == 0) {
			return
		}
		p := reflect.New(v.Type().Elem())
		fillRandom(p.Elem(), rnd, full, depth+1)
		v.Set(p)
	case reflect.Slice:
		n := 1 + rnd.IntN(3)
		if !full {
			switch rnd.IntN(4) {
			case 0:
				return // nil
			case 1:
				n = 0
			}
		}
		if depth > 3 {
			n = min(n, 1)
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fillRandom(s.Index(i), rnd, full, depth+1)
		}
		v.Set(s)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillRandom(v.Field(i), rnd, full, depth+1)
			}
		}
	default:
		panic("fillRandom: no case for " + v.Kind().String())
	}
}
