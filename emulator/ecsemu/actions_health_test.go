package ecsemu

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

const (
	healthInst  = "i-bp1running0000000000" // Running in the default fleet
	stoppedInst = "i-bp1stopped0000000000"
)

func fullStatus(t *testing.T, c *ecs.Client, id string) ecs.InstanceFullStatusType {
	t.Helper()
	req := ecs.CreateDescribeInstancesFullStatusRequest()
	req.RegionId = hz
	req.InstanceId = &[]string{id}
	resp, err := c.DescribeInstancesFullStatus(req)
	if err != nil {
		t.Fatalf("DescribeInstancesFullStatus: %v", err)
	}
	got := resp.InstanceFullStatusSet.InstanceFullStatusType
	if len(got) != 1 {
		t.Fatalf("got %d entries, want 1", len(got))
	}
	return got[0]
}

func startStopped(t *testing.T, s *Server, c *ecs.Client, id string) error {
	t.Helper()
	req := ecs.CreateStartInstanceRequest()
	req.RegionId, req.InstanceId = hz, id
	_, err := c.StartInstance(req)
	if err == nil {
		eventually(t, "running", func() bool { in, _ := s.Instance(hz, id); return in.Status == InstanceRunning })
	}
	return err
}

func TestHealthScript(t *testing.T) {
	tests := []struct {
		name   string
		script *InstanceScript
		want   []string // HealthStatus after the 1st and 2nd start
	}{
		{"default Ok", nil, []string{"Ok", "Ok"}},
		{"impaired then ok", &InstanceScript{Health: []string{"Impaired", "Ok"}}, []string{"Impaired", "Ok"}},
		{"initializing forever", &InstanceScript{Health: []string{"Initializing"}}, []string{"Initializing", "Initializing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, fast())
			c := newClient(t, s, hz)
			if err := s.SetInstanceScript(stoppedInst, tt.script); err != nil {
				t.Fatal(err)
			}
			if got := fullStatus(t, c, stoppedInst).HealthStatus.Name; got != "NotApplicable" {
				t.Errorf("stopped: HealthStatus %q, want NotApplicable", got)
			}
			for i, want := range tt.want {
				if err := startStopped(t, s, c, stoppedInst); err != nil {
					t.Fatalf("start %d: %v", i+1, err)
				}
				if got := fullStatus(t, c, stoppedInst); got.HealthStatus.Name != want || got.Status.Name != InstanceRunning {
					t.Errorf("after start %d: %+v, want Running and %s", i+1, got, want)
				}
				s.SetInstanceStatus(stoppedInst, InstanceStopped)
			}
		})
	}
}

func TestNoStockOnStart(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	if err := s.SetInstanceScript(stoppedInst, &InstanceScript{NoStockStarts: 2}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		err := startStopped(t, s, c, stoppedInst)
		wantServerError(t, err, CodeOperationDeniedNoStock, http.StatusForbidden)
		if in, _ := s.Instance(hz, stoppedInst); in.Status != InstanceStopped {
			t.Errorf("after refusal %d: %s, want Stopped", i+1, in.Status)
		}
	}
	if err := startStopped(t, s, c, stoppedInst); err != nil {
		t.Fatalf("third start: %v", err)
	}
}

