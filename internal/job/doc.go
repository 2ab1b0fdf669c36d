// Package job runs and shows the long jobs every command has: a progress
// display that suits a terminal and a log file alike, work computed ahead
// on goroutines but delivered in order, and a parallel loop over indices. It knows nothing of
// libtorch, images or the model, so training, synthesis and the restorer
// share it without depending on each other.
package job
