// Command floor-call is the like-for-like warm floor of the benchmarks:
// floor-runtime's hello-world fc.Start function whose handler makes the
// function's one ResetDisks dry run with the raw alibaba-cloud-sdk-go, built
// as floor-sdk builds it (one client made in main, a request per call), and
// nothing else — no validation, no logging, no code of the function's.
//
// floor-sdk times its calls back to back in a tight loop; an invocation's
// call comes after the process has waited for the next event, and a call
// after a wait can take longer (bench/CHANGES.md, round 5). floor-call
// pays what an invocation pays: the runtime API round trip plus one SDK
// call, in one warm process, so cmd/bench times it like the function
// (event in → result out).
// It reads the disks from the event's Disk array so it does what the event
// asks; RegionId and DryRun are the dry run's. ECS_ENDPOINT is the ECS
// emulator (http://host:port); the access key comes from
// ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/fc-runtime-go-sdk/fc"
)

// event is the part of the function's request floor-call reads.
type event struct {
	Disk []ecs.ResetDisksDisk // DiskId and SnapshotId, as in the request
}

func main() {
	client, err := ecs.NewClientWithAccessKey("cn-hangzhou", os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor-call:", err)
		os.Exit(1)
	}
	domain := strings.TrimPrefix(os.Getenv("ECS_ENDPOINT"), "http://")
	fc.Start(func(_ context.Context, payload []byte) (json.RawMessage, error) {
		var ev event
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		req := ecs.CreateResetDisksRequest()
		req.Scheme = "HTTP"
		req.Domain = domain
		req.RegionId = "cn-hangzhou"
		req.DryRun = requests.NewBoolean(true)
		req.Disk = &ev.Disk
		resp, err := client.ResetDisks(req)
		requestID := ""
		var se *sdkerrors.ServerError
		switch {
		case errors.As(err, &se) && se.ErrorCode() == "DryRunOperation":
			requestID = se.RequestId()
		case err != nil:
			return nil, err
		default:
			requestID = resp.RequestId
		}
		id, _ := json.Marshal(requestID)
		return json.RawMessage(`{"floor":"call","RequestId":` + string(id) + `}`), nil
	})
}
