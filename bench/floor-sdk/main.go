// Command floor-sdk is the API-call floor of the benchmarks: the least code
// that makes the function's one ResetDisks call with the raw
// alibaba-cloud-sdk-go, pointed at the ECS emulator.
//
// Once (the default): one ResetDisks call, then one JSON line on stdout
// {"code","requestId","mainNs","callNs"} and exit; cmd/bench times exec →
// exit. With -serve it reads a count N per line on stdin, makes N calls in a
// loop with one client, and answers each line with {"ns":[...]} — the warm
// floor. A dry run's DryRunOperation answer is the expected outcome.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func main() {
	start := time.Now()
	endpoint := flag.String("endpoint", "", "ECS endpoint, http://host:port")
	region := flag.String("region", "cn-hangzhou", "RegionId")
	disks := flag.String("disks", "", "DiskId=SnapshotId,... pairs")
	dryRun := flag.Bool("dry-run", true, "DryRun")
	serve := flag.Bool("serve", false, "read call counts on stdin and answer latencies")
	flag.Parse()

	client, err := ecs.NewClientWithAccessKey(*region, os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"))
	if err != nil {
		fail(err)
	}
	call := func() (string, string, error) {
		req := ecs.CreateResetDisksRequest()
		req.Scheme = "HTTP"
		req.Domain = strings.TrimPrefix(*endpoint, "http://")
		req.RegionId = *region
		req.DryRun = requests.NewBoolean(*dryRun)
		var pairs []ecs.ResetDisksDisk
		for _, p := range strings.Split(*disks, ",") {
			d, s, _ := strings.Cut(p, "=")
			pairs = append(pairs, ecs.ResetDisksDisk{DiskId: d, SnapshotId: s})
		}
		req.Disk = &pairs
		resp, err := client.ResetDisks(req)
		var se *sdkerrors.ServerError
		switch {
		case errors.As(err, &se):
			if *dryRun && se.ErrorCode() == "DryRunOperation" {
				return se.ErrorCode(), se.RequestId(), nil
			}
			return se.ErrorCode(), se.RequestId(), err
		case err != nil:
			return "", "", err
		}
		return "Success", resp.RequestId, nil
	}

	if !*serve {
		t := time.Now()
		code, id, err := call()
		if err != nil {
			fail(err)
		}
		out, _ := json.Marshal(map[string]any{"code": code, "requestId": id, "mainNs": time.Since(start).Nanoseconds(), "callNs": time.Since(t).Nanoseconds()})
		fmt.Println(string(out))
		return
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		n, err := strconv.Atoi(strings.TrimSpace(in.Text()))
		if err != nil || n < 0 || n > 1_000_000 {
			fail(fmt.Errorf("bad count %q", in.Text()))
		}
		ns := make([]int64, 0, n)
		for range n {
			t := time.Now()
			if _, _, err := call(); err != nil {
				fail(err)
			}
			ns = append(ns, time.Since(t).Nanoseconds())
		}
		out, _ := json.Marshal(map[string]any{"ns": ns})
		fmt.Println(string(out))
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "floor-sdk:", err)
	os.Exit(1)
}
