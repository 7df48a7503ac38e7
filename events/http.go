package events

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// HTTPTriggerEvent is the event an FC 3.0 HTTP trigger hands a function in
// a built-in runtime (the Go runtime included): the HTTP request mapped to
// JSON.
//
// Format: Function Compute 3.0, "Use an HTTP trigger to invoke a function",
// request struct (payload version "v1"). Headers and query parameters are
// single strings; a repeated one arrives joined with commas ("v1,v2").
// When the body is binary FC sends it base64-encoded and sets
// IsBase64Encoded; DecodedBody undoes that.
type HTTPTriggerEvent struct {
	Version         string             `json:"version"`
	RawPath         string             `json:"rawPath"` // URL-encoded path; RequestContext.HTTP.Path is decoded
	Body            string             `json:"body"`
	IsBase64Encoded bool               `json:"isBase64Encoded"`
	Headers         map[string]string  `json:"headers"`
	QueryParameters map[string]string  `json:"queryParameters"`
	RequestContext  HTTPRequestContext `json:"requestContext"`
}

// HTTPRequestContext describes the request: who, where and when.
type HTTPRequestContext struct {
	AccountID    string                 `json:"accountId"`
	DomainName   string                 `json:"domainName"`   // <trigger-id>.<region>.fcapp.run
	DomainPrefix string                 `json:"domainPrefix"` // <trigger-id>
	HTTP         HTTPRequestContextHTTP `json:"http"`
	RequestID    string                 `json:"requestId"`
	Time         string                 `json:"time"`      // RFC 3339
	TimeEpoch    FlexString             `json:"timeEpoch"` // ms since the epoch; documented as a string
}

// HTTPRequestContextHTTP is the HTTP part of the request context.
type HTTPRequestContextHTTP struct {
	Method    string `json:"method"`
	Path      string `json:"path"`
	Protocol  string `json:"protocol"`
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

// HTTPTriggerResponse is what a function answers an HTTP trigger with; FC
// turns it into the HTTP response. Body is base64 when IsBase64Encoded.
type HTTPTriggerResponse struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers,omitempty"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	Body            string            `json:"body"`
}

// Errors DecodedBody returns.
var (
	// ErrBodyTooLarge: the (decoded) body is larger than the limit given.
	ErrBodyTooLarge = errors.New("events: HTTP body too large")
	// ErrBadBase64: IsBase64Encoded is set and the body is not base64.
	ErrBadBase64 = errors.New("events: HTTP body is not valid base64")
)

// Method returns the request method, upper-cased.
func (e *HTTPTriggerEvent) Method() string {
	return strings.ToUpper(strings.TrimSpace(e.RequestContext.HTTP.Method))
}

// Header returns a header's value, matching its name case-insensitively as
// HTTP requires; "" when absent. An exact match wins; among names that
// differ only in case, the lexically smallest wins, so the answer does not
// depend on map order.
func (e *HTTPTriggerEvent) Header(name string) string {
	if v, ok := e.Headers[name]; ok {
		return v
	}
	var keys []string
	for k := range e.Headers {
		if strings.EqualFold(k, name) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	return e.Headers[keys[0]]
}

// Query returns a query parameter (names are case-sensitive) and whether
// it was given.
func (e *HTTPTriggerEvent) Query(name string) (string, bool) {
	v, ok := e.QueryParameters[name]
	return v, ok
}

// DecodedBody returns the body as bytes, base64-decoding it when
// IsBase64Encoded is set. A limit > 0 caps the decoded size: a larger body
// gives ErrBodyTooLarge, checked before anything is allocated. Padded and
// unpadded standard base64 are accepted; anything else gives ErrBadBase64.
func (e *HTTPTriggerEvent) DecodedBody(limit int) ([]byte, error) {
	if !e.IsBase64Encoded {
		if limit > 0 && len(e.Body) > limit {
			return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBodyTooLarge, len(e.Body), limit)
		}
		return []byte(e.Body), nil
	}
	s := strings.TrimSpace(e.Body)
	// Every 4 base64 characters make at most 3 bytes: a body whose encoded
	// form is that much longer than the limit is too large for sure.
	if limit > 0 && len(s)/4*3 > limit+3 {
		return nil, fmt.Errorf("%w: about %d bytes, at most %d", ErrBodyTooLarge, len(s)/4*3, limit)
	}
	enc := base64.StdEncoding
	if !strings.HasSuffix(s, "=") && len(s)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBase64, err)
	}
	if limit > 0 && len(b) > limit {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrBodyTooLarge, len(b), limit)
	}
	return b, nil
}
