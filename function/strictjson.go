package function

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// scanStrict walks a JSON document once, token by token, and reports every
// key given twice in one object (at any depth: encoding/json keeps the last
// value silently, so `{"DryRun":true,"DryRun":false}` would be a real reset)
// and every null value (encoding/json leaves the field at its zero value,
// so `"DryRun":null` would be a real reset too). Paths use the request's
// notation: DryRun, Disk[0].DiskId. Syntax errors are left to the decoder,
// which reports them with more context.
func scanStrict(data []byte) []Violation {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var vs []Violation
	if err := scanValue(dec, "", &vs); err != nil {
		return vs // malformed: the decoder says why
	}
	return vs
}

// scanValue reads one value at path. It returns an error only for malformed
// JSON.
func scanValue(dec *json.Decoder, path string, vs *[]Violation) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case nil:
		*vs = append(*vs, Violation{Field: pathOrEvent(path), Rule: "null", Message: "must not be null: leave the field out to use its default"})
	case json.Delim:
		switch t {
		case '{':
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				key, ok := kt.(string)
				if !ok {
					return errors.New("object key is not a string")
				}
				child := joinPath(path, key)
				if seen[key] {
					*vs = append(*vs, Violation{Field: child, Rule: "duplicate", Message: "given twice: each field may appear once"})
				}
				seen[key] = true
				if err := scanValue(dec, child, vs); err != nil {
					return err
				}
			}
			_, err = dec.Token() // '}'
			return err
		case '[':
			for i := 0; dec.More(); i++ {
				if err := scanValue(dec, path+"["+strconv.Itoa(i)+"]", vs); err != nil {
					return err
				}
			}
			_, err = dec.Token() // ']'
			return err
		}
	}
	return nil
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathOrEvent(path string) string {
	if path == "" {
		return "(event)"
	}
	return path
}
