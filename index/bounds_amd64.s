#include "textflag.h"

// func addScaledAVX2(ub *uint32, m *byte, n int, w uint32)
//
// ub[i] += w * m[i] for i < n, n a multiple of 16: sixteen ranges per step,
// the bytes widened to 32-bit lanes (VPMOVZXBD), multiplied by the
// broadcast weight (VPMULLD, low 32 bits, as the Go loop wraps) and added.
TEXT ·addScaledAVX2(SB), NOSPLIT, $0-28
	MOVQ         ub+0(FP), DI
	MOVQ         m+8(FP), SI
	MOVQ         n+16(FP), CX
	MOVL         w+24(FP), AX
	VMOVD        AX, X0
	VPBROADCASTD X0, Y0
	XORQ         AX, AX

loop:
	CMPQ      AX, CX
	JGE       done
	VPMOVZXBD (SI)(AX*1), Y1
	VPMOVZXBD 8(SI)(AX*1), Y2
	VPMULLD   Y0, Y1, Y1
	VPMULLD   Y0, Y2, Y2
	VPADDD    (DI)(AX*4), Y1, Y1
	VPADDD    32(DI)(AX*4), Y2, Y2
	VMOVDQU   Y1, (DI)(AX*4)
	VMOVDQU   Y2, 32(DI)(AX*4)
	ADDQ      $16, AX
	JMP       loop

done:
	VZEROUPPER
	RET
