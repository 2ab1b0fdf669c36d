package main

import (
	"fmt"

	"github.com/ludvae/ludvae/torchbind"
)

func runVersion(args []string) error {
	fs := newFlagSet("version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Printf("libtorch %s\nshim build: %s\n", torchbind.LibtorchVersion(), torchbind.BuildKind())
	gloo, nccl := torchbind.DistBackends()
	fmt.Printf("distributed: gloo %s, nccl %s\n", yesNo(gloo), yesNo(nccl))
	rt, err := torchbind.NewRuntime(torchbind.Settings{Device: torchbind.CPU}) // all CPUs
	if err != nil {
		return err
	}
	defer rt.Close()
	var threads int
	if err := rt.Do(func() error { threads = torchbind.NumThreads(); return nil }); err != nil {
		return err
	}
	fmt.Printf("devices: cpu (%d threads)", threads)
	for i := 0; i < torchbind.CUDADeviceCount(); i++ {
		name, err := torchbind.CUDADeviceName(i)
		if err != nil {
			return err
		}
		fmt.Printf(", cuda:%d (%s)", i, name)
	}
	fmt.Println()
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
