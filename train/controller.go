package train

import (
	"fmt"
	"math"
)

// Controller steers the document regularization weight lambda_d towards
// a target average number of non-zero terms per document. In the SPLADE
// papers the sparsity of an index is a side effect of lambda_d, found by
// sweeping it (each value a full training run); here lambda_d is a
// control variable: after every step the running average of the batch's
// document non-zeros is compared with the target and lambda_d is
// multiplied by
//
//	clamp((avg / target)^Gain, 1/MaxFactor, MaxFactor)
//
// (too long: raise lambda_d; too short: lower it). The update is
// multiplicative because useful lambdas span orders of magnitude, and
// clamped so that one odd batch cannot swing it. It starts at step Start
// (by default the end of the quadratic ramp, before which the effective
// weight is deliberately small and documents are expected to be long).
type Controller struct {
	Target    float64 // average document non-zeros wanted
	Gain      float64 // exponent of the ratio (default 0.05)
	MaxFactor float64 // bound of one step's factor (default 1.05)
	Decay     float64 // running-average decay (default 0.9)
	Start     int     // first step that updates

	Lambda float64 // the current base lambda_d (before the ramp)
	Avg    float64 // running average of the document non-zeros
	Seen   bool    // whether Avg holds a value
}

// NewController returns a controller with the defaults, starting from
// lambda.
func NewController(target, lambda float64, start int) (*Controller, error) {
	if !(target > 0) {
		return nil, fmt.Errorf("target document length %g must be positive", target)
	}
	if !(lambda > 0) {
		return nil, fmt.Errorf("the sparsity controller needs a positive starting lambda_d, got %g", lambda)
	}
	return &Controller{Target: target, Gain: 0.05, MaxFactor: 1.05, Decay: 0.9, Start: start, Lambda: lambda}, nil
}

// Update takes the average document non-zeros of the batch of step and
// returns the base lambda_d for the next step.
func (c *Controller) Update(step int, docNNZ float64) float64 {
	if !c.Seen {
		c.Avg, c.Seen = docNNZ, true
	} else {
		c.Avg = c.Decay*c.Avg + (1-c.Decay)*docNNZ
	}
	if step < c.Start {
		return c.Lambda
	}
	f := math.Pow(math.Max(c.Avg, 1e-3)/c.Target, c.Gain)
	f = math.Min(math.Max(f, 1/c.MaxFactor), c.MaxFactor)
	c.Lambda *= f
	return c.Lambda
}
