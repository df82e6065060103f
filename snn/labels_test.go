package snn_test

import (
	"testing"

	"github.com/spikegrad/spikegrad/snn/demo"
	"github.com/spikegrad/spikegrad/snn/job"
)

// TestLabels: every layer has a name for the progress line, the state_dict
// prefix or its kind after the layer before it.
func TestLabels(t *testing.T) {
	net, err := job.Checkpoint(demo.CheckpointName, demo.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range net.Layers {
		l := &net.Layers[i]
		if l.Label() == "" {
			t.Fatalf("layer %d (%s) has no label", i, l.Kind)
		}
		seen[l.Label()] = true
	}
	if !seen["avgpool (after layer1.6)"] || !seen["flatten (after layer5.10)"] {
		t.Errorf("labels: %v", seen)
	}
}
