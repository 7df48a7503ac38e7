// Command cloud-check runs the function.ECS contract (internal/ecstest)
// against real ECS through ecsclient, on a throwaway instance that carries
// the opt-in tag ecs-disk-rollback:cloud-check=yes, and writes a JSON
// report of what ECS answered, to compare with emulator/ecsemu/CONFORMANCE.md.
//
// By default it makes only reads and dry runs; -mutate adds the mutating
// steps (stop, snapshot, reset, start, tags). Without credentials it says
// what it needs and exits 0. ECS_ENDPOINT (or -endpoint) points it
// elsewhere, e.g. at cmd/ecs-emulator.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/ecsclient"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
	"github.com/ecs-disk-rollback/ecs-disk-rollback/internal/ecstest"
)

// The opt-in tag the instance must carry.
const (
	OptInKey   = "ecs-disk-rollback:cloud-check"
	OptInValue = "yes"
)

// Credential variables.
const (
	envKeyID  = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	envSecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	envToken  = "ALIBABA_CLOUD_SECURITY_TOKEN"
)

const needs = `cloud-check runs the ECS contract (internal/ecstest) against real ECS.
It needs:
  ` + envKeyID + `, ` + envSecret + ` [, ` + envToken + `]
  -region REGION -instance i-... -disks d-...,d-...   a throwaway instance and its disks
  the instance tagged ` + OptInKey + `=` + OptInValue + ` (checked before anything else)
Optional: -snapshots s-...,s-... (one per disk), -instance-snapshot ssg-..., -foreign-snapshot s-...
  (a snapshot of a disk of another instance), -mutate (stop, snapshot, reset, start, tags),
  -report FILE, -run REGEXP, -endpoint URL (or ECS_ENDPOINT).
Without -mutate only reads and dry runs are made.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	region, instance, report, endpoint, match string
	disks, snapshots                          []string
	instanceSnapshot, foreignSnapshot         string
	mutate                                    bool
	poll, timeout                             time.Duration
}

func list(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	var disks, snaps string
	fs := flag.NewFlagSet("cloud-check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, needs) }
	fs.StringVar(&o.region, "region", "", "region of the instance")
	fs.StringVar(&o.instance, "instance", "", "throwaway instance carrying "+OptInKey+"="+OptInValue)
	fs.StringVar(&disks, "disks", "", "its disks, comma separated")
	fs.StringVar(&snaps, "snapshots", "", "one accomplished snapshot per disk, same order (optional)")
	fs.StringVar(&o.instanceSnapshot, "instance-snapshot", "", "an accomplished snapshot group of the instance (optional)")
	fs.StringVar(&o.foreignSnapshot, "foreign-snapshot", "", "a snapshot of a disk of another instance (optional)")
	fs.BoolVar(&o.mutate, "mutate", false, "also run the mutating steps: stop, snapshot, reset, start, tags")
	fs.StringVar(&o.report, "report", "cloud-check-report.json", "where the JSON report goes")
	fs.StringVar(&o.endpoint, "endpoint", "", "ECS endpoint URL (default: ECS_ENDPOINT, else the regional one)")
	fs.StringVar(&o.match, "run", "", "run only the checks matching this regexp")
	fs.DurationVar(&o.poll, "poll", 2*time.Second, "interval between polls of a transition")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "how long one transition may take")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.disks, o.snapshots = list(disks), list(snaps)
	return o, nil
}

// run is the command; it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	creds := function.Credentials{AccessKeyID: getenv(envKeyID), AccessKeySecret: getenv(envSecret), SecurityToken: getenv(envToken)}
	if creds.Empty() {
		fmt.Fprint(stdout, "cloud-check: no credentials; nothing done.\n\n"+needs)
		return 0
	}
	if o.region == "" || o.instance == "" || len(o.disks) == 0 {
		fmt.Fprint(stderr, "cloud-check: -region, -instance and -disks are required\n\n"+needs)
		return 2
	}
	if len(o.snapshots) > 0 && len(o.snapshots) != len(o.disks) {
		fmt.Fprintln(stderr, "cloud-check: -snapshots must name one snapshot per disk")
		return 2
	}
	var match func(string) bool
	if o.match != "" {
		re, err := regexp.Compile(o.match)
		if err != nil {
			fmt.Fprintf(stderr, "cloud-check: -run: %v\n", err)
			return 2
		}
		match = re.MatchString
	}
	cfg, err := ecsclient.ConfigFromEnv(getenv)
	if o.endpoint != "" {
		cfg.Endpoint = o.endpoint
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "cloud-check: %v\n", err)
		return 2
	}
	conn := ecsclient.New(cfg)
	defer conn.CloseIdleConnections()
	ecs, err := conn.Connect(ctx, creds)
	if err != nil {
		fmt.Fprintf(stderr, "cloud-check: %v\n", err)
		return 1
	}
	ids, err := preflight(ctx, ecs, o)
	if err != nil {
		fmt.Fprintf(stderr, "cloud-check: refused: %v\n", err)
		return 1
	}
	rec := newRecorder(ecs)
	env := ecstest.Env{ECS: rec, IDs: ids, Secrets: []string{creds.AccessKeySecret, creds.SecurityToken}}
	newEnv := func(t ecstest.TB) ecstest.Env {
		rec.setCheck(t.Name())
		return env
	}
	h := ecstest.Harness{New: newEnv, Caps: ecstest.Caps{Mutate: o.mutate, TagQuota: o.mutate, Poll: o.poll, Timeout: o.timeout}}
	fmt.Fprintf(stdout, "cloud-check: %s in %s (%s), mutate=%v\n", o.instance, o.region, endpointOf(cfg, o.region), o.mutate)
	rep := ecstest.Run(ctx, h, func(name string) bool {
		rec.setCheck(name)
		return match == nil || match(name)
	})
	for _, c := range rep.Checks {
		fmt.Fprintf(stdout, "  %-4s %-34s %6dms\n", c.Outcome, c.Name, c.DurationMS)
		if c.Outcome == ecstest.Fail {
			for _, l := range c.Log {
				fmt.Fprintf(stdout, "         %s\n", l)
			}
		}
	}
	if err := writeReport(o, cfg, rep, rec.Answers()); err != nil {
		fmt.Fprintf(stderr, "cloud-check: report: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "cloud-check: report written to %s\n", o.report)
	if rep.Failed() {
		return 1
	}
	return 0
}

func endpointOf(cfg ecsclient.Config, region string) string {
	u, err := cfg.EndpointURL(region)
	if err != nil {
		return "?"
	}
	return u
}

// preflight checks the opt-in tag first, then that the disks are the
// instance's, and fills the contract's IDs from the instance's status.
func preflight(ctx context.Context, ecs function.ECS, o options) (ecstest.IDs, error) {
	tags, err := ecs.ListTagResources(ctx, o.region, "instance", []string{o.instance})
	if err != nil {
		return ecstest.IDs{}, fmt.Errorf("reading the tags of %s: %w", o.instance, err)
	}
	if !slices.ContainsFunc(tags, func(t function.ResourceTag) bool {
		return t.ResourceID == o.instance && t.TagKey == OptInKey && t.TagValue == OptInValue
	}) {
		return ecstest.IDs{}, fmt.Errorf("instance %s does not carry the opt-in tag %s=%s", o.instance, OptInKey, OptInValue)
	}
	disks, err := ecs.DescribeDisks(ctx, o.region, o.disks)
	if err != nil {
		return ecstest.IDs{}, err
	}
	if len(disks) != len(o.disks) {
		return ecstest.IDs{}, fmt.Errorf("found %d of the %d disks", len(disks), len(o.disks))
	}
	for _, d := range disks {
		if d.InstanceID != o.instance {
			return ecstest.IDs{}, fmt.Errorf("disk %s is attached to %q, not %s", d.DiskID, d.InstanceID, o.instance)
		}
	}
	ins, err := ecs.DescribeInstances(ctx, o.region, []string{o.instance})
	if err != nil || len(ins) != 1 {
		return ecstest.IDs{}, fmt.Errorf("describing %s: %d found, %v", o.instance, len(ins), err)
	}
	ids := ecstest.IDs{Region: o.region, ForeignSnapshot: o.foreignSnapshot, InstanceSnapshot: o.instanceSnapshot,
		MissingDisk: "d-cloudcheckmissing000"}
	in := ecstest.Instance{ID: o.instance, Disks: o.disks, Snapshots: o.snapshots}
	switch ins[0].Status {
	case function.InstanceStatusStopped:
		ids.Stopped = in
	case function.InstanceStatusRunning:
		ids.Running = in
	default:
		return ecstest.IDs{}, fmt.Errorf("instance %s is %s; want Running or Stopped", o.instance, ins[0].Status)
	}
	return ids, nil
}

// report is the JSON file.
type report struct {
	Time     time.Time        `json:"time"`
	Region   string           `json:"region"`
	Instance string           `json:"instance"`
	Endpoint string           `json:"endpoint"`
	Mutate   bool             `json:"mutate"`
	Checks   []ecstest.Result `json:"checks"`
	Answers  []Answer         `json:"answers"`
}

func writeReport(o options, cfg ecsclient.Config, rep ecstest.Report, answers []Answer) error {
	b, err := json.MarshalIndent(report{Time: time.Now().UTC(), Region: o.region, Instance: o.instance, Endpoint: endpointOf(cfg, o.region),
		Mutate: o.mutate, Checks: rep.Checks, Answers: answers}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(o.report, append(b, '\n'), 0o644)
}
