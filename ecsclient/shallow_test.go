package ecsclient

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// funcCall runs f on a kept goroutine and hands back its error.
type funcCall struct {
	f    func() error
	done chan error
}

func (c *funcCall) run() { c.done <- c.f() }

func runFunc(f func() error) error {
	c := &funcCall{f: f, done: make(chan error, 1)}
	runShallow(c)
	return <-c.done
}

func TestRunShallow(t *testing.T) {
	tests := []struct {
		name       string
		concurrent int
	}{
		{"one call at a time", 1},
		{"as many at once as are kept", maxIdleSDKGoroutines},
		{"more at once than are kept", 3 * maxIdleSDKGoroutines},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var wg sync.WaitGroup
			release := make(chan struct{})
			errs := make(chan error, tt.concurrent)
			for i := range tt.concurrent {
				wg.Go(func() {
					want := fmt.Errorf("call %d", i)
					got := runFunc(func() error { <-release; return want })
					if got != want {
						errs <- fmt.Errorf("call %d answered %v", i, got)
					}
				})
			}
			close(release)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if n := len(idleSDKGoroutines); n > maxIdleSDKGoroutines {
				t.Errorf("%d idle goroutines kept, at most %d", n, maxIdleSDKGoroutines)
			}
		})
	}
}

// TestRunShallowReusesGoroutines: sequential calls run on the kept
// goroutines (so the SDK's nonce source, the goroutine id, repeats; the
// nonce stays unique by its counter and random part) and start no new ones.
func TestRunShallowReusesGoroutines(t *testing.T) {
	gid := func() error { return errors.New(goroutineID()) }
	ids := map[string]bool{runFunc(gid).Error(): true}
	before := runtime.NumGoroutine()
	for range 100 {
		ids[runFunc(gid).Error()] = true
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines %d → %d over 100 sequential calls", before, after)
	}
	if len(ids) > maxIdleSDKGoroutines {
		t.Errorf("101 sequential calls ran on %d goroutines, at most %d are kept", len(ids), maxIdleSDKGoroutines)
	}
}

// goroutineID reads the calling goroutine's id the way the SDK does.
func goroutineID() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	var id uint64
	_, _ = fmt.Sscanf(string(b), "goroutine %d ", &id)
	return strconv.FormatUint(id, 10)
}
