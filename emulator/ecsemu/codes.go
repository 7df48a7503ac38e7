package ecsemu

import "net/http"

// Error codes the emulator returns. Each mirrors a code the real ECS OpenAPI
// (or the Alibaba Cloud API gateway in front of it) returns, so callers can
// switch on the same strings they will see in production.
//
// Sources:
//   - [ResetDisks] the ECS ResetDisks API reference, error table
//     (https://help.aliyun.com/zh/ecs/developer-reference/api-ecs-2014-05-26-resetdisks,
//     kept in /work/shared/reference/seed-ResetDisks-api.txt).
//   - [ResetDisk], [StopInstance], [StartInstance], [CreateSnapshot],
//     [DescribeDisks], [DescribeSnapshots], [DescribeInstances], [TagResources]:
//     the error tables of those ECS API reference pages.
//   - [Common]: the Alibaba Cloud OpenAPI common (gateway) error codes,
//     "OpenAPI error center" / "公共错误码".
//
// Where a status could not be confirmed from a public page the comment says
// "unconfirmed"; the value chosen is then the one the gateway uses for its
// sibling codes.
const (
	// CodeInvalidAccessKeyIDNotFound: unknown AccessKeyId. [Common], 404 as ECS documents it.
	CodeInvalidAccessKeyIDNotFound = "InvalidAccessKeyId.NotFound"
	// CodeSignatureDoesNotMatch: the signature differs from the server's. [Common], 400.
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	// CodeSignatureNonceUsed: SignatureNonce replayed within the window. [Common], 400.
	CodeSignatureNonceUsed = "SignatureNonceUsed"
	// CodeInvalidTimeStampExpired: Timestamp more than 15 minutes off. [Common], 400.
	CodeInvalidTimeStampExpired = "InvalidTimeStamp.Expired"
	// CodeInvalidTimeStampFormat: Timestamp not ISO 8601 UTC. [Common], 400.
	CodeInvalidTimeStampFormat = "InvalidTimeStamp.Format"
	// CodeIncompleteSignature: unsupported SignatureMethod/SignatureVersion or a
	// malformed ACS3 Authorization header. [Common], 400 (status unconfirmed).
	CodeIncompleteSignature = "IncompleteSignature"
	// CodeMissingSecurityToken: the key is an STS key but no SecurityToken was sent.
	// [Common], 400 (status unconfirmed).
	CodeMissingSecurityToken = "MissingSecurityToken"
	// CodeInvalidSecurityTokenMismatch: the SecurityToken does not belong to the key.
	// [Common], 400 (status unconfirmed).
	CodeInvalidSecurityTokenMismatch = "InvalidSecurityToken.MismatchWithAccessKey"
	// CodeMissingParameter: a mandatory common parameter (Action, Version,
	// Timestamp, Signature, ...) is absent. [Common], 400. Action parameters use
	// the "Missing<Name>" form instead, see MissingCode.
	CodeMissingParameter = "MissingParameter"
	// CodeInvalidParameter: a parameter is present but not valid. [Common], 400.
	CodeInvalidParameter = "InvalidParameter"
	// CodeInvalidActionNotFound: unknown Action. [Common], 404.
	CodeInvalidActionNotFound = "InvalidAction.NotFound"
	// CodeInvalidVersion: Version is not 2014-05-26. [Common], 400 (status unconfirmed).
	CodeInvalidVersion = "InvalidVersion"
	// CodeThrottlingUser: user flow control. [Common]; ECS documents it as 400,
	// not 503, which is why the SDK's AutoRetry (5xx only) never retries it.
	CodeThrottlingUser = "Throttling.User"
	// CodeInternalError: unknown server-side failure. [ResetDisks], 500.
	CodeInternalError = "InternalError"
	// CodeServiceUnavailable: temporary server failure. [Common], 503.
	CodeServiceUnavailable = "ServiceUnavailable"

	// CodeInvalidRegionIDMalFormed: RegionId is not a well-formed region. [ResetDisks], 400.
	CodeInvalidRegionIDMalFormed = "InvalidRegionId.MalFormed"
	// CodeInvalidRegionIDNotFound: RegionId well formed but unknown. [ResetDisks], 404.
	CodeInvalidRegionIDNotFound = "InvalidRegionId.NotFound"
	// CodeDryRunOperation: every check passed and DryRun=true. [ResetDisks], 400.
	CodeDryRunOperation = "DryRunOperation"
	// CodeDiskCategoryNotSupported: e.g. local disks cannot be reset. [ResetDisks], 400.
	CodeDiskCategoryNotSupported = "DiskCategory.OperationNotSupported"
	// CodeIncorrectDiskStatus: disk not In_use/Available. [ResetDisks], 403.
	CodeIncorrectDiskStatus = "IncorrectDiskStatus"
	// CodeIncorrectInstanceStatus: instance in the wrong state. [ResetDisks], 403.
	CodeIncorrectInstanceStatus = "IncorrectInstanceStatus"
	// CodeInstanceLockedForSecurity: instance locked for security. [ResetDisks], 403.
	CodeInstanceLockedForSecurity = "InstanceLockedForSecurity"
	// CodeInvalidParameterMismatch: snapshot not taken from the disk. [ResetDisks], 403.
	CodeInvalidParameterMismatch = "InvalidParameter.Mismatch"
	// CodeInvalidSnapshotTooOld: snapshot created before 2013-07-15. [ResetDisks], 403.
	CodeInvalidSnapshotTooOld = "InvalidSnapshot.TooOld"
	// CodeInstanceExpiredOrInArrears: prepaid expired or postpaid in arrears. [ResetDisks], 403.
	CodeInstanceExpiredOrInArrears = "InstanceExpiredOrInArrears"
	// CodeOperationDenied: the snapshot does not support reset. [ResetDisks], 403 (fault only).
	CodeOperationDenied = "OperationDenied"
	// CodeInvalidSnapshotIDNotReady: snapshot still progressing. [ResetDisks], 403.
	CodeInvalidSnapshotIDNotReady = "InvalidSnapshotId.NotReady"
	// CodeNotEnoughBalance: account balance. [ResetDisks], 403 (fault only).
	CodeNotEnoughBalance = "InvalidAccountStatus.NotEnoughBalance"
	// CodeSnapshotServiceUnavailable: snapshot service not opened. [ResetDisks], 403 (fault only).
	CodeSnapshotServiceUnavailable = "InvalidAccountStatus.SnapshotServiceUnavailable"
	// CodeOperationConflict: conflicting concurrent operation. [ResetDisks], 403 (fault only).
	CodeOperationConflict = "Operation.Conflict"
	// CodeUserNotInTheWhiteList: disk allow-list. [ResetDisks], 403 (fault only).
	CodeUserNotInTheWhiteList = "UserNotInTheWhiteList"
	// CodeKMSCMKUnauthorized: [ResetDisks], 403 (fault only).
	CodeKMSCMKUnauthorized = "InvalidParameter.KMSKeyId.CMKUnauthorized"
	// CodeKMSCMKNotEnabled: [ResetDisks], 403 (fault only).
	CodeKMSCMKNotEnabled = "InvalidParameter.KMSKeyId.CMKNotEnabled"
	// CodeKMSUnauthorized: [ResetDisks], 403 (fault only).
	CodeKMSUnauthorized = "InvalidParameter.KMSKeyId.KMSUnauthorized"
	// CodeHasUnfinishedSnapshot: the disk has a progressing snapshot. [ResetDisks], 403.
	CodeHasUnfinishedSnapshot = "IncorrectDiskStatus.HasUnfinishedSnapshot"
	// CodeRegionNotSupport: [ResetDisks], 403 (fault only).
	CodeRegionNotSupport = "InvalidRegion.NotSupport"
	// CodeMultiAttachDisk: multi-attach disks cannot be reset. [ResetDisks], 403.
	CodeMultiAttachDisk = "InvalidOperation.MultiAttachDisk"
	// CodeShareVolume: [ResetDisks], 403 (fault only).
	CodeShareVolume = "InvalidDisk.ShareVolume"
	// CodeInvalidDiskIDNotFound: the disk does not exist. [ResetDisks], 404.
	CodeInvalidDiskIDNotFound = "InvalidDiskId.NotFound"
	// CodeDiskNotFound: [ResetDisks], 404 (fault only).
	CodeDiskNotFound = "Disk.NotFound"
	// CodeInvalidSnapshotIDNotFound: the snapshot does not exist. [ResetDisks], 404.
	CodeInvalidSnapshotIDNotFound = "InvalidSnapshotId.NotFound"
	// CodeInvalidInstanceIDNotFound: the instance does not exist. [ResetDisks], [StopInstance], 404.
	CodeInvalidInstanceIDNotFound = "InvalidInstanceId.NotFound"
	// CodeInvalidSnapshotNotFound: [ResetDisks], 404 (fault only).
	CodeInvalidSnapshotNotFound = "InvalidSnapshot.NotFound"

	// CodeInvalidDiskIDsMalformed: DiskIds is not a JSON array of at most 100 ids. [DescribeDisks], 400.
	CodeInvalidDiskIDsMalformed = "InvalidDiskIds.Malformed"
	// CodeInvalidSnapshotIDsMalformed: SnapshotIds is not a JSON array of at most 100 ids. [DescribeSnapshots], 400.
	CodeInvalidSnapshotIDsMalformed = "InvalidSnapshotIds.Malformed"
	// CodeInvalidInstanceIDsMalformed: InstanceIds is not a JSON array of at most 100 ids. [DescribeInstances], 400.
	CodeInvalidInstanceIDsMalformed = "InvalidInstanceIds.MalFormed"
	// CodeInvalidResourceTypeNotFound: ResourceType is not disk/snapshot/instance. [TagResources], 404.
	CodeInvalidResourceTypeNotFound = "InvalidResourceType.NotFound"
	// CodeInvalidResourceIDNotFound: a ResourceId does not exist. [TagResources], 404.
	CodeInvalidResourceIDNotFound = "InvalidResourceId.NotFound"

	// CodeThrottling: flow control as ECS action error tables list it
	// ([CreateSnapshot] error table, 2025: "Throttling", 403).
	CodeThrottling = "Throttling"
	// CodeForbiddenRAM: the RAM policy does not allow the action. [Common]
	// (RAM authorization failures of the OpenAPI gateway), 403.
	CodeForbiddenRAM = "Forbidden.RAM"
	// CodeInvalidAPINotFound: the API does not exist (for this product or
	// region). 404, "Specified api is not found, please check your url and
	// method." (the same message as InvalidAction.NotFound; listed in the
	// error tables of EBS API pages). The function treats it like
	// InvalidAction.NotFound for the ResetDisk fallback.
	CodeInvalidAPINotFound = "InvalidApi.NotFound"
	// CodeDiskResetInProgress: the disk has a reset still running.
	// [ResetDisk] error table (change history 2025-03-21), 403.
	CodeDiskResetInProgress = "InvalidOperation.DiskResetInProgress"
	// CodeCreatingSnapshot: a previous snapshot of the disk is still being
	// created. [CreateSnapshot] error table, 403.
	CodeCreatingSnapshot = "IncorrectDiskStatus.CreatingSnapshot"
	// CodeInvalidSnapshotNameMalformed: SnapshotName breaks the name rules.
	// [CreateSnapshot] error table, 400.
	CodeInvalidSnapshotNameMalformed = "InvalidSnapshotName.Malformed"
	// CodeIdempotentParameterMismatch: a ClientToken reused for another disk.
	// Gateway idempotence code; status 400 unconfirmed for ECS.
	CodeIdempotentParameterMismatch = "IdempotentParameterMismatch"
	// CodeNumberExceedResourceIDs: more than 50 ResourceId.N. [TagResources], 400.
	CodeNumberExceedResourceIDs = "NumberExceed.ResourceIds"
	// CodeNumberExceedTags: more than 20 Tag.N. [TagResources], 400.
	CodeNumberExceedTags = "NumberExceed.Tags"
	// CodeDuplicateTagKey: a Tag.N.Key given twice. [TagResources], 400.
	CodeDuplicateTagKey = "Duplicate.TagKey"
	// CodeInvalidTagKeyMalformed: empty, too long, reserved prefix (aliyun,
	// acs:) or URL in a tag key. [ListTagResources]/[TagResources], 400.
	CodeInvalidTagKeyMalformed = "InvalidTagKey.Malformed"
	// CodeInvalidTagValueMalformed: too long or URL in a tag value. [TagResources], 400.
	CodeInvalidTagValueMalformed = "InvalidTagValue.Malformed"
	// CodeTagQuotaExceed: the resource would carry more than 20 tags.
	// [ListTagResources]/[TagResources] error table, 400.
	CodeTagQuotaExceed = "OperationDenied.QuotaExceed"
	// CodeMissingParameterTags: Tag.N absent. [TagResources], 404 as documented.
	CodeMissingParameterTags = "MissingParameter.Tags"
	// CodeMissingParameterRegionID: RegionId absent on a tag action. [TagResources], 404.
	CodeMissingParameterRegionID = "MissingParameter.RegionId"
	// CodeMissingParameterResourceType: ResourceType absent. [ListTagResources], 404.
	CodeMissingParameterResourceType = "MissingParameter.ResourceType"
)

