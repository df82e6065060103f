package job

import (
	"fmt"

	"github.com/spikegrad/spikegrad/snn"
	"github.com/spikegrad/spikegrad/snn/pth"
)

// CheckpointArch reads a torch.save file and builds its network from an
// architecture description (archName is the description's file name, for
// errors), for layouts that are not recognised.
func CheckpointArch(name string, b []byte, archName string, arch []byte) (*snn.Net, error) {
	a, err := snn.ParseArch(arch)
	if err == nil {
		err = snn.CheckArchFields(arch)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", archName, err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	sd, err := pth.Load(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	net, err := snn.LoadArch(sd, a)
	if err != nil {
		return nil, fmt.Errorf("%s with %s: %v", name, archName, err)
	}
	return net, nil
}