func TestInvokeCommand(t *testing.T) {
	tests := []struct {
		name       string
		script     *InstanceScript
		status     string
		exit       int64
		code       string
		agentState string
	}{
		{"exit 0", nil, "Success", 0, "", "true"},
		{"exit 3", &InstanceScript{ExitCodes: []int{3}, Outputs: []string{"db down\n"}}, "Failed", 3, "ExitCodeNonzero", "true"},
		{"agent stopped", &InstanceScript{Agent: AgentStopped}, "Failed", 0, "ClientNotRunning", "false"},
		{"agent missing", &InstanceScript{Agent: AgentMissing}, "Failed", 0, "ClientNotRunning", "false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := fast()
			opts.CommandDuration = 20 * time.Millisecond
			s := newTestServer(t, opts)
			c := newClient(t, s, hz)
			if err := s.SetInstanceScript(healthInst, tt.script); err != nil {
				t.Fatal(err)
			}
			as := ecs.CreateDescribeCloudAssistantStatusRequest()
			as.RegionId, as.InstanceId = hz, &[]string{healthInst}
			ar, err := c.DescribeCloudAssistantStatus(as)
			if err != nil {
				t.Fatal(err)
			}
			if got := ar.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus; len(got) != 1 || got[0].CloudAssistantStatus != tt.agentState {
				t.Errorf("agent status %+v, want %s", got, tt.agentState)
			}
			cc := ecs.CreateCreateCommandRequest()
			cc.RegionId, cc.Name, cc.Type, cc.CommandContent = hz, "health", "RunShellScript", base64.StdEncoding.EncodeToString([]byte("exit 0"))
			cr, err := c.CreateCommand(cc)
			if err != nil {
				t.Fatal(err)
			}
			ic := ecs.CreateInvokeCommandRequest()
			ic.RegionId, ic.CommandId, ic.InstanceId = hz, cr.CommandId, &[]string{healthInst}
			ir, err := c.InvokeCommand(ic)
			if err != nil {
				t.Fatal(err)
			}
			var got ecs.InvocationResult
			eventually(t, "finished", func() bool {
				q := ecs.CreateDescribeInvocationResultsRequest()
				q.RegionId, q.InvokeId = hz, ir.InvokeId
				r, err := c.DescribeInvocationResults(q)
				if err != nil || len(r.Invocation.InvocationResults.InvocationResult) != 1 {
					t.Fatalf("DescribeInvocationResults: %v %+v", err, r)
				}
				got = r.Invocation.InvocationResults.InvocationResult[0]
				return got.InvocationStatus != "Running"
			})
			if got.InvocationStatus != tt.status || got.ExitCode != tt.exit || got.ErrorCode != tt.code {
				t.Errorf("result %s/%d/%s, want %s/%d/%s", got.InvocationStatus, got.ExitCode, got.ErrorCode, tt.status, tt.exit, tt.code)
			}
			// Output is Base64 unless PlainText is asked.
			if _, err := base64.StdEncoding.DecodeString(got.Output); err != nil {
				t.Errorf("output %q is not Base64: %v", got.Output, err)
			}
		})
	}
}

func TestInvokeCommandErrors(t *testing.T) {
	s := newTestServer(t, fast())
	c := newClient(t, s, hz)
	ic := ecs.CreateInvokeCommandRequest()
	ic.RegionId, ic.CommandId, ic.InstanceId = hz, "c-doesnotexist0000", &[]string{healthInst}
	_, err := c.InvokeCommand(ic)
	wantServerError(t, err, CodeInvalidCmdIDNotFound, http.StatusNotFound)
}

func TestInstanceNetworkFields(t *testing.T) {
	s := newTestServer(t, fast())
	if err := s.Mutate(func(f *Fixture) {
		for i := range f.Instances {
			if f.Instances[i].InstanceID == stoppedInst {
				in := &f.Instances[i]
				in.VpcID, in.VSwitchID, in.PrivateIPs, in.PublicIPs = "vpc-emu1", "vsw-emu1", []string{"192.168.0.7"}, []string{"47.0.0.1"}
				in.SecurityGroupIDs = []string{"sg-emu1"}
				in.Script = &InstanceScript{PublicIPsAfterStart: []string{"47.0.0.2"}}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s, hz)
	describe := func() ecs.Instance {
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId, req.InstanceIds = hz, `["`+stoppedInst+`"]`
		resp, err := c.DescribeInstances(req)
		if err != nil || len(resp.Instances.Instance) != 1 {
			t.Fatalf("DescribeInstances: %v", err)
		}
		return resp.Instances.Instance[0]
	}
	in := describe()
	if in.VpcAttributes.VpcId != "vpc-emu1" || in.VpcAttributes.VSwitchId != "vsw-emu1" || in.VpcAttributes.PrivateIpAddress.IpAddress[0] != "192.168.0.7" ||
		in.PublicIpAddress.IpAddress[0] != "47.0.0.1" || in.SecurityGroupIds.SecurityGroupId[0] != "sg-emu1" {
		t.Errorf("network fields %+v", in)
	}
	if err := startStopped(t, s, c, stoppedInst); err != nil {
		t.Fatal(err)
	}
	if got := describe().PublicIpAddress.IpAddress; len(got) != 1 || got[0] != "47.0.0.2" {
		t.Errorf("public IPs after start %v, want [47.0.0.2]", got)
	}
}

func TestAdminInstanceScript(t *testing.T) {
	s := newTestServer(t, fast())
	for _, tt := range []struct {
		body string
		want int
	}{
		{`{"health":["Impaired"],"agent":"stopped"}`, http.StatusNoContent},
		{`{"agent":"sleeping"}`, http.StatusBadRequest},
		{`{"unknown":1}`, http.StatusBadRequest},
	} {
		resp, err := http.Post(s.URL()+"/_emulator/instances/"+healthInst+"/script", "application/json", bytes.NewBufferString(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.body, resp.StatusCode, tt.want)
		}
	}
	if in, _ := s.Instance(hz, healthInst); in.Script == nil || in.Script.Agent != AgentStopped {
		t.Errorf("script %+v, want agent stopped", in.Script)
	}
}