type codeInfo struct {
	status  int
	message string
}

// codeTable gives each code its HTTP status and message; faults of kind
// "error" look codes up here so an injected error looks like the real one.
var codeTable = map[string]codeInfo{
	CodeInvalidAccessKeyIDNotFound:   {http.StatusNotFound, "Specified access key is not found."},
	CodeSignatureDoesNotMatch:        {http.StatusBadRequest, "Specified signature is not matched with our calculation."},
	CodeSignatureNonceUsed:           {http.StatusBadRequest, "Specified signature nonce was used already."},
	CodeInvalidTimeStampExpired:      {http.StatusBadRequest, "Specified time stamp or date value is expired."},
	CodeInvalidTimeStampFormat:       {http.StatusBadRequest, "Specified time stamp or date value is not well formatted."},
	CodeIncompleteSignature:          {http.StatusBadRequest, "The request signature does not conform to Aliyun standards."},
	CodeMissingSecurityToken:         {http.StatusBadRequest, "SecurityToken is mandatory for this action."},
	CodeInvalidSecurityTokenMismatch: {http.StatusBadRequest, "Specified SecurityToken mismatch with the AccessKey."},
	CodeMissingParameter:             {http.StatusBadRequest, "The input parameter that is mandatory for processing this request is not supplied."},
	CodeInvalidParameter:             {http.StatusBadRequest, "The specified parameter is not valid."},
	CodeInvalidActionNotFound:        {http.StatusNotFound, "Specified api is not found, please check your url and method."},
	CodeInvalidVersion:               {http.StatusBadRequest, "Specified parameter Version is not valid."},
	CodeThrottlingUser:               {http.StatusBadRequest, "Request was denied due to user flow control."},
	CodeInternalError:                {http.StatusInternalServerError, "The request processing has failed due to some unknown error."},
	CodeServiceUnavailable:           {http.StatusServiceUnavailable, "The request has failed due to a temporary failure of the server."},

	CodeInvalidRegionIDMalFormed:   {http.StatusBadRequest, "The specified RegionId is not valid."},
	CodeInvalidRegionIDNotFound:    {http.StatusNotFound, "The RegionId provided does not exist in our records."},
	CodeDryRunOperation:            {http.StatusBadRequest, "Request validation has been passed with DryRun flag set."},
	CodeDiskCategoryNotSupported:   {http.StatusBadRequest, "The operation is not supported to the specified disk due to its disk category."},
	CodeIncorrectDiskStatus:        {http.StatusForbidden, "The current disk status does not support this operation."},
	CodeIncorrectInstanceStatus:    {http.StatusForbidden, "The current status of the resource does not support this operation."},
	CodeInstanceLockedForSecurity:  {http.StatusForbidden, "The instance is locked due to security."},
	CodeInvalidParameterMismatch:   {http.StatusForbidden, "The specified snapshot is not created from the specified disk."},
	CodeInvalidSnapshotTooOld:      {http.StatusForbidden, "The snapshotId is created before 2013-07-15, it cannot be restored since the first time the disk detached."},
	CodeInstanceExpiredOrInArrears: {http.StatusForbidden, "The specified operation is denied as your prepay instance is expired (prepay mode) or in arrears (afterpay mode)."},
	CodeOperationDenied:            {http.StatusForbidden, "The specified snapshot dees not support ResetDisk."},
	CodeInvalidSnapshotIDNotReady:  {http.StatusForbidden, "The specified snapshot has not completed yet."},
	CodeNotEnoughBalance:           {http.StatusForbidden, "Your account does not have enough balance."},
	CodeSnapshotServiceUnavailable: {http.StatusForbidden, "Snapshot service has not been opened yet."},
	CodeOperationConflict:          {http.StatusForbidden, "The operation may conflicts with others."},
	CodeUserNotInTheWhiteList:      {http.StatusForbidden, "The user is not in disk white list."},
	CodeKMSCMKUnauthorized:         {http.StatusForbidden, "The CMK needs to be added ECS tag."},
	CodeKMSCMKNotEnabled:           {http.StatusForbidden, "The CMK needs to be enabled."},
	CodeKMSUnauthorized:            {http.StatusForbidden, "ECS service have no right to access your KMS."},
	CodeHasUnfinishedSnapshot:      {http.StatusForbidden, "The current disk has unfinished snapshot."},
	CodeRegionNotSupport:           {http.StatusForbidden, "The specified region does not support resetting disks."},
	CodeMultiAttachDisk:            {http.StatusForbidden, "Multi attach disk does not support this operation."},
	CodeShareVolume:                {http.StatusForbidden, "The specified diskId is invalid. The shared volume does not support creating a snapshot group."},
	CodeInvalidDiskIDNotFound:      {http.StatusNotFound, "The specified disk does not exist."},
	CodeDiskNotFound:               {http.StatusNotFound, "The specified disk does not exist."},
	CodeInvalidSnapshotIDNotFound:  {http.StatusNotFound, "The specified SnapshotId does not exist."},
	CodeInvalidInstanceIDNotFound:  {http.StatusNotFound, "The specified InstanceId does not exist."},
	CodeInvalidSnapshotNotFound:    {http.StatusNotFound, "The SnapshotId provided does not exist in our records."},

	CodeInvalidDiskIDsMalformed:     {http.StatusBadRequest, "The specified parameter DiskIds is not valid."},
	CodeInvalidSnapshotIDsMalformed: {http.StatusBadRequest, "The specified parameter SnapshotIds is not valid."},
	CodeInvalidInstanceIDsMalformed: {http.StatusBadRequest, "The specified parameter InstanceIds is not valid."},
	CodeInvalidResourceTypeNotFound: {http.StatusNotFound, "The ResourceType provided does not exist in our records."},
	CodeInvalidResourceIDNotFound:   {http.StatusNotFound, "The specified ResourceIds are not found in our records."},

	CodeThrottling:                   {http.StatusForbidden, "Request was denied due to user flow control."},
	CodeForbiddenRAM:                 {http.StatusForbidden, "User not authorized to operate on the specified resource, or this API doesn't support RAM."},
	CodeInvalidAPINotFound:           {http.StatusNotFound, "Specified api is not found, please check your url and method."},
	CodeDiskResetInProgress:          {http.StatusForbidden, "The operation cannot be performed because the disk has an ongoing reset task, please try again later."},
	CodeCreatingSnapshot:             {http.StatusForbidden, "A previous snapshot creation is in process."},
	CodeInvalidSnapshotNameMalformed: {http.StatusBadRequest, "The specified SnapshotName is wrongly formed."},
	CodeIdempotentParameterMismatch:  {http.StatusBadRequest, "The request uses the same client token as a previous, but non-identical request."},
	CodeNumberExceedResourceIDs:      {http.StatusBadRequest, "The ResourceIds parameter's number is exceed , Valid : 50"},
	CodeNumberExceedTags:             {http.StatusBadRequest, "The Tags parameter's number is exceed , Valid : 20"},
	CodeDuplicateTagKey:              {http.StatusBadRequest, "The Tag.N.Key contain duplicate key."},
	CodeInvalidTagKeyMalformed:       {http.StatusBadRequest, "The specified Tag.n.Key is not valid."},
	CodeInvalidTagValueMalformed:     {http.StatusBadRequest, "The specified Tag.n.Value is not valid."},
	CodeTagQuotaExceed:               {http.StatusBadRequest, "The quota of tags on resource is beyond permitted range."},
	CodeMissingParameterTags:         {http.StatusNotFound, "The parameter - Tags should not be null"},
	CodeMissingParameterRegionID:     {http.StatusNotFound, "The parameter - RegionId should not be null"},
	CodeMissingParameterResourceType: {http.StatusNotFound, "The parameter - ResourceType should not be null"},
}

