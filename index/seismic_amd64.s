#include "textflag.h"

// func dotAVX2(qw *float32, terms *uint16, vals *uint8, n int) float32
//
// Eight entries per step: the terms widened to 32-bit lanes (VPMOVZXWD)
// index a gather of the query weights (VGATHERDPS, all lanes enabled), the
// u8 values widened and converted to float (VPMOVZXBD, VCVTDQ2PS), one
// fused multiply-add into the accumulator; a horizontal sum at the end.
TEXT ·dotAVX2(SB), NOSPLIT, $0-36
	MOVQ   qw+0(FP), DI
	MOVQ   terms+8(FP), SI
	MOVQ   vals+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPS Y0, Y0, Y0
	XORQ   AX, AX

loop:
	CMPQ        AX, CX
	JGE         done
	VPMOVZXWD   (SI)(AX*2), Y1
	VPMOVZXBD   (DX)(AX*1), Y2
	VCVTDQ2PS   Y2, Y2
	VPCMPEQD    Y3, Y3, Y3
	VXORPS      Y4, Y4, Y4
	VGATHERDPS  Y3, (DI)(Y1*4), Y4
	VFMADD231PS Y2, Y4, Y0
	ADDQ        $8, AX
	JMP         loop

done:
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+32(FP)
	RET

// func prefetchSpan(p *byte, n int)
//
// PREFETCHT0 of every 64-byte line of [p, p+n): the forward entries of a
// block's documents are fetched together instead of one miss after another.
TEXT ·prefetchSpan(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ n+8(FP), CX
	LEAQ (SI)(CX*1), CX

pfloop:
	CMPQ       SI, CX
	JGE        pfdone
	PREFETCHT0 (SI)
	ADDQ       $64, SI
	JMP        pfloop

pfdone:
	RET
