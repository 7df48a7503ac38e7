package flowtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// The distributed mode of the Map state, as far as the flows use it. Every
// rule cites the CloudFlow page it follows: "Distributed mode" (its field
// table and concepts), "Map states" (the limits of each mode), "Limits",
// "DescribeMapRun" and "UpdateMapRun" (the MapRun's counts and quota). The
// stored copies of "Distributed mode" end before its ItemReader,
// ResultWriter and tolerance sections: what those sections would settle is
// marked unconfirmed below, and the executor takes the stricter reading.

const (
	// MaxDistributedItems is a distributed Map's item limit by default
	// ("Map states": 10,000, raised to 1,000,000 on request). Past it the
	// Map fails.
	MaxDistributedItems = 10000
	// DefaultDistributedConcurrency is a distributed Map's concurrency when
	// the flow sets none ("Map states": 100 by default).
	DefaultDistributedConcurrency = 100
)

// Error codes the executor gives a distributed Map's failures. CloudFlow's
// own names for them are unconfirmed, so these say they are the
// executor's: flows must catch them with FnF.ALL, never by name.
const (
	CodeToleranceExceeded = "flowtest.ToleratedFailuresExceeded"
	CodeItemReaderFailed  = "flowtest.ItemReaderFailed"
	CodeTooManyItems      = "flowtest.TooManyItems"
)

// distributedOnlyFields are the Map fields of the distributed mode alone
// ("Distributed mode" field table; "Inline mode" has none of them).
var distributedOnlyFields = []string{"ProcessorConfig", "ItemConstructor", "ItemReader", "ResultWriter", "ToleratedFailurePercentage", "ToleratedFailurePercentage.$"}

// distributedOutput is a distributed Map's output: what CloudFlow gives
// (with or without ResultWriter) is unconfirmed, so it holds nothing a flow
// can read — a path into it is refused like any missing field.
var distributedOutput = map[string]any{"Unconfirmed": "the output of a distributed Map is unconfirmed; read the results from OSS"}

