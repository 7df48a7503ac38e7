// Command floor-runtime is the cold-start floor of the benchmarks: a
// hello-world FC function with nothing but fc-runtime-go-sdk. cmd/bench
// builds it exactly as the function is built and runs it under the FC
// runtime emulator beside the function.
package main

import (
	"context"
	"encoding/json"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
)

var hello = json.RawMessage(`{"hello":"world"}`)

func main() {
	fc.Start(func(context.Context, []byte) (json.RawMessage, error) { return hello, nil })
}
