package function

import (
	"slices"
	"testing"
)

func TestScanStrict(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // Field/Rule
	}{
		{"clean", `{"RegionId":"cn-hangzhou","Disk":[{"DiskId":"d-1","SnapshotId":"s-1"}],"DryRun":true,"N":1.5e3}`, nil},
		{"top-level twice", `{"DryRun":true, "DryRun" : false}`, []string{"DryRun/duplicate"}},
		{"escaped spelling of the same key", `{"DryRun":true,"Dry\u0052un":false}`, []string{"DryRun/duplicate"}},
		{"in an array element", `{"Disk":[{"DiskId":"a"},{"DiskId":"b","DiskId":"c"}]}`, []string{"Disk[1].DiskId/duplicate"}},
		{"null at the top", `{"DryRun":null}`, []string{"DryRun/null"}},
		{"null in an array", `{"Disk":[null,{"DiskId":null}]}`, []string{"Disk[0]/null", "Disk[1].DiskId/null"}},
		{"the event null", `null`, []string{"(event)/null"}},
		{"same key in different objects", `{"A":{"K":1},"B":{"K":2}}`, nil},
		{"strings that look like structure", `{"A":"{\"B\":null,\"B\":1}","C":"]"}`, nil},
		{"deep", `{"A":{"B":{"C":[[{"D":1,"D":2}]]}}}`, []string{"A.B.C[0][0].D/duplicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, v := range scanStrict([]byte(tt.in)) {
				got = append(got, v.Field+"/"+v.Rule)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("scanStrict(%s) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
