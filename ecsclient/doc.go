// Package ecsclient implements function.ECS and function.Connector with
// alibaba-cloud-sdk-go.
//
// Why it exists, and why it looks the way it does: the SDK has traps that
// the rest of the project must not meet, so this is the only package that
// imports it (and only sdk.go does; endpoint.go, transport.go, redact.go,
// config.go and classify.go are SDK-free).
//
//   - One ecs.Client used by several goroutines is a data race: DoAction
//     rewrites its http.Client timeout and, for an *http.Transport, its
//     DialContext, TLS config and proxy on every call (upstream #538). Here
//     every call gets a fresh ecs.Client whose transport is a small
//     RoundTripper wrapper (not an *http.Transport, so the SDK leaves it
//     alone) around one *http.Transport shared by the Connector, so
//     connections are reused and nothing mutable is shared.
//   - ecs.NewClientWith* call ecs.GetEndpointMap(), which initialises a
//     package map lazily without a lock (upstream #523). Clients are built
//     with &ecs.Client{} + InitWithOptions and the domain is always set, so
//     the endpoint map and the location service are never consulted.
//   - The SDK's default scheme is HTTP. HTTPS is always used unless
//     Config.Endpoint names an http:// URL (tests, the emulator).
//   - The SDK has no context parameter. The wrapper binds every request to
//     the call's context (and the Connect context), so the FC deadline and
//     cancellation cut calls short, and it records with httptrace whether
//     the request was written (TransportError.Sent).
//   - A transport error's text holds the full signed URL with AccessKeyId,
//     SecurityToken, Signature and SignatureNonce, and the SDK's
//     SignatureDoesNotMatch message echoes the string to sign: every message
//     that leaves the package goes through Redact.
//   - DEBUG=sdk makes the SDK print every signed URL and response to stdout;
//     it is read once, at package init. See SDKDebugEnabled.
//   - The SDK reads an error answer (every refused call, and every dry
//     run: DryRunOperation) with five jmespath searches: about 30 µs and
//     390 allocations per answer, more than all of the function's own work
//     on a warm dry run. The wrapper reads answers of 400 and above itself
//     (answer.go, held to the SDK's reading by TestErrorAnswerMatchesSDK,
//     SignatureDoesNotMatch's Recommend included) and hands them back as
//     the call's error.
//   - The SDK's AutoRetry stays off (it retries immediately, without backoff,
//     never on throttling, and would repeat mutating calls): retries are done
//     here with package retry, by call kind (see classify.go).
package ecsclient
