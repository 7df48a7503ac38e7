// Command fc-runtime-emulator runs a built FC (Go runtime) function binary
// the way Function Compute does, under the local runtime API of
// emulator/fcruntime, and either invokes it once per -event or serves a
// small invoke API (-listen). The function's logs go to stderr. It refuses
// to run a function that has credentials but no ECS_ENDPOINT (it would call
// real ECS) unless -real-cloud is given.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
