package main

import (
	"context"
	"io"
	"os/exec"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/ecsemu"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/emulator/fcruntime"
)

// fcHost is a function process under the FC runtime emulator
// (emulator/fcruntime), which starts the executable as a child process and
// plays FC's side of the runtime API.
type fcHost struct{ s *fcruntime.Server }

// startHost starts spec.Binary under the FC runtime emulator with the
// emulator's default credentials as the invocation's role credentials.
func startHost(spec hostSpec) (host, error) {
	s, err := fcruntime.NewServer(fcruntime.Options{
		Binary:       spec.Binary,
		Args:         spec.Args,
		Env:          spec.Env,
		FunctionName: "ecs-disk-rollback-bench-" + spec.Name,
		Region:       "cn-hangzhou",
		Timeout:      invokeTimeout,
		Credentials:  fcruntime.Credentials{AccessKeyID: ecsemu.DefaultAccessKeyID, AccessKeySecret: ecsemu.DefaultAccessKeySecret},
		Stdout:       io.Discard,
		Stderr:       io.Discard,
		Start:        func(cmd *exec.Cmd) error { return startMeasured(cmd.Start) },
	})
	if err != nil {
		return nil, err
	}
	return fcHost{s}, nil
}

func (h fcHost) Invoke(ctx context.Context, event []byte) (invokeResult, error) {
	res, err := h.s.Invoke(ctx, event, fcruntime.InvokeOptions{})
	if err != nil {
		return invokeResult{}, err
	}
	out := invokeResult{Payload: res.Payload, TimedOut: res.TimedOut}
	if res.Error != nil {
		out.ErrType, out.ErrMsg = res.Error.Type, res.Error.Message
	}
	return out, nil
}

func (h fcHost) PID() int { return h.s.PID() }

func (h fcHost) Close() { _ = h.s.Close() }
