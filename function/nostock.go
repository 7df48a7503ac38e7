package function

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// noStockCodes are StartInstance's refusals for lack of capacity (the
// StartInstance error table): the zone may have capacity again in a
// moment, so the start is asked again with back-off within the deadline.
var noStockCodes = []string{"OperationDenied.NoStock", "LackResource", "Invalid.PrivatePoolOptions.NoStock", "InvalidDedicatedHost.NotEnoughResource"}

// isNoStock reports a StartInstance refusal for lack of stock.
func isNoStock(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && slices.Contains(noStockCodes, ae.Code)
}

// startDespiteNoStock asks StartInstance again, on the common polling
// schedule, while ECS refuses it for lack of stock; it returns the last
// answer. A start still refused at the deadline records the cause, which
// the answer (InstanceNotRestarted) names.
func (r *run) startDespiteNoStock(ctx context.Context, id string, start time.Time, err error) error {
	first := FromECS("StartInstance", err)
	calls := 1
	r.w.poll(ctx, func(ctx context.Context) (bool, error) {
		calls++
		err = r.ecs.StartInstance(ctx, r.req.RegionID, id, false)
		return !isNoStock(err), nil
	})
	step := Step{Name: "StartInstanceRetry", Target: id, DurationMs: r.h.since(start)}
	if isNoStock(err) {
		fe := FromECS("StartInstance", err)
		step.Outcome, step.Code, step.RequestID = StatusFailed, fe.Code, fe.RequestID
		step.Message = fmt.Sprintf("%d StartInstance calls refused for lack of stock until the deadline: %s", calls, fe.Message)
		if r.startCause == nil {
			r.startCause = map[string]string{}
		}
		r.startCause[id] = fe.Code + ": " + fe.Message
	} else {
		step.Outcome = StatusSucceeded
		step.Message = fmt.Sprintf("%d StartInstance calls: refused for lack of stock (%s) before the last one", calls, first.Code)
	}
	r.step(step)
	return err
}

// describeNotRestarted lists ids, each with the cause of its last refused
// start when one is known.
func (r *run) describeNotRestarted(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id
		if c := r.startCause[id]; c != "" {
			out[i] += " (" + c + ")"
		}
	}
	return strings.Join(out, ", ")
}
