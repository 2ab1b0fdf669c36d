package job

import "runtime"

// Workers is the count of Go goroutines that decode, crop, measure or
// write in parallel for a thread setting (a command's --threads, a
// torchbind.Settings' Threads): threads when positive, else one per CPU.
// It is the one place that count is chosen. A distributed rank's settings
// carry its share of the machine's CPUs as threads, so its goroutines get
// that share as its libtorch does, instead of each rank taking all.
func Workers(threads int) int {
	if threads > 0 {
		return threads
	}
	return runtime.NumCPU()
}
