package function

// Result is what a rollback returns: the ECS RequestId and the
// OperationProgressSet exactly as ResetDisks returned them (merged in input
// order when the request needed several calls), a summary, and — for the
// orchestrated options — the plan and each step's outcome.
type Result struct {
	RequestID            string               `json:"RequestId"`
	OperationProgressSet OperationProgressSet `json:"OperationProgressSet"`
	Summary              Summary              `json:"Summary"`
	// RequestIDs lists every ECS request id of the reset calls, in order,
	// when there was more than one (batches, ResetDisk fallback).
	RequestIDs []string `json:"RequestIds,omitempty"`
	// Plan is what the request resolved to; with DryRun it is all that happens.
	Plan *Plan `json:"Plan,omitempty"`
	// Steps are the calls made, in order, with outcome and timing.
	Steps []Step `json:"Steps,omitempty"`
	// Disks is the final state of each reset disk after Wait.
	Disks []DiskOutcome `json:"Disks,omitempty"`
	// Backups are the snapshots BackupBeforeReset took, by disk.
	Backups []Backup `json:"Backups,omitempty"`
	// Health is each gate check's verdict, by instance and round (1 after
	// the rollback, 2 after an undo).
	Health []HealthOutcome `json:"Health,omitempty"`
	// Undo says what the undo after an unhealthy gate did.
	Undo *UndoOutcome `json:"Undo,omitempty"`
	// Warnings are differences found that did not fail the rollback, such
	// as an instance's public IP changed by the stop and start.
	Warnings []string `json:"Warnings,omitempty"`
	// Version is the build of the function that produced this result.
	Version string `json:"Version,omitempty"`
}

// Summary counts the outcome per disk and says in a word how it went.
type Summary struct {
	// Status: Succeeded, PartiallyFailed, Failed, DryRunPassed, NothingToDo,
	// InProgress (Wait stopped at the deadline) or Duplicate (idempotency).
	Status    string `json:"Status"`
	Total     int    `json:"Total"`
	Succeeded int    `json:"Succeeded"`
	Failed    int    `json:"Failed"`
	// Unknown counts disks whose outcome nobody can tell yet (OperationStatus
	// "Unknown"): neither done nor not done.
	Unknown int    `json:"Unknown"`
	DryRun  bool   `json:"DryRun"`
	Message string `json:"Message,omitempty"`
}

// Summary statuses.
const (
	StatusSucceeded       = "Succeeded"
	StatusPartiallyFailed = "PartiallyFailed"
	StatusFailed          = "Failed"
	StatusDryRunPassed    = "DryRunPassed"
	StatusNothingToDo     = "NothingToDo"
	StatusInProgress      = "InProgress"
	StatusDuplicate       = "Duplicate"
	// StatusOutcomeUnknown: some disk may or may not have been reset.
	StatusOutcomeUnknown = ErrOutcomeUnknown
	// StatusUnhealthy: the rollback was done and the health gate failed
	// (OnUnhealthy Report).
	StatusUnhealthy = ErrUnhealthy
	// StatusUndoneAfterUnhealthy: the gate failed, the disks were reset to
	// the backups this rollback took and the instance passed the gate again.
	StatusUndoneAfterUnhealthy = ErrUndoneAfterUnhealthy
	// StatusUndoFailed: the gate failed and the undo did not bring the
	// instance back healthy (see Result.Undo).
	StatusUndoFailed = ErrUndoFailed
	// StatusHealthCheckPending: the gate had not concluded at the deadline.
	StatusHealthCheckPending = ErrHealthCheckPending
	// StatusHealthCheckUnavailable: the gate could not run (agent missing,
	// no command configured, no address).
	StatusHealthCheckUnavailable = ErrHealthCheckUnavailable
	// StatusRefused: nothing was done (a real run failing its checks, or an
	// alarm while ALARM_ROLLBACK is off).
	StatusRefused = "Refused"
)

