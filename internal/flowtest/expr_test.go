package flowtest

import (
	"reflect"
	"strings"
	"testing"
)

func TestEvalJSONMerge(t *testing.T) {
	sc := &scope{execInput: map[string]any{"Request": map[string]any{"RegionId": "cn-hangzhou", "Wait": true}},
		input: map[string]any{"Flags": map[string]any{"DryRun": true}, "Clash": map[string]any{"Wait": false}, "N": 1.0}}
	tests := []struct {
		expr    string
		want    any
		wantErr string
	}{
		{"jsonMerge($Context.Execution.Input.Request, $Input.Flags)", map[string]any{"RegionId": "cn-hangzhou", "Wait": true, "DryRun": true}, ""},
		{"jsonMerge($Context.Execution.Input.Request, $Input.Clash)", nil, "both objects hold"},
		{"jsonMerge($Context.Execution.Input.Request, $Input.N)", nil, "not an object"},
		{"jsonMerge($Input.Flags)", nil, "two path expressions"},
		{"jsonMerge($Input.Flags, $Input.Missing)", nil, "no field"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := sc.eval(tt.expr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("eval = %v, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("eval = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