// distributedMap runs a Map in distributed mode ("Distributed mode"):
//   - ProcessorConfig.ExecutionMode: each item runs the Processor as a
//     sub-workflow execution of its own, Standard or Express (the page's
//     older version names Express alone, the newer one both). In it,
//     $Context.Execution is the sub-execution's: Name <execution>/<state>/<index>
//     (the real name is unconfirmed), Input the item.
//   - the items: ItemsPath over the state's input, or ItemReader from OSS
//     (one of the two; "How it works" says or).
//   - ItemConstructor builds each item's input; $Item is the item, any
//     other expression is evaluated in the Map's own scope (the parent
//     execution's $Context and the state's $Input; unconfirmed).
//   - MaxConcuccency (or MaxConcurrency), 100 by default ("Map states").
//   - ToleratedFailurePercentage (or, unconfirmed, .$ from an expression):
//     more failed items than that percentage of all the items fails the
//     Map; 0 by default — "a failed sub-workflow fails the Map" (concepts).
//     Once it is exceeded nothing new starts; the running items finish
//     (whether CloudFlow aborts them is unconfirmed; DescribeMapRun
//     counts Aborted items).
//   - ResultWriter writes every started item's result to OSS, whether the
//     Map succeeded or failed (both unconfirmed, as is CloudFlow's object
//     layout; resultObject is the executor's).
func (r *run) distributedMap(ctx context.Context, st map[string]any, sc *scope) (any, *StateError, error) {
	name, _ := st["Name"].(string)
	pc, _ := st["ProcessorConfig"].(map[string]any)
	if err := checkFields("ProcessorConfig", pc, "ExecutionMode"); err != nil {
		return nil, nil, err
	}
	if mode := pc["ExecutionMode"]; mode != "Standard" && mode != "Express" {
		return nil, nil, fmt.Errorf("ProcessorConfig.ExecutionMode %v: Standard or Express (Distributed mode)", mode)
	}
	proc, err := processor(st)
	if err != nil {
		return nil, nil, err
	}
	items, serr, err := r.distributedItems(st, sc)
	if err != nil || serr != nil {
		return nil, serr, err
	}
	if len(items) > MaxDistributedItems {
		return nil, &StateError{Code: CodeTooManyItems, Detail: fmt.Sprintf("%d items, over the distributed mode's %d (Map states)", len(items), MaxDistributedItems)}, nil
	}
	tolerated, err := toleratedPercent(st, sc)
	if err != nil {
		return nil, nil, err
	}
	ic, hasIC := st["ItemConstructor"].(map[string]any)
	inputs := make([]any, len(items))
	for i, item := range items {
		inputs[i] = item
		if hasIC {
			is := *sc
			is.item, is.hasItem = item, true
			if inputs[i], err = is.construct(ic); err != nil {
				return nil, nil, fmt.Errorf("ItemConstructor, item %d: %w", i, err)
			}
		}
	}
	exceeded := func(failed int) bool { return float64(failed)*100 > tolerated*float64(len(items)) }
	results, err := fanOut(ctx, inputs, concurrency(st, DefaultDistributedConcurrency), func(i int, in any) (any, *StateError, error) {
		sub := &run{opts: r.opts, name: fmt.Sprintf("%s/%s/%d", r.name, name, i), input: in, history: map[string]any{}}
		defer func() { r.states.Add(sub.states.Load()); r.invokes.Add(sub.invokes.Load()) }()
		return sub.scope(ctx, proc, in, false)
	}, exceeded)
	if err != nil {
		return nil, nil, err
	}
	if err := r.writeResults(st, sc, name, inputs, results); err != nil {
		return nil, nil, err
	}
	failed, started := 0, 0
	for _, res := range results {
		if res.started {
			started++
		}
		if res.serr != nil {
			failed++
		}
	}
	if exceeded(failed) {
		return nil, &StateError{Code: CodeToleranceExceeded, Detail: fmt.Sprintf("%d of %d items failed, over the tolerated %g%%; %d never started", failed, len(items), tolerated, len(items)-started)}, nil
	}
	return distributedOutput, nil, nil
}

// distributedItems reads the items: ItemsPath, or ItemReader from OSS.
// ItemReader: SourceType OSS_JSON_LIST, an object holding a JSON array
// ("Map states" lists JSON files in OSS as a source; the SourceType string
// and SourceParameters Bucket and ObjectName are unconfirmed, and so is
// building SourceParameters like a constructor, .$ keys included). Other
// source types are refused. An object that is missing or not a JSON array
// fails the Map.
func (r *run) distributedItems(st map[string]any, sc *scope) ([]any, *StateError, error) {
	reader, hasReader := st["ItemReader"].(map[string]any)
	path, hasPath := st["ItemsPath"].(string)
	if hasReader == hasPath {
		return nil, nil, fmt.Errorf("a distributed Map takes its items from ItemsPath or ItemReader, one of the two")
	}
	if hasPath {
		items, err := itemsAt(sc, path)
		return items, nil, err
	}
	if err := checkFields("ItemReader", reader, "SourceType", "SourceParameters"); err != nil {
		return nil, nil, err
	}
	if reader["SourceType"] != "OSS_JSON_LIST" {
		return nil, nil, fmt.Errorf("ItemReader SourceType %v: only OSS_JSON_LIST is implemented", reader["SourceType"])
	}
	params, err := ossParams(sc, reader["SourceParameters"], "SourceParameters", "Bucket", "ObjectName")
	if err != nil {
		return nil, nil, err
	}
	if r.opts.OSS == nil {
		return nil, nil, fmt.Errorf("an ItemReader needs Options.OSS")
	}
	b, ok := r.opts.OSS.Get(params["Bucket"], params["ObjectName"])
	if !ok {
		return nil, &StateError{Code: CodeItemReaderFailed, Detail: fmt.Sprintf("oss://%s/%s does not exist", params["Bucket"], params["ObjectName"])}, nil
	}
	var items []any
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, &StateError{Code: CodeItemReaderFailed, Detail: fmt.Sprintf("oss://%s/%s is not a JSON array: %v", params["Bucket"], params["ObjectName"], err)}, nil
	}
	return items, nil, nil
}

