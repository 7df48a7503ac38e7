package flowtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sync"
)

// task runs a Task state: Action FC:InvokeFunction, TaskMode
// RequestComplete, Parameters resourceArn, invocationType Sync and body
// (built like a constructor) ("Task", "Integrate CloudFlow with Function
// Compute"). Async invocation and the callback task modes are refused.
// The output is {"Body": <the function's JSON answer>} — the shape of an
// FC task's output is unconfirmed; flows/ assume $Output.Body.
// A function error is retried by the first Retry rule naming it (FnF.ALL:
// any), IntervalSeconds × BackoffRate^n capped at MaxBackoffSeconds, at
// most MaxAttempts times ("Error handling").
func (r *run) task(ctx context.Context, st map[string]any, sc *scope) (any, *StateError, error) {
	if st["Action"] != "FC:InvokeFunction" || st["TaskMode"] != "RequestComplete" {
		return nil, nil, fmt.Errorf("a Task with Action %v and TaskMode %v: only FC:InvokeFunction RequestComplete is implemented", st["Action"], st["TaskMode"])
	}
	params, _ := st["Parameters"].(map[string]any)
	if err := checkFields("Parameters", params, "resourceArn", "invocationType", "body", "body.$"); err != nil {
		return nil, nil, err
	}
	if params["invocationType"] != "Sync" {
		return nil, nil, fmt.Errorf("invocationType %v: only Sync is implemented", params["invocationType"])
	}
	arn, _ := params["resourceArn"].(string)
	built, err := sc.construct(params)
	if err != nil {
		return nil, nil, err
	}
	body, err := json.Marshal(built["body"])
	if err != nil {
		return nil, nil, err
	}
	attempts := map[int]int{}
	for {
		r.invokes.Add(1)
		payload, fcErr, err := r.opts.Invoker.Invoke(ctx, arn, body)
		if err != nil {
			return nil, nil, fmt.Errorf("invoking %s: %w", arn, err)
		}
		if fcErr == nil {
			var v any
			if err := json.Unmarshal(payload, &v); err != nil {
				return nil, nil, fmt.Errorf("the function answered non-JSON %q", payload)
			}
			return map[string]any{"Body": v}, nil, nil
		}
		serr := &StateError{Code: fcErr.Type, Detail: fcErr.Message}
		delay, retry, err := retryDelay(st["Retry"], serr.Code, attempts)
		if err != nil {
			return nil, nil, err
		}
		if !retry {
			return nil, serr, nil
		}
		if err := r.sleep(ctx, delay); err != nil {
			return nil, nil, err
		}
	}
}

// retryDelay picks the first rule naming code and counts an attempt of it.
func retryDelay(rules any, code string, attempts map[int]int) (float64, bool, error) {
	list, _ := rules.([]any)
	for i, raw := range list {
		rule, _ := raw.(map[string]any)
		if err := checkFields(fmt.Sprintf("Retry[%d]", i), rule, "Errors", "Description", "MaxAttempts", "IntervalSeconds", "BackoffRate", "MaxBackoffSeconds"); err != nil {
			return 0, false, err
		}
		if !matches(rule["Errors"], code) {
			continue
		}
		maxAttempts, _ := num(rule["MaxAttempts"])
		if float64(attempts[i]) >= maxAttempts {
			return 0, false, nil
		}
		interval, _ := num(rule["IntervalSeconds"])
		rate, ok := num(rule["BackoffRate"])
		if !ok {
			rate = 1
		}
		delay := interval * math.Pow(rate, float64(attempts[i]))
		if capSecs, ok := num(rule["MaxBackoffSeconds"]); ok && delay > capSecs {
			delay = capSecs
		}
		attempts[i]++
		return delay, true, nil
	}
	return 0, false, nil
}

// mapState runs a Map: distributed when it has a ProcessorConfig
// (distributed.go), inline otherwise. Inline: ItemsPath gives the array,
// each item runs the Processor as its input, at most MaxConcurrency (the
// pages' spelling MaxConcuccency too; default 40) at once; the output is
// {"Items": [...]} in item order ("Map state: inline mode"). An iteration
// ending in an error: nothing new starts, the running ones finish, and the
// Map fails with the error of the lowest such item (unconfirmed; the
// inline flow catches every item's error).
func (r *run) mapState(ctx context.Context, st map[string]any, sc *scope) (any, *StateError, error) {
	if _, ok := st["ProcessorConfig"]; ok {
		return r.distributedMap(ctx, st, sc)
	}
	for _, k := range distributedOnlyFields {
		if _, ok := st[k]; ok {
			return nil, nil, fmt.Errorf("%s is a distributed-mode field: this Map has no ProcessorConfig (Distributed mode)", k)
		}
	}
	path, _ := st["ItemsPath"].(string)
	items, err := itemsAt(sc, path)
	if err != nil {
		return nil, nil, err
	}
	proc, err := processor(st)
	if err != nil {
		return nil, nil, err
	}
	results, err := fanOut(ctx, items, concurrency(st, DefaultMapConcurrency), func(_ int, item any) (any, *StateError, error) {
		return r.scope(ctx, proc, item, false)
	}, func(failed int) bool { return failed > 0 })
	if err != nil {
		return nil, nil, err
	}
	out := make([]any, len(items))
	for i, res := range results {
		if res.serr != nil {
			return nil, res.serr, nil
		}
		out[i] = res.out
	}
	return map[string]any{"Items": out}, nil, nil
}

// itemsAt evaluates a Map's ItemsPath, which must give an array.
func itemsAt(sc *scope, path string) ([]any, error) {
	v, err := sc.eval(path)
	if err != nil {
		return nil, err
	}
	items, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("ItemsPath %s is not an array", path)
	}
	return items, nil
}

// processor returns a Map's Processor, checking its fields.
func processor(st map[string]any) (map[string]any, error) {
	proc, ok := st["Processor"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a Map state without Processor")
	}
	return proc, checkFields("Processor", proc, "StartAt", "States")
}

// concurrency is a Map's MaxConcurrency (or the pages' MaxConcuccency),
// else def.
func concurrency(st map[string]any, def int) int {
	conc := def
	for _, k := range []string{"MaxConcurrency", "MaxConcuccency"} {
		if n, ok := num(st[k]); ok {
			conc = int(n)
		}
	}
	return max(conc, 1)
}

// itemResult is how one Map item ended: not started, or its output or the
// FDL error that ended its iteration.
type itemResult struct {
	started bool
	out     any
	serr    *StateError
}

// fanOut runs each item in order, at most conc at once. Before starting
// an item it asks halt with the failures so far: once that says stop,
// nothing new starts and the running items finish. An executor error
// (err) stops it the same way and is returned.
func fanOut(ctx context.Context, items []any, conc int, run func(i int, item any) (any, *StateError, error), halt func(failed int) bool) ([]itemResult, error) {
	results := make([]itemResult, len(items))
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed int
		ferr   error
	)
	sem := make(chan struct{}, conc)
	for i, item := range items {
		sem <- struct{}{}
		mu.Lock()
		stop := ferr != nil || halt(failed)
		if !stop {
			results[i].started = true
		}
		mu.Unlock()
		if stop {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o, serr, err := run(i, item)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				if ferr == nil {
					ferr = err
				}
			case serr != nil:
				results[i].serr = serr
				failed++
			default:
				results[i].out = o
			}
		}()
	}
	wg.Wait()
	return results, ferr
}
