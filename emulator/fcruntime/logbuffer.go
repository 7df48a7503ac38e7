package fcruntime

import (
	"bytes"
	"sync"
)

// LogBuffer collects a function's output for tests: pass it as
// Options.Stdout and Options.Stderr. The process writes from two pipes
// while the test reads, so it is goroutine-safe, unlike bytes.Buffer.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
