// Package deploy holds the deployment files' checks: deploy_test.go and
// platform_test.go load s.yaml, the RAM policies (ram-policy.json for the
// function's own calls, ram-policy-vpc.json for the optional VPC
// attachment, both in this directory), the CloudFlow definitions in flows/
// and docs/triggers.md, and check them against what the function needs and
// emits and against the platform's documented fields (each check names its
// source page). The package has no code of its own.
package deploy
