package flowtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// itemInvoker answers {"Id": n, "Fail": bool} events: an FC error when
// Fail, else {"Id": n}. It counts the calls and the most at once.
type itemInvoker struct {
	mu           sync.Mutex
	calls, inFly int
	most         int
	parents      map[string]bool
}

func (v *itemInvoker) Invoke(_ context.Context, _ string, body []byte) ([]byte, *FCError, error) {
	var ev struct {
		ID     int    `json:"Id"`
		Fail   bool   `json:"Fail"`
		Parent string `json:"Parent"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, nil, err
	}
	v.mu.Lock()
	v.calls++
	v.inFly++
	v.most = max(v.most, v.inFly)
	if v.parents == nil {
		v.parents = map[string]bool{}
	}
	v.parents[ev.Parent] = true
	v.mu.Unlock()
	time.Sleep(time.Millisecond)
	v.mu.Lock()
	v.inFly--
	v.mu.Unlock()
	if ev.Fail {
		return nil, &FCError{Type: "RollbackFailed", Message: fmt.Sprint("item ", ev.ID)}, nil
	}
	return []byte(fmt.Sprintf(`{"Id":%d}`, ev.ID)), nil, nil
}

// distributedFlow is a flow of one distributed Map over the list in
// oss://fleet/items.json, its results under oss://fleet/results/, caught
// into Failed; mapFields are added to (or replace) the Map's.
func distributedFlow(t *testing.T, mapFields string) *Flow {
	t.Helper()
	def := `Type: StateMachine
Name: distributed-test
SpecVersion: v1
StartAt: Run
States:
  - Type: Map
    Name: Run
    ProcessorConfig:
      ExecutionMode: Standard
    ItemConstructor:
      Id.$: $Item.Id
      Fail.$: $Item.Fail
      Parent.$: $Context.Execution.Name
    ResultWriter:
      Parameters:
        Bucket: fleet
        Prefix: results/
    Processor:
      StartAt: Invoke
      States:
        - Type: Task
          Name: Invoke
          Action: FC:InvokeFunction
          TaskMode: RequestComplete
          Parameters:
            resourceArn: acs:fc:cn-hangzhou:1:functions/f/LATEST
            invocationType: Sync
            body.$: $Input
          End: true
` + mapFields + `
    Catch:
      - Errors: [FnF.ALL]
        OutputConstructor:
          Error.$: $Context.Current.Error
        Next: Failed
    Next: Done
  - Type: Succeed
    Name: Done
  - Type: Pass
    Name: Failed
    End: true
`
	path := filepath.Join(t.TempDir(), "flow.yaml")
	if err := os.WriteFile(path, []byte(def), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// seedItems writes n items, those in fail failing, to oss://fleet/items.json.
func seedItems(t *testing.T, oss *OSS, n int, fail ...int) {
	t.Helper()
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = map[string]any{"Id": i, "Fail": false}
	}
	for _, i := range fail {
		items[i]["Fail"] = true
	}
	b, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	oss.Put("fleet", "items.json", b)
}

const readerFields = `    ItemReader:
      SourceType: OSS_JSON_LIST
      SourceParameters:
        Bucket: fleet
        ObjectName: items.json`

func TestDistributedMap(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fields     string
		items      int
		fail       []int
		wantError  string // the Map's error code; "" = it succeeded
		wantCalls  int    // -1: fewer than items
		wantMost   int    // the most invocations at once, at most
		wantRecord int    // results written
	}{
		{name: "300 items from OSS, past the inline limits", fields: readerFields + "\n    MaxConcuccency: 20", items: 300, wantCalls: 300, wantMost: 20, wantRecord: 300},
		{name: "failures within the tolerated percentage", fields: readerFields + "\n    ToleratedFailurePercentage: 10", items: 20, fail: []int{3, 7}, wantCalls: 20, wantMost: 100, wantRecord: 20},
		{name: "past the tolerated percentage: the rest never start", fields: readerFields + "\n    MaxConcuccency: 2\n    ToleratedFailurePercentage: 10", items: 20, fail: []int{0, 1, 2},
			wantError: CodeToleranceExceeded, wantCalls: -1, wantMost: 2, wantRecord: -1},
		{name: "no tolerance: one failure fails the Map", fields: readerFields + "\n    MaxConcuccency: 1", items: 5, fail: []int{1}, wantError: CodeToleranceExceeded, wantCalls: 2, wantMost: 1, wantRecord: 2},
		{name: "tolerance from an expression", fields: readerFields + "\n    ToleratedFailurePercentage.$: $Input.Tolerated", items: 10, fail: []int{4}, wantCalls: 10, wantMost: 100, wantRecord: 10},
		{name: "the list is missing", fields: strings.Replace(readerFields, "items.json", "missing.json", 1), items: 3, wantError: CodeItemReaderFailed, wantRecord: 0},
		{name: "over the distributed mode's item limit", fields: readerFields, items: MaxDistributedItems + 1, wantError: CodeTooManyItems, wantRecord: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oss := NewOSS()
			seedItems(t, oss, tc.items, tc.fail...)
			inv := &itemInvoker{}
			ex, err := distributedFlow(t, tc.fields).Run(context.Background(), Options{Invoker: inv, TimeScale: time.Microsecond, OSS: oss}, "exec-1", map[string]any{"Tolerated": 10})
			if err != nil {
				t.Fatal(err)
			}
			gotError := ""
			if failed, ok := ex.History["Failed"].(map[string]any); ok {
				gotError = fmt.Sprint(failed["Error"].(map[string]any)["Code"])
			}
			if gotError != tc.wantError {
				t.Errorf("the Map's error = %q, want %q (%v)", gotError, tc.wantError, ex.History)
			}
			switch {
			case tc.wantCalls >= 0 && inv.calls != tc.wantCalls:
				t.Errorf("invocations = %d, want %d", inv.calls, tc.wantCalls)
			case tc.wantCalls < 0 && inv.calls >= tc.items:
				t.Errorf("invocations = %d: items started after the tolerance was exceeded", inv.calls)
			}
			if inv.most > tc.wantMost && tc.wantMost > 0 {
				t.Errorf("%d invocations at once, want at most %d", inv.most, tc.wantMost)
			}
			if inv.calls > 0 && (len(inv.parents) != 1 || !inv.parents["exec-1"]) {
				t.Errorf("ItemConstructor saw executions %v, want the parent exec-1", inv.parents)
			}
			var records []itemRecord
			if b, ok := oss.Get("fleet", resultObject("results/", "exec-1", "Run")); ok {
				if err := json.Unmarshal(b, &records); err != nil {
					t.Fatal(err)
				}
			}
			wantRecords := tc.wantRecord
			if wantRecords < 0 {
				wantRecords = inv.calls
			}
			if len(records) != wantRecords {
				t.Errorf("%d results in OSS, want %d", len(records), wantRecords)
			}
			for _, rec := range records {
				if wantFailed := contains(tc.fail, rec.Index); (rec.Status == "Failed") != wantFailed || (rec.Error != nil) != wantFailed {
					t.Errorf("result %+v: want failed %v", rec, wantFailed)
				}
			}
		})
	}
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// runState returns the flow's state named Run, to change in a test.
func runState(f *Flow) map[string]any {
	for _, s := range f.root["States"].([]any) {
		if m := s.(map[string]any); m["Name"] == "Run" {
			return m
		}
	}
	return nil
}

// TestDistributedMapRefuses: what the executor does not implement, or what
// the pages leave open, is refused rather than guessed.
func TestDistributedMapRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, fields string
		change       func(st map[string]any)
		noOSS        bool
		want         string
	}{
		{name: "another source type", fields: strings.Replace(readerFields, "OSS_JSON_LIST", "OSS_CSV", 1), want: "only OSS_JSON_LIST"},
		{name: "an unknown reader field", fields: readerFields + "\n      ReaderConfig: {}", want: "ReaderConfig"},
		{name: "items from both ItemsPath and ItemReader", fields: readerFields + "\n    ItemsPath: $Input.List", want: "one of the two"},
		{name: "a percentage out of range", fields: readerFields + "\n    ToleratedFailurePercentage: 120", want: "from 0 to 100"},
		{name: "reading the distributed Map's output", fields: readerFields + "\n    OutputConstructor:\n      Items.$: $Output.Items", want: `no field "Items"`},
		{name: "an unknown execution mode", fields: readerFields, change: func(st map[string]any) { st["ProcessorConfig"] = map[string]any{"ExecutionMode": "Inline"} }, want: "Standard or Express"},
		{name: "no OSS to read from", fields: readerFields, noOSS: true, want: "needs Options.OSS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oss := NewOSS()
			seedItems(t, oss, 2)
			f := distributedFlow(t, tc.fields)
			opts := Options{Invoker: &itemInvoker{}, TimeScale: time.Microsecond, OSS: oss}
			if tc.change != nil {
				tc.change(runState(f))
			}
			if tc.noOSS {
				opts.OSS = nil
			}
			_, err := f.Run(context.Background(), opts, "exec-1", map[string]any{"List": []any{}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}

func TestInlineMapRefusesDistributedFields(t *testing.T) {
	f := distributedFlow(t, "")
	st := runState(f)
	delete(st, "ProcessorConfig")
	st["ItemsPath"] = "$Input.List"
	_, err := f.Run(context.Background(), Options{Invoker: &itemInvoker{}}, "exec-1", map[string]any{"List": []any{}})
	if err == nil || !strings.Contains(err.Error(), "no ProcessorConfig") {
		t.Errorf("err = %v, want the distributed-only fields refused", err)
	}
}
