package main

import "github.com/spf13/pflag"

// The flags `ludvae train` and `ludvae restore train` share: the same
// schedule (KAIR's MultiStepLR) and the same run-folder bookkeeping
// (package internal/run: the run folder, its loop, log and checkpoints),
// said once.

// scheduleFlags declares --lr, --lr-milestones and --lr-gamma.
func scheduleFlags(fs *pflag.FlagSet, lr *float64, milestones *[]int, gamma *float64) {
	fs.Float64Var(lr, "lr", *lr, "Adam learning rate")
	fs.IntSliceVar(milestones, "lr-milestones", *milestones, "steps at which the learning rate is multiplied by --lr-gamma")
	fs.Float64Var(gamma, "lr-gamma", *gamma, "learning-rate factor at each milestone")
}

// runFolderFlags declares --save-every, --log-every, --keep and
// --max-bad-steps.
func runFolderFlags(fs *pflag.FlagSet, saveEvery, logEvery, keep, maxBadSteps *int) {
	fs.IntVar(saveEvery, "save-every", *saveEvery, "steps between checkpoints")
	fs.IntVar(logEvery, "log-every", *logEvery, "steps between rows of log.csv")
	fs.IntVar(keep, "keep", *keep, "checkpoints to keep")
	fs.IntVar(maxBadSteps, "max-bad-steps", *maxBadSteps, "consecutive non-finite losses before stopping")
}
