package torchbind

// #include <stdlib.h>
// #include "ludvae.h"
import "C"

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

// DeviceType is the kind of device a tensor lives on.
type DeviceType int

// Device types, equal to the shim's codes.
const (
	CPUType  DeviceType = C.LV_CPU
	CUDAType DeviceType = C.LV_CUDA
)

// Device names a device: the CPU or a CUDA card by index.
type Device struct {
	Type  DeviceType
	Index int
}

// CPU is the host device.
var CPU = Device{Type: CPUType}

// CUDA returns the i-th CUDA device.
func CUDA(i int) Device { return Device{Type: CUDAType, Index: i} }

// IsCUDA reports whether d is a CUDA device.
func (d Device) IsCUDA() bool { return d.Type == CUDAType }

func (d Device) String() string {
	if d.Type == CUDAType {
		return "cuda:" + strconv.Itoa(d.Index)
	}
	return "cpu"
}

// ParseDevice reads "cpu", "cuda", "cuda:N" or "auto" (the first CUDA device
// when the shim has one, else the CPU). Asking for CUDA where there is none is
// an error that says so.
func ParseDevice(s string) (Device, error) {
	switch {
	case s == "cpu":
		return CPU, nil
	case s == "auto":
		if CUDADeviceCount() > 0 {
			return CUDA(0), nil
		}
		return CPU, nil
	case s == "cuda" || strings.HasPrefix(s, "cuda:"):
		i := 0
		if s != "cuda" {
			n, err := strconv.Atoi(s[5:])
			if err != nil || n < 0 {
				return CPU, fmt.Errorf("device %q: expected cuda:N with N a card index", s)
			}
			i = n
		}
		if n := CUDADeviceCount(); i >= n {
			return CPU, fmt.Errorf("device %q: %d CUDA device(s) visible to this %s build of the shim (libtorch %s)", s, n, BuildKind(), LibtorchVersion())
		}
		return CUDA(i), nil
	}
	return CPU, fmt.Errorf("device %q: expected cpu, cuda, cuda:N or auto", s)
}

// LibtorchVersion is the version of the libtorch the shim was built against.
func LibtorchVersion() string { return C.GoString(C.lv_libtorch_version()) }

// CPUCapability is the instruction set libtorch's CPU kernels run with:
// "AVX2", "AVX512" or "DEFAULT" (torch.__config__.show()'s "CPU capability
// usage"; the environment variable ATEN_CPU_CAPABILITY can lower it).
func CPUCapability() string { return C.GoString(C.lv_cpu_capability()) }

// OneDNN reports whether CPU convolutions run through oneDNN in this
// process: libtorch was built with it and the shim's load check left it on
// (it turns oneDNN off where its float32 gradients are wrong, as Debian
// 13's libtorch 2.6 gives them on AVX-512 CPUs). Tensor.Blocked needs it.
func OneDNN() bool { return C.lv_onednn_enabled() != 0 }

// BuildKind is "CPU" or "CUDA": how the shim was built.
func BuildKind() string { return C.GoString(C.lv_build_kind()) }

// CUDADeviceCount is the number of CUDA devices the shim sees (0 for a CPU build).
func CUDADeviceCount() int { return int(C.lv_cuda_device_count()) }

// CUDADeviceName returns the card's name, e.g. "NVIDIA H100 80GB HBM3".
func CUDADeviceName(i int) (name string, err error) {
	err = Try(func() {
		buf := make([]byte, 256)
		check("cuda device name", C.lv_cuda_device_name(C.int(i), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf))))
		name = C.GoString((*C.char)(unsafe.Pointer(&buf[0])))
	})
	return name, err
}

// Synchronize waits for the device's queued work (no-op on the CPU).
func Synchronize(d Device) {
	if d.IsCUDA() {
		check("synchronize", C.lv_cuda_synchronize(C.int(d.Index)))
	}
}

// CUDAMemory returns the bytes currently allocated by tensors on the card and
// the peak since the last ResetCUDAPeak.
func CUDAMemory(d Device) (allocated, peak int64) {
	var a, p C.int64_t
	check("cuda memory", C.lv_cuda_memory(C.int(d.Index), &a, &p))
	return int64(a), int64(p)
}

// ResetCUDAPeak restarts the peak-memory counter of a card.
func ResetCUDAPeak(d Device) { check("cuda reset peak", C.lv_cuda_reset_peak(C.int(d.Index))) }

// MaxThreads is the largest thread count CheckThreads accepts: 4 per CPU.
// More threads than cores only contend, and a mistyped huge count would
// start tens of thousands of OS threads before any work.
func MaxThreads() int { return 4 * runtime.NumCPU() }

// CheckThreads says whether n is a usable Settings.Threads:
// 0 (one per CPU) or 1 to MaxThreads. Callers name their flag.
func CheckThreads(n int) error {
	if n < 0 || n > MaxThreads() {
		return fmt.Errorf("%d: expected 0 (one per CPU) or 1 to %d (4 per CPU on this machine's %d CPUs)", n, MaxThreads(), runtime.NumCPU())
	}
	return nil
}

// NumThreads is libtorch's intra-op thread count on the calling OS thread
// (a Runtime's, inside its Do).
func NumThreads() int { return int(C.lv_get_num_threads()) }
