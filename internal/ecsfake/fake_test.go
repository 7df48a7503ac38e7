package ecsfake_test

import (
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/ecsfake"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/ecstest"
)

// TestConformance runs the contract against the fake, its transitions
// driven by an injected clock and by calls.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps int
	}{
		{"clock", 0},
		{"steps", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ecstest.RunConformance(t, harness(tc.steps))
		})
	}
}

func harness(steps int) ecstest.Harness {
	return ecstest.Harness{
		New: func(t ecstest.TB) ecstest.Env {
			return fakeEnv(t, steps, ecsemu.DefaultFixture(), ecstest.DefaultIDs())
		},
		Shared: func(t ecstest.TB) ecstest.Env {
			fx, ids := ecstest.PagingFleet()
			return fakeEnv(t, steps, fx, ids)
		},
		Caps: ecstest.Caps{Mutate: true, Parallel: true, Transition: time.Minute, TagQuota: true, Poll: 100 * time.Millisecond, Timeout: time.Minute},
	}
}

// fakeEnv is a Fake holding fx with its own manual clock, which the
// contract's waits advance.
func fakeEnv(t ecstest.TB, steps int, fx *ecsemu.Fixture, ids ecstest.IDs) ecstest.Env {
	clock := ecsfake.NewClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	f, err := ecsfake.New(fx, ecsfake.Options{Now: clock.Now, Steps: steps,
		ResetDuration: time.Second, StopDuration: time.Second, StartDuration: time.Second, SnapshotDuration: time.Second})
	if err != nil {
		t.Fatalf("ecsfake.New: %v", err)
	}
	return ecstest.Env{ECS: f, IDs: ids, Sleep: clock.Sleep}
}