// CodeStatus returns the HTTP status the real service sends with code, and
// false for a code the emulator does not know (callers then get 400).
func CodeStatus(code string) (int, bool) {
	ci, ok := codeTable[code]
	if !ok {
		return http.StatusBadRequest, false
	}
	return ci.status, true
}

// MissingCode is the gateway's code for a missing action parameter,
// "Missing" + name (MissingRegionId, MissingDiskId, ...), status 400.
func MissingCode(param string) string { return "Missing" + param }

// apiError is an error response the handler turns into the JSON error body.
type apiError struct {
	Code    string
	Status  int
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newError(code string) *apiError {
	ci, ok := codeTable[code]
	if !ok {
		ci = codeInfo{http.StatusBadRequest, code}
	}
	return &apiError{Code: code, Status: ci.status, Message: ci.message}
}

func newErrorMsg(code, msg string) *apiError {
	e := newError(code)
	e.Message = msg
	return e
}

func missing(param string) *apiError {
	return &apiError{Code: MissingCode(param), Status: http.StatusBadRequest,
		Message: param + " is mandatory for this action."}
}

func missingCommon(param string) *apiError {
	return newErrorMsg(CodeMissingParameter, `The input parameter "`+param+`" that is mandatory for processing this request is not supplied.`)
}

func invalidParam(param, why string) *apiError {
	return newErrorMsg(CodeInvalidParameter, `The specified parameter "`+param+`" is not valid: `+why)
}