// ossParams builds a parameters object like a constructor and returns its
// string fields, which must be exactly the given ones, none empty.
func ossParams(sc *scope, raw any, where string, fields ...string) (map[string]string, error) {
	m, _ := raw.(map[string]any)
	allowed := append([]string{}, fields...)
	for _, f := range fields {
		allowed = append(allowed, f+".$")
	}
	if err := checkFields(where, m, allowed...); err != nil {
		return nil, err
	}
	built, err := sc.construct(m)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, f := range fields {
		s, _ := built[f].(string)
		if s == "" {
			return nil, fmt.Errorf("%s.%s must be a non-empty string", where, f)
		}
		out[f] = s
	}
	return out, nil
}

// toleratedPercent is ToleratedFailurePercentage, a number 0-100 given as
// is or (unconfirmed) as a .$ expression; 0 when absent.
func toleratedPercent(st map[string]any, sc *scope) (float64, error) {
	v, has := st["ToleratedFailurePercentage"]
	if expr, ok := st["ToleratedFailurePercentage.$"].(string); ok {
		if has {
			return 0, fmt.Errorf("ToleratedFailurePercentage given twice")
		}
		var err error
		if v, err = sc.eval(expr); err != nil {
			return 0, err
		}
		has = true
	}
	if !has {
		return 0, nil
	}
	p, ok := v.(float64)
	if !ok || p < 0 || p > 100 {
		return 0, fmt.Errorf("ToleratedFailurePercentage %v: a number from 0 to 100", v)
	}
	return p, nil
}

// itemRecord is one started item's result as the executor writes it.
type itemRecord struct {
	Index  int         `json:"Index"`
	Input  any         `json:"Input"`
	Status string      `json:"Status"` // Succeeded or Failed
	Output any         `json:"Output,omitempty"`
	Error  *StateError `json:"Error,omitempty"`
}

// resultObject is where the executor writes a Map's results: ResultWriter's
// Prefix, then <execution>/<state>.json (CloudFlow's layout is unconfirmed).
func resultObject(prefix, execution, state string) string {
	return prefix + execution + "/" + state + ".json"
}

// writeResults writes every started item's result when the Map has a
// ResultWriter: Parameters Bucket and Prefix (unconfirmed, like ItemReader's).
func (r *run) writeResults(st map[string]any, sc *scope, state string, inputs []any, results []itemResult) error {
	rw, ok := st["ResultWriter"].(map[string]any)
	if !ok {
		return nil
	}
	if err := checkFields("ResultWriter", rw, "Parameters"); err != nil {
		return err
	}
	params, err := ossParams(sc, rw["Parameters"], "ResultWriter.Parameters", "Bucket", "Prefix")
	if err != nil {
		return err
	}
	if r.opts.OSS == nil {
		return fmt.Errorf("a ResultWriter needs Options.OSS")
	}
	var records []itemRecord
	for i, res := range results {
		if !res.started {
			continue
		}
		rec := itemRecord{Index: i, Input: inputs[i], Status: "Succeeded", Output: res.out}
		if res.serr != nil {
			rec.Status, rec.Output, rec.Error = "Failed", nil, res.serr
		}
		records = append(records, rec)
	}
	b, err := json.Marshal(records)
	if err != nil {
		return err
	}
	r.opts.OSS.Put(params["Bucket"], resultObject(params["Prefix"], strings.ReplaceAll(r.name, "/", "-"), state), b)
	return nil
}
