package function

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"
)

// Identifier formats, checked by hand rather than by regexp: compiling
// patterns with counted repeats costs a cold start about 0.3 ms. ECS ids are
// a prefix and lowercase letters and digits (d-bp1…, 20 characters after
// the prefix today); the bounds leave room for longer ids without letting
// arbitrary text through.
var (
	isDiskID          = prefixedID("d-")
	isSnapshotID      = prefixedID("s-")
	isSnapshotGroupID = prefixedID("ssg-")
	isInstanceID      = prefixedID("i-")
)

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// prefixedID accepts prefix followed by 4 to 40 lowercase letters or digits.
func prefixedID(prefix string) func(string) bool {
	return func(s string) bool {
		rest, ok := strings.CutPrefix(s, prefix)
		if !ok || len(rest) < 4 || len(rest) > 40 {
			return false
		}
		for i := 0; i < len(rest); i++ {
			if !isLowerAlnum(rest[i]) {
				return false
			}
		}
		return true
	}
}

// isRegionID accepts 2–4 lowercase letters then 1–4 parts of "-" and 1–16
// lowercase letters or digits: cn-hangzhou, ap-southeast-1,
// cn-shanghai-finance-1.
func isRegionID(s string) bool {
	head, rest, ok := strings.Cut(s, "-")
	if !ok || len(head) < 2 || len(head) > 4 {
		return false
	}
	for i := 0; i < len(head); i++ {
		if head[i] < 'a' || head[i] > 'z' {
			return false
		}
	}
	parts := strings.Split(rest, "-")
	if len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		if len(p) < 1 || len(p) > 16 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if !isLowerAlnum(p[i]) {
				return false
			}
		}
	}
	return true
}

// isIdempotencyKey accepts 1 to 128 letters, digits and ._:@/+=_-.
func isIdempotencyKey(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLowerAlnum(c) && (c < 'A' || c > 'Z') && !strings.ContainsRune("._:@/+=_-", rune(c)) {
			return false
		}
	}
	return true
}

// isFleetTag accepts a fleet selector key=value: a non-empty key of at most
// 128 characters and a value of at most 128 (ECS tag limits).
func isFleetTag(s string) bool {
	k, v, ok := strings.Cut(s, "=")
	return ok && k != "" && len(k) <= 128 && len(v) <= 128
}

// isHTTPPath accepts an absolute URL path of unreserved and sub-delim
// characters: no query, fragment, backslash, space or ".." segment, so the
// health check's URL is always the instance's own address and this path.
func isHTTPPath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLowerAlnum(c) && (c < 'A' || c > 'Z') && !strings.ContainsRune("-._~/!$&'()*+,;=:@", rune(c)) {
			return false
		}
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == ".." || seg == "." {
			return false
		}
	}
	return true
}

// ruleMessages explains each rule in words, keyed by validator tag.
var ruleMessages = map[string]string{
	"required":             "is required",
	"required_without_all": "is required unless SnapshotGroupId, InstanceId or UndoRollback is given",
	"required_without":     "is required unless %s is given",
	"fleettag":             "must be a tag selector key=value with a non-empty key",
	"required_if":          "must be given (true, for a flag) when %s",
	"required_with":        "must be given (true, for a flag) with %s",
	"excluded_unless":      "is only allowed when %s",
	"httppath":             "must be a path: / then at most 255 letters, digits and -._~/!$&'()*+,;=:@ (no percent-escape, query, no fragment, no .. segment)",
	"excluded_with":        "cannot be combined with %s",
	"excluded_without":     "is only allowed together with %s",
	"excluded_without_all": "is only allowed together with one of: %s",
	"regionid":             "must be a region id such as cn-hangzhou",
	"diskid":               "must be a disk id: d- followed by 4 to 40 lowercase letters or digits",
	"snapshotid":           "must be a snapshot id: s- followed by 4 to 40 lowercase letters or digits",
	"snapshotgroupid":      "must be an instance snapshot id: ssg- followed by 4 to 40 lowercase letters or digits",
	"instanceid":           "must be an instance id: i- followed by 4 to 40 lowercase letters or digits",
	"idempotencykey":       "must be 1 to 128 characters of letters, digits and ._:@/+=_-",
	"uniquedisks":          "lists a disk more than once",
	"oneof":                "must be one of: %s",
	"min":                  "must have at least %s entries",
	"max":                  "must have at most %s entries",
}

