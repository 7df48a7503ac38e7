// Package flowtest is a test-only executor of the subset of CloudFlow's
// flow definition language (FDL, SpecVersion v1) that flows/ use, so the
// flows can run in tests against the real function binary. It is a test
// double of CloudFlow, never linked into the function. Each rule cites the
// CloudFlow page it follows; anything else — a state type, field,
// expression or invocation type it does not implement — is refused with an
// error rather than guessed.
//
// Pages (Alibaba Cloud CloudFlow / Serverless Workflow documentation):
// "Flow definition", "Task", "Integrate CloudFlow with Function Compute",
// "Map state: inline mode", "Distributed mode", "Map states", "Choice",
// "Pass", "Wait", "Succeed", "Fail state", "Error handling", "Inputs and
// outputs", "Data passing".
package flowtest

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/retry"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxStateBytes is the cap on a state's input and output: 64 KiB, beyond
// which the execution fails ("Inputs and outputs").
const MaxStateBytes = 64 << 10

// DefaultMapConcurrency is an inline Map's concurrency when the flow sets
// none ("Map state: inline mode": 40 by default).
const DefaultMapConcurrency = 40

// Invoker invokes the function synchronously: the payload of a success, or
// the FC error (errorType, errorMessage) of a failure. err is for no
// outcome at all (the executor stops).
type Invoker interface {
	Invoke(ctx context.Context, resourceArn string, body []byte) (payload []byte, fcErr *FCError, err error)
}

// FCError is a function's failure: CloudFlow matches Retry/Catch Errors on
// Type ("Error handling"; custom errorType matching is unconfirmed).
type FCError struct{ Type, Message string }

// Options configure an executor.
type Options struct {
	Invoker Invoker
	// TimeScale is how long one second of Wait or retry interval lasts
	// (test speed-up); 0 means a real second.
	TimeScale time.Duration
	// OSS holds the buckets distributed Maps read and write (ItemReader,
	// ResultWriter); nil refuses them.
	OSS *OSS
}

// Flow is a parsed flow definition.
type Flow struct {
	Name string
	root map[string]any
}

// Load parses a flow file, checking the top-level fields ("Flow definition").
func Load(path string) (*Flow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := yaml.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	v, err := toJSONValue(raw)
	if err != nil {
		return nil, err
	}
	root := v.(map[string]any)
	if root["Type"] != "StateMachine" || root["SpecVersion"] != "v1" {
		return nil, fmt.Errorf("%s: Type %v SpecVersion %v: only StateMachine v1 is implemented", path, root["Type"], root["SpecVersion"])
	}
	if err := checkFields("flow", root, "Type", "Name", "SpecVersion", "Description", "StartAt", "States"); err != nil {
		return nil, err
	}
	name, _ := root["Name"].(string)
	return &Flow{Name: name, root: root}, nil
}

// Execution is the outcome of one run.
type Execution struct {
	Status string // Succeeded or Failed
	Output map[string]any
	Error  *StateError // the Fail state's Code/Detail, or the uncaught error
	// History holds the last output of each top-level state, by name (what
	// GetExecutionHistory would show).
	History map[string]any
	// States counts every state run, Map iterations' included; Invocations
	// every function invocation (retries included).
	States, Invocations int64
}

// StateError is an FDL error: Code and Detail ("Data passing",
// $Context.Current.Error).
type StateError struct {
	Code, Detail string
}

func (e *StateError) Error() string { return e.Code + ": " + e.Detail }

func (e *StateError) value() map[string]any {
	return map[string]any{"Code": e.Code, "Detail": e.Detail}
}

type run struct {
	opts            Options
	name            string
	input           any
	states, invokes atomic.Int64
	mu              sync.Mutex
	history         map[string]any
}

// Run executes the flow with the given input and execution name.
func (f *Flow) Run(ctx context.Context, opts Options, name string, input any) (*Execution, error) {
	in, err := toJSONValue(input)
	if err != nil {
		return nil, err
	}
	r := &run{opts: opts, name: name, input: in, history: map[string]any{}}
	out, serr, err := r.scope(ctx, f.root, in, true)
	if err != nil {
		return nil, err
	}
	ex := &Execution{History: r.history, States: r.states.Load(), Invocations: r.invokes.Load()}
	if serr != nil {
		ex.Status, ex.Error = "Failed", serr
		return ex, nil
	}
	ex.Status = "Succeeded"
	ex.Output, _ = out.(map[string]any)
	return ex, nil
}

// scope runs a scope (the flow, or a Map's Processor) from StartAt until a
// state ends it ("Flow definition": Next/End; Succeed and Fail end it).
func (r *run) scope(ctx context.Context, sc map[string]any, input any, top bool) (any, *StateError, error) {
	states := map[string]map[string]any{}
	list, _ := sc["States"].([]any)
	for _, s := range list {
		st, _ := s.(map[string]any)
		name, _ := st["Name"].(string)
		states[name] = st
	}
	cur, _ := sc["StartAt"].(string)
	data := input
	for {
		st, ok := states[cur]
		if !ok {
			return nil, nil, fmt.Errorf("no state %q in its scope", cur)
		}
		out, next, serr, err := r.state(ctx, st, data)
		if err != nil {
			return nil, nil, fmt.Errorf("state %s: %w", cur, err)
		}
		if top {
			r.mu.Lock()
			if serr != nil {
				r.history[cur] = serr.value()
			} else {
				r.history[cur] = out
			}
			r.mu.Unlock()
		}
		if serr != nil || next == "" {
			return out, serr, nil
		}
		cur, data = next, out
	}
}

