package function

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// The instance's identity: a rollback stops the instance in KeepCharging
// mode, which keeps its resources, yet a start can still give it another
// public IP (a public IP not bound as an EIP) or find its network changed
// meanwhile. The plan's DescribeInstances records each instance's network
// (private IPs, EIP and public IPs, security groups, VPC and vSwitch)
// before the stop; after the start one more DescribeInstances reads it
// again, and every difference is a warning in Result.Warnings (and the
// IdentityCheck step). Nothing is changed back: the operator decides.

// identityPhase reads the started instances' network and compares it with
// what the plan recorded.
func (r *run) identityPhase(ctx context.Context) error {
	r.readIdentityAfter(ctx)
	return nil
}

// readIdentityAfter reads the network of the started instances (once).
func (r *run) readIdentityAfter(ctx context.Context) {
	ids := r.gateTargets()
	if len(ids) == 0 {
		return
	}
	start := r.h.now()
	insts, err := r.ecs.DescribeInstances(ctx, r.req.RegionID, ids)
	if err != nil {
		_ = r.timed("IdentityCheck", strings.Join(ids, ","), start, err, "")
		return
	}
	if r.netAfter == nil {
		r.netAfter = map[string]Network{}
	}
	var warnings []string
	for _, in := range insts {
		r.netAfter[in.InstanceID] = in.Network
		if before, ok := r.netBefore[in.InstanceID]; ok {
			warnings = append(warnings, identityChanges(in.InstanceID, before, in.Network)...)
		}
	}
	r.res.Warnings = append(r.res.Warnings, warnings...)
	msg := "private IPs, EIP and public IPs, security groups, VPC and vSwitch as before the stop"
	if len(warnings) > 0 {
		msg = "changed since before the stop: " + strings.Join(warnings, "; ")
	}
	r.step(Step{Name: "IdentityCheck", Target: strings.Join(ids, ","), Outcome: StatusSucceeded, Message: msg, DurationMs: r.h.since(start)})
}

// identityChanges lists what differs between two views of an instance.
func identityChanges(id string, a, b Network) []string {
	var out []string
	field := func(name, x, y string) {
		if x != y {
			out = append(out, fmt.Sprintf("%s: %s changed from %q to %q", id, name, x, y))
		}
	}
	list := func(name string, x, y []string) {
		xs, ys := slices.Sorted(slices.Values(x)), slices.Sorted(slices.Values(y))
		if !slices.Equal(xs, ys) {
			out = append(out, fmt.Sprintf("%s: %s changed from [%s] to [%s]", id, name, strings.Join(xs, ","), strings.Join(ys, ",")))
		}
	}
	list("private IPs", a.PrivateIps, b.PrivateIps)
	list("public IPs", a.PublicIps, b.PublicIps)
	field("EIP", a.EipAddress, b.EipAddress)
	list("security groups", a.SecurityGroupIDs, b.SecurityGroupIDs)
	field("VPC", a.VpcID, b.VpcID)
	field("vSwitch", a.VSwitchID, b.VSwitchID)
	return out
}
