package function

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// fleetRequest is one instance's rollback request: the spec's Options,
// the instance and its planned instance snapshot, DryRun, and an
// idempotency key made of the execution's name and the instance, so a
// retried task (or a re-driven wave) never resets a disk twice.
func fleetRequest(spec *FleetSpec, instanceID, groupID, key string) (json.RawMessage, error) {
	m := make(map[string]any, len(spec.Options)+6)
	for k, v := range spec.Options {
		m[k] = v
	}
	m["RegionId"], m["InstanceId"], m["SnapshotGroupId"] = spec.RegionID, instanceID, groupID
	if spec.DryRun {
		m["DryRun"] = true
	}
	m["IdempotencyKey"] = fleetKey(key, instanceID)
	return json.Marshal(m)
}

// fleetKey is key/instance, or a hash of it when too long.
func fleetKey(key, instanceID string) string {
	k := "fleet:" + key + "/" + instanceID
	if isIdempotencyKey(k) {
		return k
	}
	sum := sha256.Sum256([]byte(key))
	return "fleet:" + hex.EncodeToString(sum[:12]) + "/" + instanceID
}

// fleetLimits are the spec's numbers resolved against the eligible count.
type fleetLimits struct {
	canary, cap, maxFailures, perInstanceCalls int
}

func limitsOf(spec *FleetSpec, instances []FleetInstance) fleetLimits {
	eligible, maxDisks := 0, 1
	for _, in := range instances {
		if in.Status != fleetNotEligible {
			eligible++
			maxDisks = max(maxDisks, in.Disks)
		}
	}
	l := fleetLimits{canary: 1, cap: fleetDefaultConcurrency, maxFailures: spec.MaxFailures}
	if spec.MaxConcurrency > 0 {
		l.cap = min(spec.MaxConcurrency, fleetMaxConcurrency)
	}
	switch {
	case spec.Canary > 0:
		l.canary = spec.Canary
	case spec.CanaryPercent > 0:
		l.canary = max(1, (eligible*spec.CanaryPercent+99)/100)
	}
	if spec.MaxFailurePercent > 0 {
		l.maxFailures = eligible * spec.MaxFailurePercent / 100
	}
	// Mutating calls per instance, counted as if ResetDisk ran per disk
	// (the ResetDisks fallback): the worst case.
	opt := func(name string) bool { return strings.TrimSpace(string(spec.Options[name])) == "true" }
	l.perInstanceCalls = maxDisks
	if opt("StopInstance") {
		l.perInstanceCalls++
	}
	if opt("StartInstance") {
		l.perInstanceCalls++
	}
	if opt("BackupBeforeReset") {
		l.perInstanceCalls += maxDisks
	}
	paced := max(1, fleetWaveCallBudget/l.perInstanceCalls)
	l.cap = min(l.cap, paced)
	l.canary = min(l.canary, l.cap)
	return l
}

// waveSize is the size of wave n (1 = canary): the canary's, doubling up
// to the cap; a dry run goes at the cap from the start.
func (l fleetLimits) waveSize(n int, dryRun bool) int {
	if dryRun {
		return l.cap
	}
	size := l.canary
	for i := 1; i < n && size < l.cap; i++ {
		size *= 2
	}
	return min(size, l.cap)
}

// startFleet makes the first answer: the plan and the canary wave, or a
// final report when nothing is eligible.
func startFleet(spec *FleetSpec, key string, instances []FleetInstance) *FleetState {
	st := &FleetState{Summary: FleetSummary{Status: FleetRunning, DryRun: spec.DryRun, Instances: instances}}
	l := limitsOf(spec, instances)
	st.Summary.MaxFailures = l.maxFailures
	nextWave(st, spec, key, l, FleetRunWave)
	return st
}

// nextWave puts the next pending instances into Next, or reports when none
// is left.
func nextWave(st *FleetState, spec *FleetSpec, key string, l fleetLimits, action string) {
	size := l.waveSize(st.Wave+1, spec.DryRun)
	st.Next = []json.RawMessage{}
	for i := range st.Summary.Instances {
		in := &st.Summary.Instances[i]
		if len(st.Next) == size {
			break
		}
		if in.Status != fleetPending {
			continue
		}
		req, _ := fleetRequest(spec, in.InstanceID, in.SnapshotGroupID, key)
		st.Next = append(st.Next, req)
		in.Status, in.Wave = fleetInWave, st.Wave+1
	}
	if len(st.Next) == 0 {
		report(st, "")
		return
	}
	st.Wave++
	st.Action = action
	count(st)
}

