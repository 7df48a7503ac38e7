package ecsclient

import (
	"errors"
	"strings"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/retry"
)

// callKind says how safe a call is to repeat.
type callKind int

const (
	// read: Describe*, ListTagResources. Repeating has no effect.
	read callKind = iota
	// mutating: ResetDisks, ResetDisk, StopInstance, StartInstance,
	// CreateSnapshot, TagResources. Repeating may repeat the effect (no
	// ClientToken on the reset APIs: a repeated call repeats the rollback).
	mutating
)

// kindOf is the kind of a call that has a dry-run form: a dry run changes
// nothing, so it is repeated as freely as a read.
func kindOf(dryRun bool) callKind {
	if dryRun {
		return read
	}
	return mutating
}

func (k callKind) String() string {
	if k == read {
		return "read"
	}
	return "mutating"
}

// serverRefused reports whether an API error means the server did not act
// and asks (or may well accept) to be asked again: throttling or 5xx.
func serverRefused(ae *function.APIError) bool {
	return ae.Throttled() || strings.HasPrefix(ae.Code, "Throttling") || ae.HTTPStatus >= 500
}

// classifier returns the retry decision for a call kind:
//
//   - reads retry throttling, 5xx and every transport error (a timeout costs
//     more retry quota);
//   - mutating calls retry throttling (the server refused and did not act)
//     and a transport error whose request was never written (Sent=false).
//     A 5xx is NOT retried: a server can act and still answer 500, so the
//     caller gets the APIError and reads back what happened; nor is a
//     request that was sent but got no answer: the caller gets
//     TransportError{Sent: true} and decides.
//
// Everything else (4xx such as DryRunOperation, IncorrectInstanceStatus,
// InvalidDiskId.NotFound) is final.
func classifier(kind callKind) retry.Classifier {
	return func(err error) retry.Decision {
		var ae *function.APIError
		if errors.As(err, &ae) {
			switch {
			case kind == mutating && ae.HTTPStatus >= 500: // even ServiceUnavailable
				return retry.NoRetry
			case serverRefused(ae):
				return retry.Retry
			}
			return retry.NoRetry
		}
		var te *function.TransportError
		if errors.As(err, &te) {
			if kind == mutating && te.Sent {
				return retry.NoRetry
			}
			if te.Timeout {
				return retry.RetryTimeout
			}
			return retry.Retry
		}
		return retry.NoRetry
	}
}