// OperationStatusUnknown is the OperationStatus of a disk whose reset may
// or may not have happened (ErrorCode OutcomeUnknown). ECS itself only
// answers Success or Failed.
const OperationStatusUnknown = "Unknown"

// Plan is a request resolved into concrete work.
type Plan struct {
	RegionID         string     `json:"RegionId"`
	SnapshotGroupID  string     `json:"SnapshotGroupId,omitempty"`
	Pairs            []DiskPair `json:"Pairs"`
	Batches          [][]string `json:"Batches,omitempty"` // disk ids per ResetDisks call
	InstancesToStop  []string   `json:"InstancesToStop,omitempty"`
	InstancesToStart []string   `json:"InstancesToStart,omitempty"`
	Backups          []string   `json:"Backups,omitempty"` // disk ids to snapshot first
	ResetAPI         string     `json:"ResetAPI"`          // ResetDisks or ResetDisk
	IdempotencyKey   string     `json:"IdempotencyKey,omitempty"`
	// UndoOf is the key hash of the rollback an UndoRollback goes back from.
	UndoOf string `json:"UndoOf,omitempty"`
	// keyOrigin namespaces IdempotencyKey (see guardKey).
	keyOrigin string
}

// Step is one call or phase of a rollback.
type Step struct {
	Name       string `json:"Name"`             // e.g. StopInstance, ResetDisks, Wait
	Target     string `json:"Target,omitempty"` // the resource it acted on
	Outcome    string `json:"Outcome"`          // Succeeded, Failed, Skipped, DryRunPassed
	Code       string `json:"Code,omitempty"`
	Message    string `json:"Message,omitempty"`
	RequestID  string `json:"RequestId,omitempty"`
	DurationMs int64  `json:"DurationMs"`
}

// DiskOutcome is one disk's status at the end of a rollback.
type DiskOutcome struct {
	DiskID string `json:"DiskId"`
	Status string `json:"Status"`
}

// Backup is a snapshot taken before the reset.
type Backup struct {
	DiskID     string `json:"DiskId"`
	SnapshotID string `json:"SnapshotId"`
	Status     string `json:"Status"`
}

// summarise counts a progress set.
func summarise(set OperationProgressSet, dryRun bool) Summary {
	s := Summary{Total: len(set.OperationProgress), DryRun: dryRun}
	for _, p := range set.OperationProgress {
		switch p.OperationStatus {
		case OperationStatusSuccess:
			s.Succeeded++
		case OperationStatusUnknown:
			s.Unknown++
		default:
			s.Failed++
		}
	}
	switch {
	case dryRun && s.Failed+s.Unknown == 0:
		s.Status = StatusDryRunPassed
	case s.Total == 0:
		s.Status = StatusNothingToDo
	case s.Unknown > 0:
		s.Status = StatusOutcomeUnknown
	case s.Failed == 0:
		s.Status = StatusSucceeded
	case s.Succeeded == 0:
		s.Status = StatusFailed
	default:
		s.Status = StatusPartiallyFailed
	}
	return s
}

// HealthOutcome is one instance's verdict of one gate round.
type HealthOutcome struct {
	InstanceID string `json:"InstanceId"`
	Type       string `json:"Type"`
	Round      int    `json:"Round"`
	// Status: Healthy, Unhealthy, Pending (deadline), AgentUnavailable, CheckFailed.
	Status     string `json:"Status"`
	Detail     string `json:"Detail,omitempty"`
	ExitCode   *int64 `json:"ExitCode,omitempty"`   // Command
	Output     string `json:"Output,omitempty"`     // Command, truncated
	HTTPStatus int    `json:"HTTPStatus,omitempty"` // HTTP
}

// UndoOutcome is what the undo after an unhealthy gate did.
type UndoOutcome struct {
	// Status: Undone (disks reset to the backups), Failed, or Skipped.
	Status    string   `json:"Status"`
	Instances []string `json:"Instances"`
	// Snapshots are the backups the disks were reset to.
	Snapshots []Backup `json:"Snapshots"`
	Message   string   `json:"Message,omitempty"`
}
