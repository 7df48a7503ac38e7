package function

// Types of the ECS calls the health gate, the identity check and undo make.

// Network is what DescribeInstances tells about where an instance sits
// and how it is reached: VpcAttributes (VpcId, VSwitchId,
// PrivateIpAddress.IpAddress), PublicIpAddress.IpAddress,
// EipAddress.IpAddress and SecurityGroupIds.SecurityGroupId.
type Network struct {
	VpcID            string   `json:"VpcId,omitempty"`
	VSwitchID        string   `json:"VSwitchId,omitempty"`
	PrivateIps       []string `json:"PrivateIps,omitempty"`
	PublicIps        []string `json:"PublicIps,omitempty"`
	EipAddress       string   `json:"EipAddress,omitempty"`
	SecurityGroupIDs []string `json:"SecurityGroupIds,omitempty"`
}

// InstanceHealth is one instance of DescribeInstancesFullStatus:
// InstanceFullStatusType.HealthStatus (Name, Code) and Status.Name.
type InstanceHealth struct {
	InstanceID string
	Status     string // lifecycle: Running, Stopped, ...
	Health     string // HealthStatus.Name: Ok, Impaired, Warning, Maintaining, Initializing, InsufficientData, NotApplicable
	HealthCode int
}

// Health states of DescribeInstancesFullStatus the gate acts on.
const (
	healthOk       = "Ok"
	healthImpaired = "Impaired"
)

// AgentStatus is one instance of DescribeCloudAssistantStatus.
type AgentStatus struct {
	InstanceID string
	// Running is CloudAssistantStatus "true": the agent is running.
	Running bool
	Version string
}

// InvokeCommandInput is one InvokeCommand call of a registered command.
type InvokeCommandInput struct {
	RegionID    string
	CommandID   string
	InstanceIDs []string
	// Timeout in seconds for the command on the instance (0: the command's own).
	Timeout int
	// ClientToken makes a resent call the same invocation.
	ClientToken string
}

// InvocationResult is one instance's result of DescribeInvocationResults
// (Invocation.InvocationResults.InvocationResult).
type InvocationResult struct {
	InstanceID string
	// InvocationStatus: Pending, Running, Stopping (not finished); Success,
	// Failed, Error, Timeout, Cancelled, Terminated, Aborted, Invalid.
	InvocationStatus string
	ExitCode         int64
	Output           string // plain text (ContentEncoding PlainText)
	ErrorCode        string // e.g. ClientNotRunning, ExitCodeNonzero
	ErrorInfo        string
}

// HealthCheck is the gate a rollback passes after its instances are
// Running again (Request.HealthCheck).
type HealthCheck struct {
	// Type: InstanceStatus (ECS's own health), Command (the Cloud
	// Assistant command HEALTH_COMMAND_ID) or HTTP (a GET to the instance).
	Type string `json:"Type" validate:"required,oneof=InstanceStatus Command HTTP"`
	// Port, Path and ExpectStatus are HTTP's: GET http://<instance address>:Port/Path
	// answers ExpectStatus (default 200).
	Port         int    `json:"Port,omitempty" validate:"required_if=Type HTTP,excluded_unless=Type HTTP,omitempty,min=1,max=65535"`
	Path         string `json:"Path,omitempty" validate:"excluded_unless=Type HTTP,omitempty,max=256,httppath"`
	ExpectStatus int    `json:"ExpectStatus,omitempty" validate:"excluded_unless=Type HTTP,omitempty,min=100,max=599"`
	// TimeoutSeconds bounds the gate (default 120): not healthy by then is unhealthy.
	TimeoutSeconds int `json:"TimeoutSeconds,omitempty" validate:"omitempty,min=1,max=900"`
}

// UndoRollback names the instance whose last rollback is undone.
type UndoRollback struct {
	InstanceID string `json:"InstanceId" validate:"required,instanceid"`
}
