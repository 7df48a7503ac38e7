package fcruntime

import "encoding/json"

// Report is one invocation as the commands print it (fc-runtime-emulator
// -event, run-local): the result, or the error FC would report.
type Report struct {
	Event      string          `json:"event,omitempty"` // the event file, when there is one
	RequestID  string          `json:"requestId"`
	DurationMs int64           `json:"durationMs"`
	Result     json.RawMessage `json:"result,omitempty"`
	Error      *ReportError    `json:"error,omitempty"`
}

// ReportError is a failed invocation's errorType and errorMessage.
type ReportError struct {
	ErrorType    string `json:"errorType"`
	ErrorMessage string `json:"errorMessage"`
}

// Report summarises r; a timeout is an error of type FunctionTimeout.
func (r *Result) Report() Report {
	rep := Report{RequestID: r.RequestID, DurationMs: r.Duration.Milliseconds()}
	if r.Error != nil {
		rep.Error = &ReportError{ErrorType: r.Error.Type, ErrorMessage: r.Error.Message}
	} else {
		rep.Result = asJSON(r.Payload)
	}
	return rep
}

// asJSON keeps a JSON payload as is and quotes anything else, so the
// report is always valid JSON.
func asJSON(p []byte) json.RawMessage {
	if len(p) == 0 {
		return json.RawMessage("null")
	}
	if json.Valid(p) {
		return json.RawMessage(p)
	}
	b, _ := json.Marshal(string(p))
	return b
}
