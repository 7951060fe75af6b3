//go:build amd64

#include "textflag.h"

// func addAVX2(x *float32, y *float32, n int)
// x[i] += y[i] for n (a multiple of 8) floats.
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ n+16(FP), CX
	CMPQ CX, $32
	JLT  tail8

loop32:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VADDPS  (SI), Y0, Y0
	VADDPS  32(SI), Y1, Y1
	VADDPS  64(SI), Y2, Y2
	VADDPS  96(SI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, DI
	ADDQ    $128, SI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     loop32

tail8:
	TESTQ CX, CX
	JZ    done

loop8:
	VMOVUPS (DI), Y0
	VADDPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     loop8

done:
	VZEROUPPER
	RET

// func axpyAVX2(y *float32, alpha float32, x *float32, n int)
// y[i] += alpha*x[i] for n (a multiple of 8) floats, rounding the product
// before the sum as the scalar loop does (no FMA).
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	MOVQ         y+0(FP), DI
	VBROADCASTSS alpha+8(FP), Y4
	MOVQ         x+16(FP), SI
	MOVQ         n+24(FP), CX
	CMPQ         CX, $32
	JLT          tail8

loop32:
	VMULPS  (SI), Y4, Y0
	VMULPS  32(SI), Y4, Y1
	VMULPS  64(SI), Y4, Y2
	VMULPS  96(SI), Y4, Y3
	VADDPS  (DI), Y0, Y0
	VADDPS  32(DI), Y1, Y1
	VADDPS  64(DI), Y2, Y2
	VADDPS  96(DI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, DI
	ADDQ    $128, SI
	SUBQ    $32, CX
	CMPQ    CX, $32
	JGE     loop32

tail8:
	TESTQ CX, CX
	JZ    done

loop8:
	VMULPS  (SI), Y4, Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	SUBQ    $8, CX
	JNZ     loop8

done:
	VZEROUPPER
	RET

// func geluGradAVX2(dx *float32, dy *float32, x *float32, n int, c *[geluGradConsts][4]float64)
// dx[i] = dy[i] * float32(Phi(f) + f*phi(f)), f = x[i], for n (a multiple
// of 4) floats, 4 float64 lanes at a time: the arithmetic of the scalar
// geluGrad in elementwise.go (with FMA). Constants: see geluGradTable.
TEXT ·geluGradAVX2(SB), NOSPLIT, $0-40
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	MOVQ c+32(FP), R8
	SHRQ $2, CX
	JZ   gdone

gloop:
	VCVTPS2PD    (SI), Y0            // f
	// e = exp(-f*f/2), 0 below -700.
	VMULPD       Y0, Y0, Y1
	VMULPD       800(R8), Y1, Y1     // w = -f*f/2
	VMOVAPD      320(R8), Y5         // log2e
	VFMADD213PD  352(R8), Y1, Y5     // w*log2e + round
	VSUBPD       352(R8), Y5, Y6     // k
	VPADDQ       384(R8), Y5, Y7
	VPSLLQ       $52, Y7, Y7         // 2^k
	VCMPPD       $1, 736(R8), Y1, Y9 // w < -700
	VFNMADD231PD 416(R8), Y6, Y1     // r = w - k*ln2hi
	VFNMADD231PD 448(R8), Y6, Y1     // r -= k*ln2lo
	VMOVAPD      704(R8), Y8         // 1/9!
	VFMADD213PD  672(R8), Y1, Y8
	VFMADD213PD  640(R8), Y1, Y8
	VFMADD213PD  608(R8), Y1, Y8
	VFMADD213PD  576(R8), Y1, Y8
	VFMADD213PD  544(R8), Y1, Y8
	VFMADD213PD  512(R8), Y1, Y8
	VFMADD213PD  480(R8), Y1, Y8     // + 1/2!
	VFMADD213PD  96(R8), Y1, Y8      // + 1
	VFMADD213PD  96(R8), Y1, Y8      // + 1: exp(r)
	VMULPD       Y7, Y8, Y8          // e
	VANDNPD      Y8, Y9, Y8          // e = 0 where w < -700
	// erfc(|f|/sqrt2) = t * a(t) * e, t = 1/(1 + p z).
	VANDPD       0(R8), Y0, Y2       // |f|
	VMULPD       32(R8), Y2, Y2      // z
	VMOVAPD      64(R8), Y3          // p
	VFMADD213PD  96(R8), Y2, Y3      // 1 + p z
	VMOVAPD      96(R8), Y4
	VDIVPD       Y3, Y4, Y3          // t
	VMOVAPD      256(R8), Y4         // a5
	VFMADD213PD  224(R8), Y3, Y4
	VFMADD213PD  192(R8), Y3, Y4
	VFMADD213PD  160(R8), Y3, Y4
	VFMADD213PD  128(R8), Y3, Y4     // a(t)
	VMULPD       Y4, Y3, Y4          // t a(t)
	VMULPD       Y8, Y4, Y4          // erfc
	VMULPD       288(R8), Y4, Y4     // cdf = Phi(-|f|) = erfc/2
	VMOVAPD      96(R8), Y10
	VSUBPD       Y4, Y10, Y10        // 1 - cdf
	VXORPD       Y11, Y11, Y11
	VCMPPD       $1, Y0, Y11, Y11    // 0 < f
	VBLENDVPD    Y11, Y10, Y4, Y4    // Phi(f)
	VMULPD       Y8, Y0, Y12         // f*e
	VMULPD       768(R8), Y12, Y12   // f*phi(f)
	VADDPD       Y12, Y4, Y4
	VCVTPD2PSY   Y4, X4
	VMULPS       (DX), X4, X4        // dy * GELU'(x)
	VMOVUPS      X4, (DI)
	ADDQ         $16, SI
	ADDQ         $16, DX
	ADDQ         $16, DI
	DECQ         CX
	JNZ          gloop

gdone:
	VZEROUPPER
	RET

// func maxArgAVX2(z *float32, ldz uintptr, rows int, mx *float32, arg *int32, row0 int, n int)
// For n (a multiple of 8) columns and rows >= 1 rows of z (ldz bytes
// apart): where z[r][j] > mx[j] (ordered: NaN never is), mx[j] = z[r][j]
// and arg[j] = row0 + r. Eight columns at a time, kept in registers over
// the rows.
TEXT ·maxArgAVX2(SB), NOSPLIT, $0-56
	MOVQ z+0(FP), SI
	MOVQ ldz+8(FP), R8
	MOVQ rows+16(FP), R9
	MOVQ mx+24(FP), DI
	MOVQ arg+32(FP), DX
	MOVQ row0+40(FP), AX
	MOVQ n+48(FP), CX
	MOVL $1, BX
	VMOVD BX, X15
	VPBROADCASTD X15, Y15      // ones (int32)
	VMOVD AX, X14
	VPBROADCASTD X14, Y14      // row0
	SHRQ $3, CX

cols:
	VMOVUPS (DI), Y0           // running max
	VMOVUPS (DX), Y1           // its rows
	VMOVDQU Y14, Y2            // current row
	MOVQ    SI, R10
	MOVQ    R9, R11

rows:
	VMOVUPS   (R10), Y3
	VCMPPS    $0x1e, Y0, Y3, Y4 // z > max (GT_OQ)
	VBLENDVPS Y4, Y3, Y0, Y0
	VBLENDVPS Y4, Y2, Y1, Y1
	VPADDD    Y15, Y2, Y2
	ADDQ      R8, R10
	DECQ      R11
	JNZ       rows

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, (DX)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     cols

	VZEROUPPER
	RET

// func lnSumAVX2(x *float32, n int) float64
// The float64 sum of n (a multiple of 8) floats, in 8 float64 lanes.
TEXT ·lnSumAVX2(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	SHRQ   $3, CX
	JZ     sdone

sloop:
	VCVTPS2PD (SI), Y2
	VCVTPS2PD 16(SI), Y3
	VADDPD    Y2, Y0, Y0
	VADDPD    Y3, Y1, Y1
	ADDQ      $32, SI
	DECQ      CX
	JNZ       sloop

sdone:
	VADDPD       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VHADDPD      X0, X0, X0
	VMOVSD       X0, ret+16(FP)
	VZEROUPPER
	RET

// func lnSqAVX2(x *float32, n int, mean float64) float64
// sum of (float64(x[i]) - mean)^2 over n (a multiple of 8) floats.
TEXT ·lnSqAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	VBROADCASTSD mean+16(FP), Y4
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	SHRQ         $3, CX
	JZ           qdone

qloop:
	VCVTPS2PD   (SI), Y2
	VCVTPS2PD   16(SI), Y3
	VSUBPD      Y4, Y2, Y2
	VSUBPD      Y4, Y3, Y3
	VFMADD231PD Y2, Y2, Y0
	VFMADD231PD Y3, Y3, Y1
	ADDQ        $32, SI
	DECQ        CX
	JNZ         qloop

qdone:
	VADDPD       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VHADDPD      X0, X0, X0
	VMOVSD       X0, ret+24(FP)
	VZEROUPPER
	RET

// func lnApplyAVX2(y *float32, x *float32, gamma *float32, beta *float32, n int, mean float64, inv float64)
// y[i] = float32((float64(x[i]) - mean) * inv) * gamma[i] + beta[i] for n
// (a multiple of 8) floats: the scalar rounding steps of LayerNorm.
TEXT ·lnApplyAVX2(SB), NOSPLIT, $0-56
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gamma+16(FP), R8
	MOVQ         beta+24(FP), R9
	MOVQ         n+32(FP), CX
	VBROADCASTSD mean+40(FP), Y4
	VBROADCASTSD inv+48(FP), Y5
	SHRQ         $3, CX
	JZ           adone

aloop:
	VCVTPS2PD   (SI), Y0
	VCVTPS2PD   16(SI), Y1
	VSUBPD      Y4, Y0, Y0
	VSUBPD      Y4, Y1, Y1
	VMULPD      Y5, Y0, Y0
	VMULPD      Y5, Y1, Y1
	VCVTPD2PSY  Y0, X0
	VCVTPD2PSY  Y1, X1
	VINSERTF128 $1, X1, Y0, Y0
	VMULPS      (R8), Y0, Y0
	VADDPS      (R9), Y0, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	ADDQ        $32, R8
	ADDQ        $32, R9
	DECQ        CX
	JNZ         aloop

adone:
	VZEROUPPER
	RET

// func maxRowsAVX2(z *float32, ldz uintptr, rows int, mx *float32, n int)
// For n (a multiple of 8) columns and rows >= 1 rows of z (ldz bytes
// apart): mx[j] = z[r][j] where z[r][j] > mx[j] (NaN never wins), the
// running maximum of max pooling. 32 columns at a time in four registers
// over the rows, then 8 at a time.
TEXT ·maxRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ z+0(FP), SI
	MOVQ ldz+8(FP), R8
	MOVQ rows+16(FP), R9
	MOVQ mx+24(FP), DI
	MOVQ n+32(FP), CX

wide:
	CMPQ    CX, $32
	JLT     narrow
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	MOVQ    SI, R10
	MOVQ    R9, R11

wrows:
	// Intel VMAXPS Y0, Y4, Y0: Y0 = Y4 > Y0 ? Y4 : Y0, so a NaN in z
	// (the first source) never replaces the maximum.
	VMOVUPS (R10), Y4
	VMOVUPS 32(R10), Y5
	VMOVUPS 64(R10), Y6
	VMOVUPS 96(R10), Y7
	VMAXPS  Y0, Y4, Y0
	VMAXPS  Y1, Y5, Y1
	VMAXPS  Y2, Y6, Y2
	VMAXPS  Y3, Y7, Y3
	ADDQ   R8, R10
	DECQ   R11
	JNZ    wrows

	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     wide

narrow:
	TESTQ   CX, CX
	JZ      done
	VMOVUPS (DI), Y0
	MOVQ    SI, R10
	MOVQ    R9, R11

nrows:
	VMOVUPS (R10), Y4
	VMAXPS  Y0, Y4, Y0
	ADDQ   R8, R10
	DECQ   R11
	JNZ    nrows

	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     narrow

done:
	VZEROUPPER
	RET
