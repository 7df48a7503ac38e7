// Package events holds the shapes of the events Alibaba Cloud Function
// Compute (FC 3.0) hands the ecs-disk-rollback function, one file per
// source, and Detect, which tells them apart without decoding them fully.
//
// The types are wire-exact: their JSON tags are the names FC, EventBridge
// and CloudMonitor put on the wire, so an event unmarshalled and marshalled
// again is the same JSON (fields the type does not know aside). The package
// knows nothing about rollbacks: it does not depend on package function,
// which turns each event into its rollback request.
//
// Samples of every shape, using the emulator's fixed IDs
// (docs/default-fleet.md), are in testdata/<source>-<variant>.json.
package events
