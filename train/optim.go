package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/splade-go/splade/kernels"
	"github.com/splade-go/splade/model"
)

// Schedule is the learning rate of BERT-style fine-tuning: linear warmup
// from 0 to Peak over Warmup steps, then linear decay to 0 at Total steps
// (constant after warmup when Total is 0).
type Schedule struct {
	Peak          float64
	Warmup, Total int
}

// LR returns the learning rate of step (counted from 0).
func (s Schedule) LR(step int) float64 {
	if step < s.Warmup {
		return s.Peak * float64(step+1) / float64(s.Warmup)
	}
	if s.Total <= 0 {
		return s.Peak
	}
	if step >= s.Total {
		return 0
	}
	return s.Peak * float64(s.Total-step) / float64(max(1, s.Total-s.Warmup))
}

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), as
// torch.optim.AdamW computes it: for a parameter w with gradient g at
// step t (from 1),
//
//	w -= lr * WeightDecay * w                 (only when Param.Decay)
//	m = Beta1 m + (1-Beta1) g,  v = Beta2 v + (1-Beta2) g^2
//	w -= lr * (m / (1-Beta1^t)) / (sqrt(v / (1-Beta2^t)) + Eps)
//
// Before the update the gradients are scaled so that their global L2
// norm is at most ClipNorm (when > 0). The update is elementwise, so it
// is the same for any number of threads.
type AdamW struct {
	Beta1, Beta2, Eps, WeightDecay float64
	ClipNorm                       float64
	Schedule                       Schedule

	step   int
	params []*Param
	m, v   [][]float32
	pool   *kernels.Pool
}

// NewAdamW returns an optimizer for params with the usual defaults
// (betas 0.9, 0.999, eps 1e-8, weight decay 0.01, clipping at norm 1).
func NewAdamW(params []*Param, sched Schedule) *AdamW {
	o := &AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, ClipNorm: 1, Schedule: sched,
		params: params, pool: kernels.NewPool(0)}
	o.m = make([][]float32, len(params))
	o.v = make([][]float32, len(params))
	for i, p := range params {
		o.m[i] = make([]float32, len(p.W))
		o.v[i] = make([]float32, len(p.W))
	}
	return o
}

// SetThreads sets the number of threads of the update.
func (o *AdamW) SetThreads(n int) { o.pool = kernels.NewPool(n) }

// Steps returns the number of updates done.
func (o *AdamW) Steps() int { return o.step }

// GradNorm returns the global L2 norm of the gradients.
func GradNorm(params []*Param) float64 {
	var s float64
	for _, p := range params {
		for _, g := range p.G {
			s += float64(g) * float64(g)
		}
	}
	return math.Sqrt(s)
}

// Step clips the gradients, updates the parameters with the learning rate
// of the current step and advances the step. It returns the gradient norm
// before clipping and the learning rate used. It does not clear the
// gradients (Model.ZeroGrad).
func (o *AdamW) Step() (gradNorm, lr float64) {
	gradNorm = GradNorm(o.params)
	scale := float32(1)
	if o.ClipNorm > 0 && gradNorm > o.ClipNorm {
		scale = float32(o.ClipNorm / (gradNorm + 1e-6))
	}
	lr = o.Schedule.LR(o.step)
	o.step++
	t := float64(o.step)
	bc1 := 1 - math.Pow(o.Beta1, t)
	bc2 := 1 - math.Pow(o.Beta2, t)
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	stepSize := float32(lr / bc1)
	invBC2 := float32(1 / math.Sqrt(bc2))
	eps := float32(o.Eps)
	for k, p := range o.params {
		decay := float32(1)
		if p.Decay {
			decay = float32(1 - lr*o.WeightDecay)
		}
		w, g, m, v := p.W, p.G, o.m[k], o.v[k]
		o.pool.For(len(w), 1<<14, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gi := g[i] * scale
				m[i] = b1*m[i] + (1-b1)*gi
				v[i] = b2*v[i] + (1-b2)*gi*gi
				w[i] = w[i]*decay - stepSize*m[i]/(float32(math.Sqrt(float64(v[i])))*invBC2+eps)
			}
		})
	}
	return gradNorm, lr
}

// trainerState is trainer_state.json: what resuming needs besides the
// weights and the moments.
type trainerState struct {
	Step        int      `json:"global_step"`
	Beta1       float64  `json:"beta1"`
	Beta2       float64  `json:"beta2"`
	Eps         float64  `json:"eps"`
	WeightDecay float64  `json:"weight_decay"`
	ClipNorm    float64  `json:"max_grad_norm"`
	Schedule    Schedule `json:"schedule"`
}

// Optimizer state files in a checkpoint directory.
const (
	OptimizerFile = "optimizer.safetensors"
	StateFile     = "trainer_state.json"
)

// Save writes the moments (OptimizerFile: "<param>.exp_avg" and
// "<param>.exp_avg_sq") and the step and hyperparameters (StateFile)
// into dir.
func (o *AdamW) Save(dir string) error {
	var ts []model.Tensor
	for k, p := range o.params {
		ts = append(ts,
			model.Tensor{Name: p.Name + ".exp_avg", Shape: p.Shape, Data: o.m[k]},
			model.Tensor{Name: p.Name + ".exp_avg_sq", Shape: p.Shape, Data: o.v[k]})
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := model.WriteSafetensors(filepath.Join(dir, OptimizerFile), ts, nil); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(trainerState{Step: o.step, Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps,
		WeightDecay: o.WeightDecay, ClipNorm: o.ClipNorm, Schedule: o.Schedule}, "", "  ")
	return os.WriteFile(filepath.Join(dir, StateFile), append(b, '\n'), 0o644)
}

// Load restores what Save wrote; the parameters must have the names and
// shapes they had.
func (o *AdamW) Load(dir string) error {
	sp := filepath.Join(dir, StateFile)
	b, err := os.ReadFile(sp)
	if err != nil {
		return err
	}
	var st trainerState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("%s: %w", sp, err)
	}
	if st.Step < 0 {
		return fmt.Errorf("%s: negative global_step %d", sp, st.Step)
	}
	op := filepath.Join(dir, OptimizerFile)
	ts, err := model.ReadSafetensors(op)
	if err != nil {
		return err
	}
	byName := make(map[string][]float32, len(ts))
	for _, t := range ts {
		byName[t.Name] = t.Data
	}
	for k, p := range o.params {
		for _, x := range []struct {
			suffix string
			dst    []float32
		}{{".exp_avg", o.m[k]}, {".exp_avg_sq", o.v[k]}} {
			d, ok := byName[p.Name+x.suffix]
			if !ok {
				return fmt.Errorf("%s: missing %q", op, p.Name+x.suffix)
			}
			if len(d) != len(x.dst) {
				return fmt.Errorf("%s: %q has %d values, the parameter %d", op, p.Name+x.suffix, len(d), len(x.dst))
			}
			copy(x.dst, d)
		}
	}
	o.step, o.Beta1, o.Beta2, o.Eps = st.Step, st.Beta1, st.Beta2, st.Eps
	o.WeightDecay, o.ClipNorm, o.Schedule = st.WeightDecay, st.ClipNorm, st.Schedule
	return nil
}
