package function

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aliyun/fc-runtime-go-sdk/fc/messages"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

// Invoke is the FC entry point (fc.Start(h.Invoke)): it takes the raw
// event, reads the invocation's request id, STS credentials and retry count
// from the FC context, and reports failures as typed FC errors.
func (h *Handler) Invoke(ctx context.Context, event []byte) (json.RawMessage, error) {
	var inv Invocation
	if fctx, ok := fccontext.FromContext(ctx); ok && fctx != nil {
		inv.RequestID = fctx.RequestID
		inv.RetryCount = fctx.RetryCount
		inv.Region = fctx.Region
		inv.Credentials = Credentials{AccessKeyID: fctx.Credentials.AccessKeyId, AccessKeySecret: fctx.Credentials.AccessKeySecret, SecurityToken: fctx.Credentials.SecurityToken}
	}
	out, err := h.Handle(ctx, inv, event)
	if err != nil {
		return nil, ToFCError(err)
	}
	if res, ok := out.(*Result); ok && res != nil {
		// What json.Marshal answers (Result.MarshalJSON), without its
		// reflection and its re-scan of the marshaler's output (~7 µs).
		return res.encodeJSON(), nil
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, ToFCError(&Error{Code: ErrInternal, Message: "encoding the result: " + err.Error()})
	}
	return b, nil
}

// ToFCError converts an error into the value fc-runtime-go-sdk passes
// through unchanged, so FC's errorType is the function's error code (the
// SDK would otherwise report the Go type name, e.g. "Error").
func ToFCError(err error) error {
	var fe *Error
	if !errors.As(err, &fe) {
		fe = &Error{Code: ErrInternal, Message: err.Error()}
	}
	msg := fe.Error()
	if fe.Result != nil {
		// What was done before the failure travels in the message, whole
		// (summary, per-disk outcomes, plan, steps): FC's error has no other
		// field, and callers must see which disks were reset and which
		// instance is down (e.g. a PartialFailure caught by a CloudFlow Catch).
		msg += "; result: " + string(fe.Result.encodeJSON())
	}
	return messages.InvokeResponse_Error{Type: fe.Code, Message: msg}
}
