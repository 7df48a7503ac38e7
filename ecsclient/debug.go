package ecsclient

import "strings"

// SDKDebugEnabled reports whether the environment seen through getenv turns
// on the SDK's debug output, which prints every signed request URL
// (AccessKeyId, SecurityToken, Signature) and every response body to
// stdout.
//
// It mirrors sdk/utils.Init in alibaba-cloud-sdk-go v1.63.107: DEBUG is
// split on "," and any part exactly equal to "sdk" enables it (no trimming,
// case-sensitive). The SDK evaluates this once, in package-level variable
// initialisers of sdk, sdk/auth, sdk/errors and sdk/endpoints, i.e. before
// main runs, so os.Unsetenv("DEBUG") in main is too late. To neutralise it,
// main must check SDKDebugEnabled(os.Getenv) first thing and, if true,
// re-exec itself (syscall.Exec of os.Args[0] / /proc/self/exe) with DEBUG
// removed or with the "sdk" part dropped (see EnvWithoutSDKDebug), or refuse
// to start.
func SDKDebugEnabled(getenv func(string) string) bool {
	for _, part := range strings.Split(getenv("DEBUG"), ",") {
		if part == "sdk" {
			return true
		}
	}
	return false
}

// EnvWithoutSDKDebug returns environ (as os.Environ gives it) with the "sdk"
// part removed from DEBUG (and DEBUG dropped if nothing else is left), for
// re-executing the process.
func EnvWithoutSDKDebug(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		v, ok := strings.CutPrefix(kv, "DEBUG=")
		if !ok {
			out = append(out, kv)
			continue
		}
		var keep []string
		for _, part := range strings.Split(v, ",") {
			if part != "sdk" {
				keep = append(keep, part)
			}
		}
		if s := strings.Join(keep, ","); s != "" {
			out = append(out, "DEBUG="+s)
		}
	}
	return out
}
