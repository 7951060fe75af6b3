package kernels

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"
)

// Names of the kernel paths, fastest first. Which ones exist depends on the
// CPU (and on GOARCH: the SIMD paths are amd64 only).
const (
	PathAVX512  = "avx512"
	PathAVX2    = "avx2"
	PathGeneric = "generic"
)

// EnvPath is the environment variable that, when set to a path name, makes
// the package start on that path instead of the fastest one (e.g. to run
// the tests on the AVX2 code on an AVX-512 machine).
const EnvPath = "SPLADE_KERNELS"

// microKernel computes an mr x nr tile of C from a packed A block
// ([k][mr]) and nr/16 packed B panels ([k][16], bstride bytes apart),
// adding bias (nr floats) when non-nil and adding to C instead of
// overwriting it when accum is set. ldc is in bytes.
type microKernel struct {
	name   string
	mr, nr int // tile rows and columns
	mc     int // M blocking: rows of A per block (see kBlock for K)
	fn     func(k int, a *float32, b *float32, bstride uintptr, c *float32, ldc uintptr, bias *float32, accum bool)
	// tall, when set, is a kernel of the same path with more rows and
	// fewer columns for products of at most tall.mr rows (a query): it
	// reads each weight panel from memory once instead of once per
	// block of mr rows, which matters when the weights stream from DRAM.
	tall *microKernel
}

// forRows returns the microkernel for a product of m rows.
func (mk *microKernel) forRows(m int) *microKernel {
	if mk.tall != nil && m <= mk.tall.mr {
		return mk.tall
	}
	return mk
}

var (
	available []*microKernel // fastest first
	current   atomic.Pointer[microKernel]
)

func init() {
	available = append(archKernels(), &microKernel{name: PathGeneric, mr: 4, nr: 16, mc: 48, fn: kernGo})
	current.Store(available[0])
	if name := os.Getenv(EnvPath); name != "" {
		if err := SetPath(name); err != nil {
			fmt.Fprintf(os.Stderr, "kernels: %v; using %s\n", err, available[0].name)
		}
	}
}

// Paths lists the kernel paths this CPU can run, fastest first.
func Paths() []string {
	names := make([]string, len(available))
	for i, k := range available {
		names[i] = k.name
	}
	return names
}

// Path returns the name of the kernel path in use.
func Path() string { return current.Load().name }

// SetPath switches all kernels to the named path (see Paths). Packed
// matrices are path-independent, so this may be called at any time,
// though calls already running finish on the old path.
func SetPath(name string) error {
	for _, k := range available {
		if k.name == name {
			current.Store(k)
			return nil
		}
	}
	return fmt.Errorf("kernel path %q is not available on this CPU (have %v)", name, Paths())
}

// kernGo is the portable microkernel: 4 x 16 tiles over one B panel.
func kernGo(k int, a *float32, b *float32, _ uintptr, c *float32, ldc uintptr, bias *float32, accum bool) {
	const mr, nr = 4, 16
	var acc [mr][nr]float32
	if k > 0 {
		as := unsafe.Slice(a, k*mr)
		bs := unsafe.Slice(b, k*nr)
		for l := 0; l < k; l++ {
			bl := (*[nr]float32)(bs[l*nr : l*nr+nr])
			al := (*[mr]float32)(as[l*mr : l*mr+mr])
			for r := range mr {
				av := al[r]
				row := &acc[r]
				for j := range nr {
					row[j] += av * bl[j]
				}
			}
		}
	}
	if bias != nil {
		bv := (*[nr]float32)(unsafe.Pointer(bias))
		for r := range mr {
			for j := range nr {
				acc[r][j] += bv[j]
			}
		}
	}
	for r := range mr {
		row := (*[nr]float32)(unsafe.Add(unsafe.Pointer(c), uintptr(r)*ldc))
		if accum {
			for j := range nr {
				row[j] += acc[r][j]
			}
		} else {
			*row = acc[r]
		}
	}
}
