// Package deploy holds the deployment files' checks: deploy_test.go loads
// s.yaml, the RAM policy (ram-policy.json, in this directory) and the
// CloudFlow definitions in flows/, and checks them against what the
// function needs and emits. The package has no code of its own.
package deploy
