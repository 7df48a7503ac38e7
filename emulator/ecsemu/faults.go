package ecsemu

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FaultKind is what a fault does to a matching call.
type FaultKind string

// Fault kinds.
const (
	// FaultPass lets the call through; useful inside a Sequence.
	FaultPass FaultKind = "pass"
	// FaultThrottle answers Throttling.User with 400 (ECS documents flow
	// control as a 4xx, so the SDK never auto-retries it).
	FaultThrottle FaultKind = "throttle"
	// FaultInternal answers InternalError, 500.
	FaultInternal FaultKind = "internal"
	// FaultUnavailable answers ServiceUnavailable, 503.
	FaultUnavailable FaultKind = "unavailable"
	// FaultLatency delays the call by Latency, then serves it normally.
	FaultLatency FaultKind = "latency"
	// FaultDropBefore closes the connection without acting or answering.
	FaultDropBefore FaultKind = "drop-before"
	// FaultDropAfter applies the action, then closes the connection without
	// answering: the server acted but the client never heard.
	FaultDropAfter FaultKind = "drop-after"
	// FaultError answers Code with its status from the error table
	// (400 for a code the table does not know), or Status when set.
	FaultError FaultKind = "error"
	// FaultActThenError applies the action, then answers an error: Code
	// (default InternalError) with its status, or Status when set. The
	// server acted but the client hears a failure. A call the
	// action itself refuses gets that refusal.
	FaultActThenError FaultKind = "act-then-error"
)

// FaultRule injects failures into matching calls. The first rule that fires
// decides a call; rules are checked in order.
type FaultRule struct {
	// Action to match, e.g. "ResetDisks"; "" or "*" matches every action.
	Action string `json:"action,omitempty"`
	// Kind applied when the rule fires with Rate.
	Kind FaultKind `json:"kind,omitempty"`
	// Rate is the probability (0..1] the rule fires on a matching call;
	// 0 means every matching call. Ignored when Sequence is set.
	Rate float64 `json:"rate,omitempty"`
	// Sequence scripts one kind per matching call (FaultPass lets one
	// through); after the last entry matching calls pass.
	Sequence []FaultKind `json:"sequence,omitempty"`
	// Count caps how many times the rule fires; 0 is unlimited.
	Count int `json:"count,omitempty"`
	// Latency is added before the fault (or alone for FaultLatency).
	Latency time.Duration `json:"latency,omitempty"`
	// Code for FaultError and FaultActThenError.
	Code string `json:"code,omitempty"`
	// Status overrides the HTTP status of Code (FaultError,
	// FaultActThenError), e.g. InternalError as 400 as the ResetDisk error
	// table also lists it.
	Status int `json:"status,omitempty"`
}

