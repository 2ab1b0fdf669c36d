package run

import "fmt"

// MultiStepLR is the rate at step s (1-based) as KAIR's loop sets it: lr
// times gamma for each milestone reached. The MultiStepLR scheduler is
// stepped before each optimizer step, so the rate is already reduced at a
// milestone step.
func MultiStepLR(lr float64, milestones []int, gamma float64, step int) float64 {
	for _, m := range milestones {
		if step >= m {
			lr *= gamma
		}
	}
	return lr
}

// CheckMilestones refuses --lr-milestones that are not increasing
// positive steps.
func CheckMilestones(ms []int) error {
	for i, m := range ms {
		if m < 1 || (i > 0 && m <= ms[i-1]) {
			return fmt.Errorf("--lr-milestones %v: expected increasing positive steps", ms)
		}
	}
	return nil
}
