'use strict';
// The peer: a Node.js FC handler an operator would write for the same job,
// with the official @alicloud/ecs20140526 SDK. It takes the same request
// ({RegionId, DryRun, Disk: [{DiskId, SnapshotId}]}), makes the same
// ResetDisks call with the invocation's credentials, and returns RequestId
// and OperationProgressSet (a dry run that ECS accepts answers
// DryRunOperation, reported as DryRunPassed). ECS_ENDPOINT points it at the
// emulator, as it does the Go function.
const Ecs = require('@alicloud/ecs20140526');
const { $OpenApiUtil } = require('@alicloud/openapi-core');

function endpointOf(url) {
  const m = /^(https?):\/\/(.+)$/.exec(url || '');
  return m ? { protocol: m[1], endpoint: m[2] } : { protocol: 'https', endpoint: undefined };
}

exports.handler = async (event, context) => {
  const req = JSON.parse(event.toString());
  const creds = context.credentials || {};
  const { protocol, endpoint } = endpointOf(process.env.ECS_ENDPOINT);
  const client = new Ecs.default(new $OpenApiUtil.Config({
    accessKeyId: creds.accessKeyId || process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: creds.accessKeySecret || process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    securityToken: creds.securityToken || undefined,
    regionId: req.RegionId,
    endpoint,
    protocol,
  }));
  const request = new Ecs.ResetDisksRequest({
    regionId: req.RegionId,
    dryRun: !!req.DryRun,
    disk: (req.Disk || []).map((d) => new Ecs.ResetDisksRequestDisk({ diskId: d.DiskId, snapshotId: d.SnapshotId })),
  });
  try {
    const resp = await client.resetDisks(request);
    return { RequestId: resp.body.requestId, OperationProgressSet: resp.body.operationProgressSet, Summary: { Status: 'Succeeded' } };
  } catch (err) {
    if (req.DryRun && err.code === 'DryRunOperation') {
      return { RequestId: err.data && err.data.RequestId, Summary: { Status: 'DryRunPassed' } };
    }
    throw err;
  }
};
