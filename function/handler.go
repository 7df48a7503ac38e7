package function

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Handler is the function: it turns an event into rollback requests, runs
// each with an ECS client made for this invocation, and answers in the form
// the trigger understands. It is safe for concurrent invocations: all
// per-invocation state lives on the stack.
type Handler struct {
	Connector Connector
	Config    Config
	// EnvCredentials are used when the invocation carries none (the FC
	// role's STS credentials come with each invocation and win).
	EnvCredentials Credentials
	Logger         *slog.Logger
	// Clock is the one source of time of every rollback (the wall clock
	// when nil): tests replace it to run waits and delays instantly.
	Clock Clock
	// ConfigErr, when set, is returned by every invocation: a misconfigured
	// function reports why instead of crash-looping.
	ConfigErr error
	// Version is the build (main.version), put into every Result.
	Version string
}

// Invocation is what FC tells about one call, besides the event.
type Invocation struct {
	RequestID   string
	Credentials Credentials
	RetryCount  int
	// Region is the function's own region (x-fc-region): the default for
	// events that name none, such as CloudMonitor alarms.
	Region string
}

// Handle runs one event and returns the value to answer with (a Result, an
// HTTP response object, or a batch of them).
func (h *Handler) Handle(ctx context.Context, inv Invocation, event []byte) (any, error) {
	if h.ConfigErr != nil {
		return nil, &Error{Code: ErrInternal, Message: h.ConfigErr.Error()}
	}
	return h.dispatch(ctx, inv, event)
}

// Run decodes, validates and carries out one rollback request. Nothing is
// called (not even to connect) before the request is valid.
func (h *Handler) Run(ctx context.Context, inv Invocation, req *Request) (res *Result, err error) {
	defer func() {
		if fe := (*Error)(nil); errors.As(err, &fe) && fe.Result != nil {
			fe.Result.Version = h.Version
		}
		if res != nil {
			res.Version = h.Version
		}
	}()
	if err := req.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := withAnswerMargin(ctx)
	defer cancel()
	ecs, err := h.connect(ctx, inv)
	if err != nil {
		return nil, err
	}
	start := h.now()
	res, err = h.rollbackValid(ctx, ecs, inv, req)
	h.log(ctx, inv, req, res, err, start)
	return res, err
}

// connect makes the invocation's ECS client with its credentials: the
// invocation's (the FC role's STS credentials), else the environment's.
func (h *Handler) connect(ctx context.Context, inv Invocation) (ECS, error) {
	creds := inv.Credentials
	if creds.Empty() {
		creds = h.EnvCredentials
	}
	if creds.Empty() {
		return nil, Errorf(ErrCredentialsMissing, "no credentials: give the function a role, or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	}
	ecs, err := h.Connector.Connect(ctx, creds)
	if err != nil {
		return nil, FromECS("Connect", err)
	}
	return ecs, nil
}

// withAnswerMargin ends the work a little before the FC deadline, so the
// function still has time to report what it did (an answer after the
// deadline is lost: FC has already reported a timeout).
func withAnswerMargin(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := time.Until(deadline) / 10
	margin = max(min(margin, time.Second), 100*time.Millisecond)
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// RunJSON is Run for a raw request document.
func (h *Handler) RunJSON(ctx context.Context, inv Invocation, raw []byte) (*Result, error) {
	req, err := DecodeRequest(raw)
	if err != nil {
		return nil, err
	}
	return h.Run(ctx, inv, req)
}

func (h *Handler) log(ctx context.Context, inv Invocation, req *Request, res *Result, err error, start time.Time) {
	if h.Logger == nil {
		return
	}
	// slog.Attr values, not ...any: each any would box an Attr only for
	// slog to unbox it again.
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs, slog.String("fcRequestId", inv.RequestID), slog.String("regionId", req.RegionID),
		slog.Int("disks", plannedDisks(req, res)), slog.Bool("dryRun", req.DryRun), slog.Int64("durationMs", h.since(start)))
	if res != nil {
		attrs = append(attrs, slog.String("status", res.Summary.Status), slog.String("ecsRequestId", res.RequestID),
			slog.Int("succeeded", res.Summary.Succeeded), slog.Int("failed", res.Summary.Failed))
	}
	if err != nil {
		var fe *Error
		if errors.As(err, &fe) {
			attrs = append(attrs, slog.String("errorType", fe.Code), slog.String("ecsRequestId", fe.RequestID))
		}
		attrs = append(attrs, slog.String("error", err.Error()))
		logAttrs(ctx, h.Logger, slog.LevelWarn, "rollback failed", attrs)
		return
	}
	logAttrs(ctx, h.Logger, slog.LevelInfo, "rollback done", attrs)
}

// LogRecord logs like l.Log but without the caller's program counter:
// slog.Logger's methods call runtime.Callers for every record, and the
// first call in a process costs about 0.15 ms (bench/CHANGES.md). The
// function's JSON handler never prints the source (AddSource is off), so
// its output is the same.
func LogRecord(ctx context.Context, l *slog.Logger, level slog.Level, msg string, attrs ...any) {
	if !l.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.Add(attrs...)
	_ = l.Handler().Handle(ctx, r)
}

// logAttrs is LogRecord for attributes already made.
func logAttrs(ctx context.Context, l *slog.Logger, level slog.Level, msg string, attrs []slog.Attr) {
	if !l.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(attrs...)
	_ = l.Handler().Handle(ctx, r)
}

// plannedDisks counts the disks a request resolved to (a snapshot-group
// request names none itself).
func plannedDisks(req *Request, res *Result) int {
	if res != nil && res.Plan != nil {
		return len(res.Plan.Pairs)
	}
	return len(req.Disk)
}
