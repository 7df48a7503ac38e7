package ecsclient

import (
	"context"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-disk-rollback/ecs-disk-rollback/function"
)

// The calls of the health gate and of undo. Request and response shapes are
// the SDK's (services/ecs describe_instances_full_status.go,
// describe_cloud_assistant_status.go, invoke_command.go,
// describe_invocation_results.go).

// DescribeInstanceDisks lists the disks attached to an instance, with tags.
func (c *Client) DescribeInstanceDisks(ctx context.Context, regionID, instanceID string) ([]function.Disk, error) {
	return c.describeDisks(ctx, regionID, func(r *ecs.DescribeDisksRequest) { r.InstanceId = instanceID })
}

// DescribeInstancesFullStatus reads each instance's HealthStatus (at most
// 100 instances a call, PageSize 100).
func (c *Client) DescribeInstancesFullStatus(ctx context.Context, regionID string, instanceIDs []string) ([]function.InstanceHealth, error) {
	var out []function.InstanceHealth
	for _, ids := range chunks(instanceIDs, maxIDsPerDescribe) {
		resp, err := call(ctx, c, "DescribeInstancesFullStatus", regionID, read, func() (*ecs.DescribeInstancesFullStatusRequest, *ecs.DescribeInstancesFullStatusResponse) {
			r := ecs.CreateDescribeInstancesFullStatusRequest()
			r.RegionId = regionID
			idList := append([]string(nil), ids...)
			r.InstanceId = &idList
			r.PageSize = requests.NewInteger(pageSize)
			return r, ecs.CreateDescribeInstancesFullStatusResponse()
		})
		if err != nil {
			return nil, err
		}
		for _, s := range resp.InstanceFullStatusSet.InstanceFullStatusType {
			out = append(out, function.InstanceHealth{InstanceID: s.InstanceId, Status: s.Status.Name, Health: s.HealthStatus.Name, HealthCode: s.HealthStatus.Code})
		}
	}
	return out, nil
}

// DescribeCloudAssistantStatus reads whether each instance's agent runs
// (CloudAssistantStatus "true").
func (c *Client) DescribeCloudAssistantStatus(ctx context.Context, regionID string, instanceIDs []string) ([]function.AgentStatus, error) {
	var out []function.AgentStatus
	for _, ids := range chunks(instanceIDs, 50) {
		err := pages("DescribeCloudAssistantStatus", func(token string) (string, error) {
			resp, err := call(ctx, c, "DescribeCloudAssistantStatus", regionID, read, func() (*ecs.DescribeCloudAssistantStatusRequest, *ecs.DescribeCloudAssistantStatusResponse) {
				r := ecs.CreateDescribeCloudAssistantStatusRequest()
				r.RegionId, r.NextToken = regionID, token
				idList := append([]string(nil), ids...)
				r.InstanceId = &idList
				r.MaxResults = requests.NewInteger(50)
				return r, ecs.CreateDescribeCloudAssistantStatusResponse()
			})
			if err != nil {
				return "", err
			}
			for _, s := range resp.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus {
				out = append(out, function.AgentStatus{InstanceID: s.InstanceId, Running: strings.EqualFold(s.CloudAssistantStatus, "true"), Version: s.CloudAssistantVersion})
			}
			return resp.NextToken, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// InvokeCommand runs a registered command once on the instances.
func (c *Client) InvokeCommand(ctx context.Context, in function.InvokeCommandInput) (string, error) {
	resp, err := call(ctx, c, "InvokeCommand", in.RegionID, mutating, func() (*ecs.InvokeCommandRequest, *ecs.InvokeCommandResponse) {
		r := ecs.CreateInvokeCommandRequest()
		r.RegionId, r.CommandId, r.ClientToken = in.RegionID, in.CommandID, in.ClientToken
		ids := append([]string(nil), in.InstanceIDs...)
		r.InstanceId = &ids
		r.RepeatMode = "Once"
		if in.Timeout > 0 {
			r.Timeout = requests.NewInteger(in.Timeout)
		}
		return r, ecs.CreateInvokeCommandResponse()
	})
	if err != nil {
		return "", err
	}
	return resp.InvokeId, nil
}

// DescribeInvocationResults reads one invocation's per-instance results,
// output as plain text.
func (c *Client) DescribeInvocationResults(ctx context.Context, regionID, invokeID string) ([]function.InvocationResult, error) {
	var out []function.InvocationResult
	err := pages("DescribeInvocationResults", func(token string) (string, error) {
		resp, err := call(ctx, c, "DescribeInvocationResults", regionID, read, func() (*ecs.DescribeInvocationResultsRequest, *ecs.DescribeInvocationResultsResponse) {
			r := ecs.CreateDescribeInvocationResultsRequest()
			r.RegionId, r.InvokeId, r.NextToken, r.ContentEncoding = regionID, invokeID, token, "PlainText"
			r.MaxResults = requests.NewInteger(50)
			return r, ecs.CreateDescribeInvocationResultsResponse()
		})
		if err != nil {
			return "", err
		}
		for _, x := range resp.Invocation.InvocationResults.InvocationResult {
			out = append(out, function.InvocationResult{InstanceID: x.InstanceId, InvocationStatus: x.InvocationStatus, ExitCode: x.ExitCode,
				Output: x.Output, ErrorCode: x.ErrorCode, ErrorInfo: x.ErrorInfo})
		}
		return resp.Invocation.NextToken, nil
	})
	return out, err
}

// network is the identity fields of one DescribeInstances entry.
func network(in ecs.Instance) function.Network {
	n := function.Network{
		VpcID:            in.VpcAttributes.VpcId,
		VSwitchID:        in.VpcAttributes.VSwitchId,
		PrivateIps:       in.VpcAttributes.PrivateIpAddress.IpAddress,
		PublicIps:        in.PublicIpAddress.IpAddress,
		EipAddress:       in.EipAddress.IpAddress,
		SecurityGroupIDs: in.SecurityGroupIds.SecurityGroupId,
	}
	if len(n.PrivateIps) == 0 {
		n.PrivateIps = in.InnerIpAddress.IpAddress // classic network
	}
	return n
}
