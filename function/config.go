package function

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Config is the function's behaviour set by environment variables (s.yaml
// environmentVariables). The ECS endpoint settings (ECS_ENDPOINT,
// ECS_NETWORK) belong to the adapter and are read there.
type Config struct {
	// AllowedDiskTag ("key=value", ALLOWED_DISK_TAG): disks without this tag
	// are refused before anything is called. Empty: no allow-list.
	AllowedDiskTagKey, AllowedDiskTagValue string
	// Cooldown (ROLLBACK_COOLDOWN, a Go duration): a disk reset less than
	// this long ago is refused. Zero: no cooldown.
	Cooldown time.Duration
	// FailOnPartial (FAIL_ON_PARTIAL): a partially failed reset is an error.
	FailOnPartial bool
	// AlarmRollback (ALARM_ROLLBACK): a CloudMonitor ALERT rolls the alarmed
	// instance back to its newest accomplished instance snapshot. Off by
	// default: an alarm only acts when the operator opted in.
	AlarmRollback bool
	// AlarmOptions (ALARM_STOP_START, default true): stop the alarmed
	// instance first and start it again after, waiting for the disks.
	AlarmStopStart bool
	// ResetMode (RESET_MODE): auto, never or always; see Request.ResetMode.
	ResetMode string
	// LogLevel (LOG_LEVEL): debug, info, warn, error.
	LogLevel string
	// ClaimSettle (CLAIM_SETTLE): how long an idempotency claim waits before
	// re-reading the disk tags (docs/idempotency.md). Default 1s; shorter
	// only where ECS answers fast, such as the local emulator.
	ClaimSettle time.Duration
	// PollInterval (POLL_INTERVAL): the first interval between the Describe
	// calls of a wait (for Stopped, a finished reset, Running); it grows by
	// half up to three times this. Default 500ms (at most 40 calls a minute
	// a wait); longer spends fewer calls of the account's API quota,
	// shorter notices a finished disk sooner.
	PollInterval time.Duration
	// HealthCommandID (HEALTH_COMMAND_ID): the Cloud Assistant command
	// (c-…) a HealthCheck of Type Command runs; the request never names one.
	HealthCommandID string
	// HealthHTTPAddress (HEALTH_HTTP_ADDRESS): private (default) or public,
	// the address of the instance an HTTP HealthCheck connects to.
	HealthHTTPAddress string
	// BackupRetentionDays (BACKUP_RETENTION_DAYS, default 7; 0 keeps them):
	// RetentionDays of the backups BackupBeforeReset takes.
	BackupRetentionDays int
}

// ConfigFromEnv reads Config; a malformed value is an error naming the
// variable, so a misconfigured function fails loudly at start.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{ResetMode: "auto", LogLevel: "info", AlarmStopStart: true, HealthHTTPAddress: "private", BackupRetentionDays: 7}
	var errs []string
	if v := strings.TrimSpace(getenv("ALLOWED_DISK_TAG")); v != "" {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			errs = append(errs, "ALLOWED_DISK_TAG must be key=value")
		}
		c.AllowedDiskTagKey, c.AllowedDiskTagValue = strings.TrimSpace(k), strings.TrimSpace(val)
	}
	if v := strings.TrimSpace(getenv("ROLLBACK_COOLDOWN")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, "ROLLBACK_COOLDOWN must be a duration such as 30m")
		}
		c.Cooldown = d
	}
	if v := strings.TrimSpace(getenv("CLAIM_SETTLE")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > time.Minute {
			errs = append(errs, "CLAIM_SETTLE must be a duration between 1ms and 1m")
		}
		c.ClaimSettle = d
	}
	if v := strings.TrimSpace(getenv("POLL_INTERVAL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Millisecond || d > time.Minute {
			errs = append(errs, "POLL_INTERVAL must be a duration between 10ms and 1m")
		}
		c.PollInterval = d
	}
	boolVar := func(name string, dst *bool) {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, name+" must be true or false")
			}
			*dst = b
		}
	}
	boolVar("FAIL_ON_PARTIAL", &c.FailOnPartial)
	boolVar("ALARM_ROLLBACK", &c.AlarmRollback)
	boolVar("ALARM_STOP_START", &c.AlarmStopStart)
	if v := strings.TrimSpace(getenv("RESET_MODE")); v != "" {
		switch v {
		case "auto", "never", "always":
			c.ResetMode = v
		default:
			errs = append(errs, "RESET_MODE must be auto, never or always")
		}
	}
	if v := strings.TrimSpace(getenv("LOG_LEVEL")); v != "" {
		switch strings.ToLower(v) {
		case "debug", "info", "warn", "error":
			c.LogLevel = strings.ToLower(v)
		default:
			errs = append(errs, "LOG_LEVEL must be debug, info, warn or error")
		}
	}
	if v := strings.TrimSpace(getenv("HEALTH_COMMAND_ID")); v != "" {
		if !prefixedID("c-")(v) {
			errs = append(errs, "HEALTH_COMMAND_ID must be a Cloud Assistant command id such as c-hz0jdfwcsr****")
		}
		c.HealthCommandID = v
	}
	if v := strings.TrimSpace(getenv("HEALTH_HTTP_ADDRESS")); v != "" {
		if v != "private" && v != "public" {
			errs = append(errs, "HEALTH_HTTP_ADDRESS must be private or public")
		}
		c.HealthHTTPAddress = v
	}
	if v := strings.TrimSpace(getenv("BACKUP_RETENTION_DAYS")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65536 {
			errs = append(errs, "BACKUP_RETENTION_DAYS must be 0 (keep) or 1 to 65536")
		}
		c.BackupRetentionDays = n
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}