// tallyFleet records a wave's outcomes and decides: a failed canary or
// failures past the threshold end the fleet (nothing new starts; the wave
// that just ran has finished), otherwise the next wave, or the report.
func tallyFleet(spec *FleetSpec, ev *fleetEvent, _ Config) *FleetState {
	st := ev.State
	byID := map[string]FleetOutcome{}
	for _, o := range ev.Outcomes {
		byID[o.InstanceID] = o
	}
	waveFailed := 0
	for i := range st.Summary.Instances {
		in := &st.Summary.Instances[i]
		if in.Status != fleetInWave {
			continue
		}
		o, ok := byID[in.InstanceID]
		switch {
		case !ok:
			in.Status, in.Code = StatusFailed, "OutcomeMissing"
		case o.Error != nil:
			in.Status, in.Code, in.Step = StatusFailed, o.Error.Code, failedStep(o.Error.Detail)
		default:
			in.Status = o.Status
			if !fleetOK(o.Status) {
				in.Step = "reset"
			}
		}
		if !fleetOK(in.Status) {
			waveFailed++
		}
	}
	l := limitsOf(spec, st.Summary.Instances)
	st.Summary.MaxFailures = l.maxFailures
	count(st)
	switch {
	case spec.DryRun:
	case st.Wave == 1 && waveFailed > 0:
		report(st, FleetCanaryFailed)
		st.Summary.Message = fmt.Sprintf("the canary wave failed (%d of its instances); nothing else was started", waveFailed)
		return st
	case st.Summary.Failed > l.maxFailures:
		report(st, FleetHalted)
		st.Summary.Message = fmt.Sprintf("%d instances failed, more than the %d allowed: halted after wave %d; the instances of that wave finished, %d never started", st.Summary.Failed, l.maxFailures, st.Wave, st.Summary.NotStarted)
		return st
	}
	nextWave(st, spec, ev.Key, l, FleetPauseThenRunWave)
	return st
}

// report ends the fleet: pending instances never started; status is the
// given one, or the verdict of the counts.
func report(st *FleetState, status string) {
	st.Action, st.Next = FleetReport, []json.RawMessage{}
	for i := range st.Summary.Instances {
		if in := &st.Summary.Instances[i]; in.Status == fleetPending || in.Status == fleetInWave {
			in.Status = fleetNotStarted
		}
	}
	count(st)
	s := &st.Summary
	switch {
	case status != "":
		s.Status = status
	case s.Eligible == 0:
		s.Status, s.Message = FleetNothingToDo, "no instance to roll back: the selector matched none, or none has a usable instance snapshot and the allow-list tag"
	case s.DryRun && s.Failed == 0:
		s.Status = FleetDryRunPassed
	case s.DryRun:
		s.Status = FleetDryRunFailed
	case s.Failed == 0:
		s.Status = FleetSucceeded
	default:
		s.Status = FleetCompletedWithFailures
	}
}

// count recomputes the summary's counts from the instances.
func count(st *FleetState) {
	s := &st.Summary
	s.Total, s.Eligible, s.Succeeded, s.Failed, s.NotStarted, s.NotEligible = len(s.Instances), 0, 0, 0, 0, 0
	s.Waves = st.Wave
	for _, in := range s.Instances {
		switch {
		case in.Status == fleetNotEligible:
			s.NotEligible++
			continue
		case in.Status == fleetNotStarted:
			s.NotStarted++
		case in.Status == fleetPending || in.Status == fleetInWave:
		case fleetOK(in.Status):
			s.Succeeded++
		default:
			s.Failed++
		}
		s.Eligible++
	}
}

// fleetOK: the instance's rollback did what was asked.
func fleetOK(status string) bool {
	switch status {
	case StatusSucceeded, StatusDuplicate, StatusDryRunPassed, StatusNothingToDo:
		return true
	}
	return false
}

// failedStep names the step a failed rollback stopped at: the first failed
// step of the Result its error carries ("; result: {...}", ToFCError), or
// the phase its message names ("stop refused: ...").
func failedStep(detail string) string {
	if _, js, ok := strings.Cut(detail, "; result: "); ok {
		var res Result
		if json.Unmarshal([]byte(js), &res) == nil {
			for _, s := range res.Steps {
				if s.Outcome == StatusFailed {
					return s.Name
				}
			}
		}
	}
	if _, msg, ok := strings.Cut(detail, ": "); ok {
		if phase, _, ok := strings.Cut(msg, " refused:"); ok && !strings.Contains(phase, " ") {
			return phase
		}
	}
	return ""
}