// UnmarshalJSON accepts latency as a Go duration string ("250ms") or nanoseconds.
func (r *FaultRule) UnmarshalJSON(b []byte) error {
	type plain FaultRule
	var aux struct {
		plain
		Latency json.RawMessage `json:"latency,omitempty"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*r = FaultRule(aux.plain)
	if len(aux.Latency) > 0 {
		var s string
		if json.Unmarshal(aux.Latency, &s) == nil {
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("fault latency: %w", err)
			}
			r.Latency = d
		} else if err := json.Unmarshal(aux.Latency, &r.Latency); err != nil {
			return fmt.Errorf("fault latency: %w", err)
		}
	}
	return r.validate()
}

func (r FaultRule) validate() error {
	kinds := r.Sequence
	if len(kinds) == 0 {
		if r.Kind == "" {
			return fmt.Errorf("fault: kind or sequence required")
		}
		kinds = []FaultKind{r.Kind}
	}
	for _, k := range kinds {
		switch k {
		case FaultPass, FaultThrottle, FaultInternal, FaultUnavailable, FaultLatency,
			FaultDropBefore, FaultDropAfter, FaultActThenError:
		case FaultError:
			if r.Code == "" {
				return fmt.Errorf("fault: kind error needs a code")
			}
		default:
			return fmt.Errorf("fault: unknown kind %q", k)
		}
	}
	if r.Status != 0 && (r.Status < 400 || r.Status > 599) {
		return fmt.Errorf("fault: status %d is not an error status", r.Status)
	}
	if r.Rate < 0 || r.Rate > 1 {
		return fmt.Errorf("fault: rate %v outside 0..1", r.Rate)
	}
	return nil
}

// ParseFaultFlag parses the command line form
// "Action:kind[:rate[:count]]", where Action may be "*" and kind may be
// "error=Code", "error=Code@Status", "act-then-error[=Code[@Status]]",
// "latency=250ms" or "seq=throttle,pass,drop-after".
// Examples: "ResetDisks:throttle:0.5", "ResetDisk:error=InternalError@400",
// "ResetDisks:act-then-error=InternalError".
func ParseFaultFlag(s string) (FaultRule, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 4 {
		return FaultRule{}, fmt.Errorf("fault %q: want Action:kind[:rate[:count]]", s)
	}
	r := FaultRule{Action: parts[0]}
	kind, arg, _ := strings.Cut(parts[1], "=")
	switch kind {
	case "error", string(FaultActThenError):
		r.Kind = FaultKind(kind)
		code, status, ok := strings.Cut(arg, "@")
		r.Code = code
		if ok {
			n, err := strconv.Atoi(status)
			if err != nil {
				return FaultRule{}, fmt.Errorf("fault %q: status: %w", s, err)
			}
			r.Status = n
		}
	case "latency":
		r.Kind = FaultLatency
		if arg != "" {
			d, err := time.ParseDuration(arg)
			if err != nil {
				return FaultRule{}, fmt.Errorf("fault %q: %w", s, err)
			}
			r.Latency = d
		}
	case "seq":
		for k := range strings.SplitSeq(arg, ",") {
			r.Sequence = append(r.Sequence, FaultKind(k))
		}
	default:
		r.Kind = FaultKind(kind)
	}
	if len(parts) > 2 && parts[2] != "" {
		f, err := strconv.ParseFloat(parts[2], 64)
		if err != nil {
			return FaultRule{}, fmt.Errorf("fault %q: rate: %w", s, err)
		}
		r.Rate = f
	}
	if len(parts) > 3 {
		n, err := strconv.Atoi(parts[3])
		if err != nil {
			return FaultRule{}, fmt.Errorf("fault %q: count: %w", s, err)
		}
		r.Count = n
	}
	if err := r.validate(); err != nil {
		return FaultRule{}, err
	}
	return r, nil
}

type faultState struct {
	rule    FaultRule
	matched int // matching calls seen (Sequence index)
	fired   int
}

// decision is what the fault layer decided for one call.
type decision struct {
	kind    FaultKind
	latency time.Duration
	code    string
	status  int
}

// apiError is the error a fault answers.
func (d decision) apiError() *apiError {
	code := map[FaultKind]string{FaultThrottle: CodeThrottlingUser, FaultInternal: CodeInternalError,
		FaultUnavailable: CodeServiceUnavailable}[d.kind]
	if d.kind == FaultError || d.kind == FaultActThenError {
		code = d.code
	}
	if code == "" {
		code = CodeInternalError
	}
	e := newError(code)
	if d.status != 0 {
		e.Status = d.status
	}
	return e
}

func (s *Server) setFaults(rules []FaultRule) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
	for _, r := range rules {
		s.faults = append(s.faults, &faultState{rule: r})
	}
}

// SetFaults replaces the active fault rules.
func (s *Server) SetFaults(rules ...FaultRule) error {
	for _, r := range rules {
		if err := r.validate(); err != nil {
			return err
		}
	}
	s.setFaults(rules)
	return nil
}

// AddFaults appends fault rules.
func (s *Server) AddFaults(rules ...FaultRule) error {
	for _, r := range rules {
		if err := r.validate(); err != nil {
			return err
		}
	}
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for _, r := range rules {
		s.faults = append(s.faults, &faultState{rule: r})
	}
	return nil
}

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() { s.setFaults(nil) }

// Faults returns the active rules.
func (s *Server) Faults() []FaultRule {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	out := make([]FaultRule, 0, len(s.faults))
	for _, f := range s.faults {
		r := f.rule
		r.Sequence = slices.Clone(r.Sequence)
		out = append(out, r)
	}
	return out
}

// decide picks the fault for a call to action, if any.
func (s *Server) decide(action string) decision {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for _, f := range s.faults {
		r := f.rule
		if r.Action != "" && r.Action != "*" && r.Action != action {
			continue
		}
		if r.Count > 0 && f.fired >= r.Count {
			continue
		}
		var kind FaultKind
		if len(r.Sequence) > 0 {
			i := f.matched
			f.matched++
			if i >= len(r.Sequence) || r.Sequence[i] == FaultPass || r.Sequence[i] == "" {
				continue
			}
			kind = r.Sequence[i]
		} else {
			f.matched++
			if r.Rate > 0 && s.rng.Float64() >= r.Rate {
				continue
			}
			kind = r.Kind
		}
		f.fired++
		return decision{kind: kind, latency: r.Latency, code: r.Code, status: r.Status}
	}
	return decision{}
}
