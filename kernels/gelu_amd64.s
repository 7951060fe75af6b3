//go:build amd64

#include "textflag.h"

// func geluAVX2(x *float32, n int, c *[geluConsts][4]float64)
// GELU in place on n (a multiple of 4) floats, 4 lanes of float64 at a
// time; the same arithmetic as the scalar gelu in elementwise.go. Each
// constant in c is a 32-byte vector (see geluTable).
TEXT ·geluAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ c+16(FP), R8
	SHRQ $2, CX
	JZ   done

loop:
	VCVTPS2PD    (SI), Y0           // f
	VANDPD       0(R8), Y0, Y1      // |f|
	VMULPD       32(R8), Y1, Y1     // z = |f|/sqrt2
	VMOVAPD      64(R8), Y2         // 0.5
	VFMADD213PD  96(R8), Y1, Y2     // 1 + 0.5z
	VMOVAPD      96(R8), Y3
	VDIVPD       Y2, Y3, Y2         // t = 1/(1+0.5z)
	VMOVAPD      608(R8), Y3        // c9
	VFMADD213PD  576(R8), Y2, Y3
	VFMADD213PD  544(R8), Y2, Y3
	VFMADD213PD  512(R8), Y2, Y3
	VFMADD213PD  480(R8), Y2, Y3
	VFMADD213PD  448(R8), Y2, Y3
	VFMADD213PD  416(R8), Y2, Y3
	VFMADD213PD  384(R8), Y2, Y3
	VFMADD213PD  352(R8), Y2, Y3
	VFMADD213PD  320(R8), Y2, Y3    // p(t)
	VMULPD       Y1, Y1, Y4
	VXORPD       128(R8), Y4, Y4    // w = -z*z
	VMOVAPD      160(R8), Y5        // log2e
	VFMADD213PD  192(R8), Y4, Y5    // w*log2e + round
	VSUBPD       192(R8), Y5, Y6    // k
	VPADDQ       224(R8), Y5, Y7
	VPSLLQ       $52, Y7, Y7        // 2^k
	VFNMADD231PD 256(R8), Y6, Y4    // r = w - k*ln2hi
	VFNMADD231PD 288(R8), Y6, Y4    // r -= k*ln2lo
	VMOVAPD      928(R8), Y8        // 1/9!
	VFMADD213PD  896(R8), Y4, Y8
	VFMADD213PD  864(R8), Y4, Y8
	VFMADD213PD  832(R8), Y4, Y8
	VFMADD213PD  800(R8), Y4, Y8
	VFMADD213PD  768(R8), Y4, Y8
	VFMADD213PD  736(R8), Y4, Y8
	VFMADD213PD  704(R8), Y4, Y8
	VFMADD213PD  96(R8), Y4, Y8     // + 1
	VFMADD213PD  96(R8), Y4, Y8     // + 1: exp(r)
	VMULPD       Y7, Y8, Y8         // exp(-z*z)
	VMULPD       Y3, Y8, Y8         // erfc(z)
	VMULPD       64(R8), Y8, Y8     // h = erfc/2
	VCMPPD       $1, 640(R8), Y1, Y9 // z < 4
	VANDPD       Y9, Y8, Y8
	VMOVAPD      64(R8), Y10
	VSUBPD       Y8, Y10, Y10       // 0.5 - h >= 0
	VANDPD       128(R8), Y0, Y11   // sign of f
	VORPD        Y11, Y10, Y10      // copysign(0.5-h, f)
	VADDPD       64(R8), Y10, Y10   // Phi(f)
	VMULPD       Y10, Y0, Y0
	VCVTPD2PSY   Y0, X0
	VMOVUPS      X0, (SI)
	ADDQ         $16, SI
	DECQ         CX
	JNZ          loop

done:
	VZEROUPPER
	RET
