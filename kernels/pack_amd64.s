//go:build amd64

#include "textflag.h"

// func packRows8AVX(d *float32, ds uintptr, a *float32, rs uintptr, n int)
// For 8 rows of a (rs bytes apart) and columns [0, 8n), writes column l
// (the 8 row values) as 8 contiguous floats at d + l*ds: one 8x8
// transpose (unpack, shuffle, lane permute) per 8 columns.
TEXT ·packRows8AVX(SB), NOSPLIT, $0-40
	MOVQ d+0(FP), DI
	MOVQ ds+8(FP), DX
	MOVQ a+16(FP), SI
	MOVQ rs+24(FP), R8
	MOVQ n+32(FP), CX
	LEAQ (R8)(R8*2), R9      // 3 rs
	LEAQ (SI)(R8*4), R10     // row 4
	LEAQ (DX)(DX*2), R11     // 3 ds
	TESTQ CX, CX
	JZ   done

loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R9*1), Y3
	VMOVUPS (R10), Y4
	VMOVUPS (R10)(R8*1), Y5
	VMOVUPS (R10)(R8*2), Y6
	VMOVUPS (R10)(R9*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xee, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xee, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xee, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xee, Y15, Y13, Y7
	LEAQ (DI)(DX*4), R12     // column 4
	VPERM2F128 $0x20, Y4, Y0, Y8
	VMOVUPS Y8, (DI)
	VPERM2F128 $0x20, Y5, Y1, Y8
	VMOVUPS Y8, (DI)(DX*1)
	VPERM2F128 $0x20, Y6, Y2, Y8
	VMOVUPS Y8, (DI)(DX*2)
	VPERM2F128 $0x20, Y7, Y3, Y8
	VMOVUPS Y8, (DI)(R11*1)
	VPERM2F128 $0x31, Y4, Y0, Y8
	VMOVUPS Y8, (R12)
	VPERM2F128 $0x31, Y5, Y1, Y8
	VMOVUPS Y8, (R12)(DX*1)
	VPERM2F128 $0x31, Y6, Y2, Y8
	VMOVUPS Y8, (R12)(DX*2)
	VPERM2F128 $0x31, Y7, Y3, Y8
	VMOVUPS Y8, (R12)(R11*1)
	ADDQ $32, SI
	ADDQ $32, R10
	LEAQ (R12)(DX*4), DI
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET

// func copyRowsAVX(d *float32, ds uintptr, a *float32, as uintptr, n int, w int)
// Copies n rows of w floats (w = 8 or 16) from a (rows as bytes apart) to
// d (rows ds bytes apart): the row copies of packing, without a memmove
// call per row.
TEXT ·copyRowsAVX(SB), NOSPLIT, $0-48
	MOVQ d+0(FP), DI
	MOVQ ds+8(FP), DX
	MOVQ a+16(FP), SI
	MOVQ as+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ w+40(FP), AX
	TESTQ CX, CX
	JZ   cdone
	CMPQ AX, $16
	JEQ  c16

c8:
	VMOVUPS (SI), Y0
	VMOVUPS Y0, (DI)
	ADDQ    R8, SI
	ADDQ    DX, DI
	DECQ    CX
	JNZ     c8
	JMP     cdone

c16:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    R8, SI
	ADDQ    DX, DI
	DECQ    CX
	JNZ     c16

cdone:
	VZEROUPPER
	RET
