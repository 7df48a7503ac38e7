package main

import (
	"fmt"
	"maps"
	"os"
	"syscall"
	"time"
)

// coldResult holds the cold-start samples per contender, one per round.
type coldResult struct {
	// Wall is exec → the first result (floor-sdk: exec → exit).
	Wall map[string]sample
	// ToNext is exec → the process's first GET /next (hosted contenders):
	// process start, package initialisation, main up to fc.Start.
	ToNext map[string]sample
	// NextToResult is the first invocation: the event handed to the
	// waiting GET /next → its result posted.
	NextToResult map[string]sample
	// CPU is the process's user + system CPU time over its whole life
	// (from its rusage when reaped): start, the first invocation, exit.
	CPU map[string]sample
	// FloorSDKCall is the first call as floor-sdk timed it inside main
	// (client construction + signing + connect + answer).
	FloorSDKCall sample
	// LibsPlusCall is, per round, floor-libs exec → result + floor-sdk's
	// first call timed inside main: the libraries' start-up floor plus one
	// raw SDK call, without counting a process start twice.
	LibsPlusCall sample
	// FloorSum is, per round, floor-runtime start + floor-sdk exec→exit
	// (the old, loose floor: it counts process start twice).
	FloorSum sample
}

// processCPU is a reaped process's user + system time from its rusage.
func processCPU(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}

// childrenCPU is the user + system time of every reaped child of this
// process so far (getrusage RUSAGE_CHILDREN). The cold loop runs one child
// at a time and reaps it before the next starts, so the difference across
// one contender's run is that process's own rusage.
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureCold runs every contender once per round, rotating the order, after
// one discarded round that warms the page cache.
func measureCold(cs []contender, fs *floorSDK, rounds int, event []byte, logf func(string, ...any)) (*coldResult, error) {
	res := &coldResult{Wall: map[string]sample{}, ToNext: map[string]sample{}, NextToResult: map[string]sample{}, CPU: map[string]sample{}}
	var names []string
	if fs != nil {
		names = append(names, cFloorSDK)
	}
	byName := map[string]contender{}
	for _, c := range cs {
		names = append(names, c.Name)
		byName[c.Name] = c
	}
	for r := -1; r < rounds; r++ {
		type run struct{ wall, toNext, toResult, cpu, call time.Duration }
		round := map[string]run{}
		for _, name := range rotate(names, r+1) {
			if name == cFloorSDK {
				total, call, _, cpu, err := fs.once()
				if err != nil {
					return nil, err
				}
				round[name] = run{wall: total, cpu: cpu, call: call}
				continue
			}
			c := byName[name]
			cpu0 := childrenCPU()
			start := time.Now()
			h, err := startHost(c.Spec)
			if err != nil {
				return nil, fmt.Errorf("%s: starting: %v", name, err)
			}
			polled := time.Now()
			out, err := invokeOnce(h, event)
			done := time.Now()
			h.Close() // reaps the process: its rusage is now in RUSAGE_CHILDREN
			cpu := childrenCPU() - cpu0
			if err != nil {
				return nil, fmt.Errorf("%s: cold invocation: %v", name, err)
			}
			if c.Check != nil {
				if err := c.Check(out.Payload); err != nil {
					return nil, fmt.Errorf("%s: %v", name, err)
				}
			}
			round[name] = run{wall: done.Sub(start), toNext: polled.Sub(start), toResult: done.Sub(polled), cpu: cpu}
		}
		if r < 0 {
			continue // warm-up round
		}
		walls := map[string]time.Duration{}
		for n, x := range round {
			walls[n] = x.wall
			res.Wall[n] = append(res.Wall[n], x.wall)
			res.CPU[n] = append(res.CPU[n], x.cpu)
			if n != cFloorSDK {
				res.ToNext[n] = append(res.ToNext[n], x.toNext)
				res.NextToResult[n] = append(res.NextToResult[n], x.toResult)
			}
		}
		if fs == nil {
			logf("cold round %d/%d: wall %s", r+1, rounds, fmtRound(walls, names))
			continue
		}
		call := round[cFloorSDK].call
		res.FloorSDKCall = append(res.FloorSDKCall, call)
		if x, ok := round[cFloorLibs]; ok {
			res.LibsPlusCall = append(res.LibsPlusCall, x.wall+call)
		}
		if x, ok := round[cFloorRuntime]; ok {
			res.FloorSum = append(res.FloorSum, x.wall+round[cFloorSDK].wall)
		}
		cpus := map[string]time.Duration{}
		for n, x := range round {
			cpus[n] = x.cpu
		}
		logf("cold round %d/%d: wall %s; CPU %s", r+1, rounds, fmtRound(walls, names), fmtRound(cpus, names))
	}
	return res, nil
}

// merge adds another run's per-contender samples (the peer's rounds of its
// own); the per-round floor figures stay this run's.
func (c *coldResult) merge(o *coldResult) {
	for _, m := range []struct{ dst, src map[string]sample }{{c.Wall, o.Wall}, {c.ToNext, o.ToNext}, {c.NextToResult, o.NextToResult}, {c.CPU, o.CPU}} {
		maps.Copy(m.dst, m.src)
	}
}

// splitPeer separates the Node peer from the Go contenders.
func splitPeer(cs []contender) (goContenders, peer []contender) {
	for _, c := range cs {
		if c.Name == cPeer {
			peer = append(peer, c)
		} else {
			goContenders = append(goContenders, c)
		}
	}
	return goContenders, peer
}