var stateFields = map[string][]string{
	"Task":    {"Next", "End", "Action", "TaskMode", "Parameters", "Retry", "Catch"},
	"Pass":    {"Next", "End"},
	"Wait":    {"Next", "End", "Seconds"},
	"Choice":  {"Branches", "Default"},
	"Fail":    {"Code", "Detail"},
	"Succeed": {},
	"Map":     append([]string{"Next", "End", "ItemsPath", "Processor", "Catch", "MaxConcurrency", "MaxConcuccency"}, distributedOnlyFields...),
}

func checkFields(where string, m map[string]any, allowed ...string) error {
	for k := range m {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("%s: field %s is not implemented by the executor", where, k)
		}
	}
	return nil
}

// state runs one state: InputConstructor, the state's work, then
// OutputConstructor ("Inputs and outputs"). It returns the output and the
// next state ("" to end the scope), or an FDL error that ended the scope.
func (r *run) state(ctx context.Context, st map[string]any, input any) (any, string, *StateError, error) {
	r.states.Add(1)
	typ, _ := st["Type"].(string)
	name, _ := st["Name"].(string)
	own, ok := stateFields[typ]
	if !ok {
		return nil, "", nil, fmt.Errorf("state type %q is not implemented", typ)
	}
	if err := checkFields(name, st, append([]string{"Type", "Name", "Description", "InputConstructor", "OutputConstructor"}, own...)...); err != nil {
		return nil, "", nil, err
	}
	if err := sizeCheck(name+" input", input); err != nil {
		return nil, "", nil, err
	}
	sc := &scope{execName: r.name, execInput: r.input, name: name, input: input}
	if ic, ok := st["InputConstructor"].(map[string]any); ok {
		built, err := sc.construct(ic)
		if err != nil {
			return nil, "", nil, err
		}
		sc.input = built
	}
	next, _ := st["Next"].(string)
	var out any
	var serr *StateError
	var err error
	switch typ {
	case "Pass", "Succeed": // output = input ("Pass", "Succeed")
		out = sc.input
		if typ == "Succeed" {
			next = ""
		}
	case "Fail": // ends the execution with Code and Detail ("Fail state")
		code, _ := st["Code"].(string)
		detail, _ := st["Detail"].(string)
		return nil, "", &StateError{Code: code, Detail: detail}, nil
	case "Wait": // Seconds, then output = input ("Wait")
		secs, ok := num(st["Seconds"])
		if !ok {
			return nil, "", nil, fmt.Errorf("a Wait state needs Seconds (SecondsPath and Timestamp are not implemented)")
		}
		if err := r.sleep(ctx, secs); err != nil {
			return nil, "", nil, err
		}
		out = sc.input
	case "Choice": // first branch whose Condition holds, else Default ("Choice")
		target, _ := st["Default"].(string)
		branches, _ := st["Branches"].([]any)
		for _, b := range branches {
			bm, _ := b.(map[string]any)
			cond, _ := bm["Condition"].(string)
			holds, err := sc.condition(cond)
			if err != nil {
				return nil, "", nil, err
			}
			if holds {
				target, _ = bm["Next"].(string)
				break
			}
		}
		if target == "" {
			return nil, "", nil, fmt.Errorf("no branch holds and no Default")
		}
		return sc.input, target, nil, nil
	case "Task":
		out, serr, err = r.task(ctx, st, sc)
	case "Map":
		out, serr, err = r.mapState(ctx, st, sc)
	}
	if err != nil {
		return nil, "", nil, err
	}
	if serr != nil {
		return r.catch(st, sc, serr)
	}
	if oc, ok := st["OutputConstructor"].(map[string]any); ok {
		sc.output, sc.hasOutput = out, true
		if out, err = sc.construct(oc); err != nil {
			return nil, "", nil, err
		}
	}
	if err := sizeCheck(name+" output", out); err != nil {
		return nil, "", nil, err
	}
	if end, _ := st["End"].(bool); end {
		next = ""
	}
	return out, next, nil, nil
}

// catch applies the first Catch rule whose Errors name the error (FnF.ALL:
// any); its OutputConstructor sees $Context.Current.Error and the state's
// input, never $Output ("Error handling", "Data passing"). No rule: the
// error ends the scope.
func (r *run) catch(st map[string]any, sc *scope, serr *StateError) (any, string, *StateError, error) {
	rules, _ := st["Catch"].([]any)
	for i, raw := range rules {
		rule, _ := raw.(map[string]any)
		if err := checkFields(fmt.Sprintf("Catch[%d]", i), rule, "Errors", "Description", "OutputConstructor", "Next"); err != nil {
			return nil, "", nil, err
		}
		if !matches(rule["Errors"], serr.Code) {
			continue
		}
		oc, ok := rule["OutputConstructor"].(map[string]any)
		if !ok {
			return nil, "", nil, fmt.Errorf("a Catch without OutputConstructor: its output is unconfirmed")
		}
		cs := &scope{execName: sc.execName, execInput: sc.execInput, name: sc.name, input: sc.input, err: serr.value()}
		out, err := cs.construct(oc)
		if err != nil {
			return nil, "", nil, err
		}
		next, _ := rule["Next"].(string)
		return out, next, nil, nil
	}
	return nil, "", serr, nil
}

func matches(errors any, code string) bool {
	list, _ := errors.([]any)
	for _, e := range list {
		if e == code || e == "FnF.ALL" {
			return true
		}
	}
	return false
}

func (r *run) sleep(ctx context.Context, seconds float64) error {
	unit := r.opts.TimeScale
	if unit == 0 {
		unit = time.Second
	}
	return retry.SleepContext(ctx, time.Duration(seconds*float64(unit)))
}

func sizeCheck(what string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) > MaxStateBytes {
		return fmt.Errorf("%s is %d bytes, over CloudFlow's 64 KiB: the execution would fail (Inputs and outputs)", what, len(b))
	}
	return nil
}
