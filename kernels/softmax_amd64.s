//go:build amd64

#include "textflag.h"

// func softmaxExpAVX2(x *float32, n int, scale float32, m float64, c *[geluConsts][4]float64) (sum float64)
// For n (a multiple of 4) floats, 4 float64 lanes at a time: x[i] =
// float32(e) with e = expFast(max(float64(float32(scale*x[i])) - m, -110)),
// returning the float64 sum of the e. Same arithmetic as the scalar loop in
// softmaxScaled (with FMA); constants come from geluTable.
TEXT ·softmaxExpAVX2(SB), NOSPLIT, $0-48
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSS scale+16(FP), X12
	VBROADCASTSD m+24(FP), Y13
	MOVQ         c+32(FP), R8
	MOVQ         $0xc05b800000000000, AX // -110.0
	VMOVQ        AX, X15
	VBROADCASTSD X15, Y15
	VXORPD       Y14, Y14, Y14           // sum
	SHRQ         $2, CX
	JZ           done

loop:
	VMOVUPS      (SI), X0
	VMULPS       X12, X0, X0             // float32(scale*x)
	VCVTPS2PD    X0, Y0
	VSUBPD       Y13, Y0, Y0             // f - m
	VMAXPD       Y0, Y15, Y0             // max(f-m, -110), NaN kept
	VMOVAPD      160(R8), Y5             // log2e
	VFMADD213PD  192(R8), Y0, Y5         // w*log2e + round
	VSUBPD       192(R8), Y5, Y6         // k
	VPADDQ       224(R8), Y5, Y7
	VPSLLQ       $52, Y7, Y7             // 2^k
	VFNMADD231PD 256(R8), Y6, Y0         // r = w - k*ln2hi
	VFNMADD231PD 288(R8), Y6, Y0         // r -= k*ln2lo
	VMOVAPD      928(R8), Y8             // 1/9!
	VFMADD213PD  896(R8), Y0, Y8
	VFMADD213PD  864(R8), Y0, Y8
	VFMADD213PD  832(R8), Y0, Y8
	VFMADD213PD  800(R8), Y0, Y8
	VFMADD213PD  768(R8), Y0, Y8
	VFMADD213PD  736(R8), Y0, Y8
	VFMADD213PD  704(R8), Y0, Y8
	VFMADD213PD  96(R8), Y0, Y8          // + 1
	VFMADD213PD  96(R8), Y0, Y8          // + 1: exp(r)
	VMULPD       Y7, Y8, Y8              // e
	VADDPD       Y8, Y14, Y14
	VCVTPD2PSY   Y8, X8
	VMOVUPS      X8, (SI)
	ADDQ         $16, SI
	DECQ         CX
	JNZ          loop

done:
	VEXTRACTF128 $1, Y14, X1
	VADDPD       X1, X14, X14
	VUNPCKHPD    X14, X14, X1
	VADDSD       X1, X14, X14
	MOVSD        X14, sum+40(FP)
	VZEROUPPER
	RET

// func scaleAVX2(x *float32, n int, inv float64)
// x[i] = float32(float64(x[i]) * inv) for n (a multiple of 4) floats.
TEXT ·scaleAVX2(SB), NOSPLIT, $0-24
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSD inv+16(FP), Y1
	SHRQ         $2, CX
	JZ           sdone

sloop:
	VCVTPS2PD    (SI), Y0
	VMULPD       Y1, Y0, Y0
	VCVTPD2PSY   Y0, X0
	VMOVUPS      X0, (SI)
	ADDQ         $16, SI
	DECQ         CX
	JNZ          sloop

sdone:
	VZEROUPPER
	RET

// func maxAVX2(x *float32, n int) float32
// The maximum of n (a multiple of 8, > 0) floats. A NaN may be dropped;
// softmaxScaled's outputs are all NaN either way, as the NaN's own
// exponential poisons the sum.
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ    x+0(FP), SI
	MOVQ    n+8(FP), CX
	VMOVUPS (SI), Y0
	VMOVAPS Y0, Y1
	SHRQ    $3, CX

mloop:
	VMAXPS  (SI), Y0, Y0
	ADDQ    $32, SI
	DECQ    CX
	JZ      mdone
	VMAXPS  (SI), Y1, Y1
	ADDQ    $32, SI
	DECQ    CX
	JNZ     mloop

mdone:
	VMAXPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	MOVSS        X0, ret+16(FP)
	VZEROUPPER
	RET
