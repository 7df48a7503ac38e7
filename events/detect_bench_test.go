package events

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// detectTokens is Detect written with the standard decoder's token stream
// (json.Decoder.Token): the contender measured against the
// hand scan. It makes the same decisions for the shapes below; errors are
// simplified (the benchmark only takes the accepted shapes).
func detectTokens(raw []byte) Kind {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return KindUnknown
	}
	switch tok {
	case json.Delim('['):
		for dec.More() {
			var v json.RawMessage
			if dec.Decode(&v) != nil || len(v) == 0 || v[0] != '{' {
				return KindUnknown
			}
		}
		return KindCloudEventBatch
	case json.Delim('{'):
	default:
		return KindUnknown
	}
	var has struct{ specversion, triggerTime, triggerName, requestContext, rawPath, version, alertState, request bool }
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return KindUnknown
		}
		k, _ := kt.(string)
		switch k {
		case "specversion":
			has.specversion = true
		case "triggerTime":
			has.triggerTime = true
		case "triggerName":
			has.triggerName = true
		case "requestContext":
			has.requestContext = true
		case "rawPath":
			has.rawPath = true
		case "version":
			has.version = true
		case "alertState":
			has.alertState = true
		default:
			has.request = has.request || requestKeySet[k]
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return KindUnknown
		}
	}
	switch {
	case has.specversion:
		return KindCloudEvent
	case has.triggerTime && has.triggerName:
		return KindTimer
	case has.requestContext && (has.rawPath || has.version):
		return KindHTTP
	case has.alertState:
		return KindCloudMonitorAlarm
	case has.request:
		return KindDirect
	}
	return KindUnknown
}

// benchEvents are the samples every trigger sends, read once.
func benchEvents(b *testing.B) map[string][]byte {
	b.Helper()
	out := map[string][]byte{}
	for _, name := range []string{"direct-reset.json", "timer-default.json", "http-post.json", "eventbridge-request.json", "eventbridge-batch.json", "cloudmonitor-alarm-raw.json"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			b.Fatal(err)
		}
		out[name] = raw
	}
	return out
}

// TestDetectTokensAgrees keeps the contender honest: it must decide as
// Detect does on every sample, or the benchmark compares unlike work.
func TestDetectTokensAgrees(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, werr := Detect(raw)
		if werr != nil {
			continue
		}
		if got := detectTokens(raw); got != want {
			t.Errorf("%s: detectTokens = %v, Detect = %v", filepath.Base(f), got, want)
		}
	}
}

// BenchmarkDetect compares the hand scan with the token stream on each
// trigger's sample (see the figure in detect.go's comment).
func BenchmarkDetect(b *testing.B) {
	for name, raw := range benchEvents(b) {
		b.Run("scan/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Detect(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("tokens/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if detectTokens(raw) == KindUnknown {
					b.Fatal("unknown")
				}
			}
		})
	}
}