// validate is the one validator instance: building one is costly (it caches
// struct metadata), and it is safe for concurrent use.
var validate = newValidator()

func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	for tag, ok := range map[string]func(string) bool{
		"regionid": isRegionID, "diskid": isDiskID, "snapshotid": isSnapshotID,
		"snapshotgroupid": isSnapshotGroupID, "instanceid": isInstanceID, "idempotencykey": isIdempotencyKey,
		"fleettag": isFleetTag, "httppath": isHTTPPath,
	} {
		must(v.RegisterValidation(tag, func(fl validator.FieldLevel) bool { return ok(fl.Field().String()) }))
	}
	return v
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// Validate applies the request's rules and reports every violation with
// its JSON path, e.g. Disk[2].SnapshotId.
func (r *Request) Validate() error {
	var vs []Violation
	if err := validate.Struct(r); err != nil {
		var ves validator.ValidationErrors
		if !errors.As(err, &ves) {
			return &Error{Code: ErrInternal, Message: "validation: " + err.Error()}
		}
		for _, fe := range ves {
			vs = append(vs, violationOf(fe))
		}
	}
	// Uniqueness is checked here rather than by a tag: a tag failing on the
	// list would hide the per-pair violations behind it.
	if dup := duplicateDisk(r.Disk); dup != "" {
		vs = append(vs, Violation{Field: "Disk", Rule: "uniquedisks", Message: ruleMessages["uniquedisks"] + ": " + dup})
	}
	if len(vs) == 0 {
		return nil
	}
	sortViolations(vs)
	return ValidationError(vs)
}

func violationOf(fe validator.FieldError) Violation {
	field := fe.Namespace()
	if _, rest, ok := strings.Cut(field, "."); ok {
		field = rest // drop the struct name
	}
	msg, ok := ruleMessages[fe.Tag()]
	if !ok {
		msg = "breaks rule " + fe.Tag()
	}
	if strings.Contains(msg, "%s") {
		msg = fmt.Sprintf(msg, jsonParam(fe.Param()))
	}
	if fe.Kind() == reflect.String && fe.Tag() == "max" {
		msg = fmt.Sprintf("must be at most %s characters", fe.Param())
	}
	return Violation{Field: field, Rule: fe.Tag(), Message: msg}
}

func duplicateDisk(pairs []DiskPair) string {
	seen := map[string]bool{}
	for _, p := range pairs {
		if seen[p.DiskID] {
			return p.DiskID
		}
		seen[p.DiskID] = true
	}
	return ""
}

func sortViolations(vs []Violation) {
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Field < vs[j].Field })
}

// jsonNames lists the JSON names of a struct's fields.
func jsonNames(v any) []string {
	t := reflect.TypeOf(v)
	names := make([]string, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// jsonProblem describes a decoding error without Go type names.
func jsonProblem(err error) string {
	if err == nil {
		return "null is not an object"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "found a JSON " + te.Value
	}
	return err.Error()
}

// jsonKind names a Go kind the way a JSON author would.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "ptr":
		return "true or false"
	}
	if strings.HasPrefix(kind, "int") || strings.HasPrefix(kind, "uint") || strings.HasPrefix(kind, "float") {
		return "a number"
	}
	return "a " + kind
}

// jsonParam spells a rule's parameter as the caller writes it: the field
// names the validator tags use are Go's (SnapshotGroupID), the messages name
// the JSON fields (SnapshotGroupId). Built on the first violation only.
func jsonParam(param string) string {
	words := strings.Fields(param)
	for i, w := range words {
		if j, ok := goToJSON()[w]; ok {
			words[i] = j
		}
	}
	return strings.Join(words, " ")
}

var goToJSON = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	for _, v := range []any{Request{}, DiskPair{}, HealthCheck{}, UndoRollback{}, FleetSpec{}} {
		t := reflect.TypeOf(v)
		for i := range t.NumField() {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
				m[f.Name] = name
			}
		}
	}
	return m
})
