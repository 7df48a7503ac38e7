package flowtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// scope is what expressions see ("Data passing": $Context holds
// Execution.{Name,Input} and Current.{Name,Input,Output,Error}; $Input is
// $Context.Current.Input and $Output $Context.Current.Output, the latter in
// output constructors only — "Inputs and outputs").
type scope struct {
	execName  string
	execInput any
	name      string
	input     any
	output    any // nil: not in an output constructor
	hasOutput bool
	err       map[string]any // $Context.Current.Error in a Catch
	item      any            // $Item in a distributed Map's ItemConstructor
	hasItem   bool
}

// eval evaluates a path expression: $Input.a.b, $Output.a, $Item.a,
// $Context.Execution.Input.a, $Context.Execution.Name,
// $Context.Current.{Input,Output,Error,Name}.…, and jsonMerge of two of
// them. Anything else (other built-in functions, array indexes, literals)
// is refused; so is a path through a missing key — what CloudFlow makes of
// one is unconfirmed.
func (s *scope) eval(expr string) (any, error) {
	expr = strings.TrimSpace(expr)
	if args, ok := strings.CutPrefix(expr, "jsonMerge("); ok && strings.HasSuffix(args, ")") {
		return s.jsonMerge(expr, strings.TrimSuffix(args, ")"))
	}
	parts := strings.Split(expr, ".")
	var v any
	var rest []string
	switch {
	case parts[0] == "$Input":
		v, rest = s.input, parts[1:]
	case parts[0] == "$Item":
		if !s.hasItem {
			return nil, fmt.Errorf("%s: $Item is only defined in an ItemConstructor (Distributed mode)", expr)
		}
		v, rest = s.item, parts[1:]
	case parts[0] == "$Output":
		if !s.hasOutput {
			return nil, fmt.Errorf("%s: $Output is only defined in an output constructor (Inputs and outputs)", expr)
		}
		v, rest = s.output, parts[1:]
	case len(parts) >= 3 && parts[0] == "$Context" && parts[1] == "Execution":
		switch parts[2] {
		case "Input":
			v, rest = s.execInput, parts[3:]
		case "Name":
			v, rest = s.execName, parts[3:]
		default:
			return nil, fmt.Errorf("%s: unsupported $Context.Execution field", expr)
		}
	case len(parts) >= 3 && parts[0] == "$Context" && parts[1] == "Current":
		switch parts[2] {
		case "Input":
			v, rest = s.input, parts[3:]
		case "Name":
			v, rest = s.name, parts[3:]
		case "Output":
			if !s.hasOutput {
				return nil, fmt.Errorf("%s: no output here", expr)
			}
			v, rest = s.output, parts[3:]
		case "Error":
			if s.err == nil {
				return nil, fmt.Errorf("%s: no error here (only in a Catch)", expr)
			}
			v, rest = s.err, parts[3:]
		default:
			return nil, fmt.Errorf("%s: unsupported $Context.Current field", expr)
		}
	default:
		return nil, fmt.Errorf("%q: the executor implements path expressions only ($Input, $Output, $Context.Execution, $Context.Current)", expr)
	}
	for _, key := range rest {
		if key == "" || strings.ContainsAny(key, "[]() ") {
			return nil, fmt.Errorf("%s: unsupported path segment %q", expr, key)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %q is not a field of an object", expr, key)
		}
		if v, ok = m[key]; !ok {
			return nil, fmt.Errorf("%s: no field %q (missing fields are refused: CloudFlow's handling is unconfirmed)", expr, key)
		}
	}
	return v, nil
}

// jsonMerge is the built-in of that name ("Built-in functions": merges two
// JSON objects or maps) over two path expressions. Which side wins a key
// both hold is not documented, so a shared key is refused.
func (s *scope) jsonMerge(expr, args string) (any, error) {
	a, b, ok := strings.Cut(args, ",")
	if !ok || strings.ContainsAny(b, ",()") {
		return nil, fmt.Errorf("%s: jsonMerge takes two path expressions", expr)
	}
	out := map[string]any{}
	for _, arg := range []string{a, b} {
		v, err := s.eval(arg)
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: %s is not an object", expr, strings.TrimSpace(arg))
		}
		for k, v := range m {
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("%s: both objects hold %q (which one jsonMerge keeps is unconfirmed)", expr, k)
			}
			out[k] = v
		}
	}
	return out, nil
}

// construct builds a constructor (InputConstructor, OutputConstructor,
// Parameters): a key ending in .$ takes the value of its expression, other
// values are copied, nested objects built alike ("Inputs and outputs").
func (s *scope) construct(c map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(c))
	for k, v := range c {
		if name, ok := strings.CutSuffix(k, ".$"); ok {
			expr, isStr := v.(string)
			if !isStr {
				return nil, fmt.Errorf("%s: an expression must be a string", k)
			}
			val, err := s.eval(expr)
			if err != nil {
				return nil, err
			}
			out[name] = val
			continue
		}
		if m, ok := v.(map[string]any); ok {
			built, err := s.construct(m)
			if err != nil {
				return nil, err
			}
			out[k] = built
			continue
		}
		out[k] = v
	}
	return out, nil
}

// condition evaluates a Choice condition of the form `<path> <op>
// <literal>`, op one of == != > >= < <=, literal a "string", a number,
// true, false or null ("Choice", conditional expressions). Compound
// conditions (&&, ||) and functions are refused.
func (s *scope) condition(cond string) (bool, error) {
	if strings.Contains(cond, "&&") || strings.Contains(cond, "||") || strings.Contains(cond, "(") {
		return false, fmt.Errorf("condition %q: only one comparison is implemented", cond)
	}
	for _, op := range []string{"==", "!=", ">=", "<=", ">", "<"} {
		left, right, ok := strings.Cut(cond, op)
		if !ok {
			continue
		}
		l, err := s.eval(left)
		if err != nil {
			return false, err
		}
		var r any
		if err := json.Unmarshal([]byte(strings.TrimSpace(right)), &r); err != nil {
			return false, fmt.Errorf("condition %q: the right side must be a JSON literal", cond)
		}
		return compare(l, op, r)
	}
	return false, fmt.Errorf("condition %q: no comparison operator", cond)
}

func compare(l any, op string, r any) (bool, error) {
	switch op {
	case "==":
		return fmt.Sprint(l) == fmt.Sprint(r) && typeName(l) == typeName(r), nil
	case "!=":
		return fmt.Sprint(l) != fmt.Sprint(r) || typeName(l) != typeName(r), nil
	}
	ln, lok := l.(float64)
	rn, rok := r.(float64)
	if !lok || !rok {
		return false, fmt.Errorf("%v %s %v: ordering compares numbers only", l, op, r)
	}
	switch op {
	case ">":
		return ln > rn, nil
	case ">=":
		return ln >= rn, nil
	case "<":
		return ln < rn, nil
	}
	return ln <= rn, nil
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }

// toJSONValue normalises a Go value into the JSON model (map[string]any,
// []any, float64, string, bool, nil).
func toJSONValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	case string:
		f, err := strconv.ParseFloat(n, 64)
		return f, err == nil
	}
	return 0, false
}
