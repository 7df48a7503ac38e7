package ecstest_test

import (
	"context"
	"flag"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/ecsclient"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/ecstest"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/retry"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/testutil"
)

// transition is how long the emulator's resets, stops, starts and new
// snapshots last: long enough for a read right after the call to see them
// (SeesTransitions), short enough for 36 modes on 2 cores.
const transition = 120 * time.Millisecond

var emuCreds = function.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: ecsemu.DefaultAccessKeySecret}

// TestMain raises -test.parallel, unless given, from GOMAXPROCS to 8: the
// contract's checks mostly wait for the emulator's transitions.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		if err := flag.Set("test.parallel", "8"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// TestConformanceEmulator runs the contract against ecsclient and the
// emulator in every mode of ecsemu.AllModes.
func TestConformanceEmulator(t *testing.T) {
	unreachable := "http://" + testutil.RefusedAddr
	for _, m := range ecsemu.AllModes() {
		t.Run(m.Name, func(t *testing.T) {
			t.Parallel()
			ecstest.RunConformance(t, emuHarness(m.Modes, unreachable))
		})
	}
}

// emuHarness gives each mutating check its own emulator with the default
// fleet, and the read-only checks one with ecstest.PagingFleet.
func emuHarness(modes ecsemu.Modes, unreachable string) ecstest.Harness {
	return ecstest.Harness{
		New: func(t ecstest.TB) ecstest.Env {
			return emuEnv(t, modes, unreachable, defaultFleet(), ecstest.DefaultIDs())
		},
		Shared: func(t ecstest.TB) ecstest.Env {
			fx, ids := pagingFleet()
			return emuEnv(t, modes, unreachable, fx, ids)
		},
		Caps: ecstest.Caps{Mutate: true, Parallel: true, Transition: transition, TagQuota: true, Poll: transition / 2, Timeout: 10 * time.Second},
	}
}

// The fixtures are built once: ecsemu.NewServer keeps its own copy.
var (
	defaultFleet = sync.OnceValue(ecsemu.DefaultFixture)
	pagingFleet  = sync.OnceValues(ecstest.PagingFleet)
)

// emuEnv starts an emulator with fx and connects to it.
func emuEnv(t ecstest.TB, modes ecsemu.Modes, unreachable string, fx *ecsemu.Fixture, ids ecstest.IDs) ecstest.Env {
	s, err := ecsemu.NewServer(ecsemu.Options{Fixture: fx, Modes: modes, ResetDuration: transition,
		StopDuration: transition, StartDuration: transition, SnapshotDuration: transition})
	if err != nil {
		t.Fatalf("ecsemu.NewServer: %v", err)
	}
	t.Cleanup(s.Close)
	bad := function.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: "wrong-secret-0000"}
	return ecstest.Env{
		ECS:            connect(t, s.URL(), emuCreds),
		IDs:            ids,
		BadCredentials: connect(t, s.URL(), bad),
		Unreachable:    connect(t, unreachable, emuCreds),
		Secrets:        []string{emuCreds.AccessKeySecret, bad.AccessKeySecret},
	}
}

// connect is an ecsclient ECS for endpoint, retrying quickly.
func connect(t ecstest.TB, endpoint string, creds function.Credentials) function.ECS {
	c := ecsclient.New(ecsclient.Config{Endpoint: endpoint,
		Retry: retry.Policy{MaxAttempts: 2, Backoff: retry.ConstantBackoff(time.Millisecond), MinAttemptTime: -1}})
	t.Cleanup(c.CloseIdleConnections)
	e, err := c.Connect(context.Background(), creds)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	return e
}
