package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// Figures the reliability tests record; with E2E_FIGURES=path set they are
// written there (RELIABILITY.md shows the command that fills it).
var (
	figuresMu sync.Mutex
	figures   = map[string]string{}
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func recordFigure(name, text string) {
	figuresMu.Lock()
	defer figuresMu.Unlock()
	figures[name] = text
	if path := os.Getenv("E2E_FIGURES"); path != "" {
		keys := make([]string, 0, len(figures))
		for k := range figures {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "| %s | %s |\n", k, figures[k])
		}
		_ = os.WriteFile(path, []byte(b.String()), 0o644)
	}
}

// recordFault notes what the caller saw under a fault and the resets done.
func recordFault(name string, res *fcruntime.Result, r *function.Result, e *env) {
	seen := "result"
	switch {
	case res.Error != nil:
		seen = "error " + res.Error.Type
	case r != nil:
		var codes []string
		for _, p := range r.OperationProgressSet.OperationProgress {
			codes = append(codes, p.OperationStatus+p.ErrorCode)
		}
		seen = fmt.Sprintf("result %s [%s]", r.Summary.Status, strings.Join(codes, ", "))
	}
	recordFigure("fault: "+name, fmt.Sprintf("caller saw %s; ResetCount %d/%d; %d ECS requests", seen, e.ecs.ResetCount(sysDisk), e.ecs.ResetCount(dataDisk), len(e.ecs.Requests())))
}
