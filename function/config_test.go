package function

import (
	"strings"
	"testing"
	"time"
)

// TestConfigFromEnv: each variable parses into its field, and a malformed
// value is an error naming the variable.
func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(Config) bool
		wantErr string
	}{
		{name: "defaults", env: nil, check: func(c Config) bool {
			return c.ResetMode == "auto" && c.LogLevel == "info" && c.AlarmStopStart && c.BackupRetentionDays == 7 && c.PollInterval == 0 && c.ClaimSettle == 0
		}},
		{name: "poll interval", env: map[string]string{"POLL_INTERVAL": "100ms"}, check: func(c Config) bool { return c.PollInterval == 100*time.Millisecond }},
		{name: "poll interval too short", env: map[string]string{"POLL_INTERVAL": "1ms"}, wantErr: "POLL_INTERVAL"},
		{name: "poll interval not a duration", env: map[string]string{"POLL_INTERVAL": "fast"}, wantErr: "POLL_INTERVAL"},
		{name: "claim settle", env: map[string]string{"CLAIM_SETTLE": "300ms"}, check: func(c Config) bool { return c.ClaimSettle == 300*time.Millisecond }},
		{name: "claim settle too long", env: map[string]string{"CLAIM_SETTLE": "2m"}, wantErr: "CLAIM_SETTLE"},
		{name: "allow-list", env: map[string]string{"ALLOWED_DISK_TAG": " rollback = allowed "}, check: func(c Config) bool {
			return c.AllowedDiskTagKey == "rollback" && c.AllowedDiskTagValue == "allowed"
		}},
		{name: "allow-list without value", env: map[string]string{"ALLOWED_DISK_TAG": "rollback"}, wantErr: "ALLOWED_DISK_TAG"},
		{name: "bool", env: map[string]string{"ALARM_STOP_START": "false"}, check: func(c Config) bool { return !c.AlarmStopStart }},
		{name: "bad bool", env: map[string]string{"FAIL_ON_PARTIAL": "maybe"}, wantErr: "FAIL_ON_PARTIAL"},
		{name: "two bad values, both named", env: map[string]string{"RESET_MODE": "sometimes", "LOG_LEVEL": "loud"}, wantErr: "RESET_MODE must be auto, never or always; LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ConfigFromEnv error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ConfigFromEnv: %v", err)
			}
			if !tt.check(got) {
				t.Errorf("ConfigFromEnv = %+v, not what %v gives", got, tt.env)
			}
		})
	}
}
