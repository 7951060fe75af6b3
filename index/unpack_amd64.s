#include "textflag.h"

// func unpack8AVX2(out *uint32, src *byte, groups int, w int, tab *unpackTab)
//
// Decodes groups x 8 values of width w (1..25) from a little-endian bit
// stream: a group is w bytes. Values 0-3 are gathered from the 16 bytes at
// the group's start, values 4-7 from the 16 bytes at w/2 (their first
// byte), each into a 32-bit lane (VPSHUFB), shifted right by its bit offset
// within its first byte (VPSRLVD) and masked. The caller makes sure every
// load stays within the source.
TEXT ·unpack8AVX2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ groups+16(FP), CX
	MOVQ w+24(FP), DX
	MOVQ tab+32(FP), R8
	MOVQ DX, R9
	SHRQ $1, R9
	VMOVDQU 0(R8), Y1
	VMOVDQU 32(R8), Y2
	VMOVDQU 64(R8), Y3

loop:
	VMOVDQU     (SI), X0
	VINSERTI128 $1, (SI)(R9*1), Y0, Y0
	VPSHUFB     Y1, Y0, Y0
	VPSRLVD     Y2, Y0, Y0
	VPAND       Y3, Y0, Y0
	VMOVDQU     Y0, (DI)
	ADDQ        DX, SI
	ADDQ        $32, DI
	DECQ        CX
	JNZ         loop
	VZEROUPPER
	RET
