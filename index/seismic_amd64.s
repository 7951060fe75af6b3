#include "textflag.h"

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

// lanes holds 0..7, one per 32-bit lane: a block's last r < 8 entries are
// the lanes below r (VPCMPGTD against r broadcast).
DATA lanes<>+0(SB)/4, $0
DATA lanes<>+4(SB)/4, $1
DATA lanes<>+8(SB)/4, $2
DATA lanes<>+12(SB)/4, $3
DATA lanes<>+16(SB)/4, $4
DATA lanes<>+20(SB)/4, $5
DATA lanes<>+24(SB)/4, $6
DATA lanes<>+28(SB)/4, $7
GLOBL lanes<>(SB), RODATA|NOPTR, $32

// func dotsAVX2(qw *float32, terms *uint16, vals *uint8, offs *uint32, nb int, out *float32)
//
// Sparse-dense dot products of nb spans in one call: span i is entries
// [offs[i], offs[i+1]) of terms and vals, its sum goes to out[i]. Eight
// entries per step: the terms widened to 32-bit lanes (VPMOVZXWD) index a
// gather of the query weights (VGATHERDPS), the u8 values widened and
// converted to float (VPMOVZXBD, VCVTDQ2PS), one fused multiply-add into
// the accumulator; a horizontal sum per span. A span's last n mod 8 entries
// are one masked gather (lanes past the span neither read qw nor add), so
// the loads of terms and vals may run up to 8 entries past a span's end:
// the caller guarantees that those entries exist.
TEXT ·dotsAVX2(SB), NOSPLIT, $0-48
	MOVQ         qw+0(FP), DI
	MOVQ         terms+8(FP), SI
	MOVQ         vals+16(FP), DX
	MOVQ         offs+24(FP), R8
	MOVQ         nb+32(FP), R9
	MOVQ         out+40(FP), R10
	VMOVDQU      lanes<>(SB), Y6
	XORQ         R11, R11

block:
	CMPQ R11, R9
	JGE  fin
	MOVL (R8)(R11*4), AX
	MOVL 4(R8)(R11*4), BX
	VXORPS Y0, Y0, Y0

full:
	LEAQ        8(AX), CX
	CMPQ        CX, BX
	JG          tail
	VPMOVZXWD   (SI)(AX*2), Y1
	VPMOVZXBD   (DX)(AX*1), Y2
	VCVTDQ2PS   Y2, Y2
	VPCMPEQD    Y3, Y3, Y3
	VXORPS      Y4, Y4, Y4
	VGATHERDPS  Y3, (DI)(Y1*4), Y4
	VFMADD231PS Y2, Y4, Y0
	MOVQ        CX, AX
	JMP         full

tail:
	MOVQ         BX, CX
	SUBQ         AX, CX
	JLE          sum
	MOVQ         CX, X5
	VPBROADCASTD X5, Y5
	VPCMPGTD     Y6, Y5, Y3
	VPMOVZXWD    (SI)(AX*2), Y1
	VPMOVZXBD    (DX)(AX*1), Y2
	VCVTDQ2PS    Y2, Y2
	VXORPS       Y4, Y4, Y4
	VGATHERDPS   Y3, (DI)(Y1*4), Y4
	VFMADD231PS  Y2, Y4, Y0

sum:
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	MOVSS        X0, (R10)(R11*4)
	INCQ         R11
	JMP          block

fin:
	VZEROUPPER
	RET
