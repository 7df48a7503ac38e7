// Command floor-libs is the libraries' start-up floor of the benchmarks: the
// hello-world fc.Start function of floor-runtime, linking the two libraries
// the function must use — alibaba-cloud-sdk-go's ECS package (a client and
// a ResetDisks call, built the way ecsclient builds them) and go-playground/validator/v10 (a validator and a
// struct check) — and using neither. Their code is in the binary and their
// package initialisation runs, exactly as in the function, but no client,
// request or validator is built: the branch that would is never taken (it
// needs an environment variable nobody sets), and the compiler cannot know
// that, so the linker keeps everything it reaches. cmd/bench builds it as
// the function is built and runs it under the FC runtime emulator beside it.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/go-playground/validator/v10"
)

var hello = json.RawMessage(`{"hello":"world"}`)

type request struct {
	RegionID string `validate:"required"`
}

// never links both libraries' working paths without running them.
func never() {
	v := validator.New(validator.WithRequiredStructEnabled())
	_ = v.Struct(request{})
	c := &ecs.Client{}
	if err := c.InitWithOptions("", sdk.NewConfig(), credentials.NewAccessKeyCredential("id", "secret")); err == nil {
		_ = c.DoAction(ecs.CreateResetDisksRequest(), ecs.CreateResetDisksResponse())
	}
}

func main() {
	if os.Getenv("BENCH_FLOOR_LIBS_USE_THEM") == "never set" {
		never()
	}
	fc.Start(func(context.Context, []byte) (json.RawMessage, error) { return hello, nil })
}
