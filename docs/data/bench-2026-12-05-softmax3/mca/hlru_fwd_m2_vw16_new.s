	vmovups	-160(%rax), %ymm1
	vmovups	-128(%rax), %ymm2
	vmovups	-96(%rax), %ymm4
	vmovups	-64(%rax), %ymm10
	vmovups	-32(%rax), %ymm11
	vmovups	(%rax), %ymm12
	vblendps	$36, %ymm2, %ymm1, %ymm0        # ymm0 = ymm1[0,1],ymm2[2],ymm1[3,4],ymm2[5],ymm1[6,7]
	vblendps	$73, %ymm4, %ymm0, %ymm0        # ymm0 = ymm4[0],ymm0[1,2],ymm4[3],ymm0[4,5],ymm4[6],ymm0[7]
	vblendps	$146, %ymm2, %ymm1, %ymm3       # ymm3 = ymm1[0],ymm2[1],ymm1[2,3],ymm2[4],ymm1[5,6],ymm2[7]
	vblendps	$36, %ymm4, %ymm3, %ymm3        # ymm3 = ymm3[0,1],ymm4[2],ymm3[3,4],ymm4[5],ymm3[6,7]
	vpermps	%ymm0, %ymm13, %ymm8
	vpermps	%ymm3, %ymm6, %ymm9
	vblendps	$36, %ymm11, %ymm10, %ymm0      # ymm0 = ymm10[0,1],ymm11[2],ymm10[3,4],ymm11[5],ymm10[6,7]
	vblendps	$73, %ymm12, %ymm0, %ymm0       # ymm0 = ymm12[0],ymm0[1,2],ymm12[3],ymm0[4,5],ymm12[6],ymm0[7]
	vpermps	%ymm0, %ymm13, %ymm6
	vblendps	$146, %ymm11, %ymm10, %ymm0     # ymm0 = ymm10[0],ymm11[1],ymm10[2,3],ymm11[4],ymm10[5,6],ymm11[7]
	vblendps	$36, %ymm12, %ymm0, %ymm0       # ymm0 = ymm0[0,1],ymm12[2],ymm0[3,4],ymm12[5],ymm0[6,7]
	vmovaps	.LCPI1_1(%rip), %ymm3           # ymm3 = [0,3,6,1,4,7,2,5]
	vpermps	%ymm0, %ymm3, %ymm7
	vcmpleps	%ymm9, %ymm8, %ymm0
	vmovups	%ymm0, -64(%rsp)                # 32-byte Spill
	vcmpleps	%ymm7, %ymm6, %ymm0
	vmovups	%ymm0, -16(%rsp)                # 32-byte Spill
	vblendps	$36, %ymm1, %ymm2, %ymm1        # ymm1 = ymm2[0,1],ymm1[2],ymm2[3,4],ymm1[5],ymm2[6,7]
	vblendps	$146, %ymm4, %ymm1, %ymm1       # ymm1 = ymm1[0],ymm4[1],ymm1[2,3],ymm4[4],ymm1[5,6],ymm4[7]
	vmaxps	%ymm8, %ymm9, %ymm4
	vmovaps	.LCPI1_2(%rip), %ymm0           # ymm0 = [2,5,0,3,6,1,4,7]
	vpermps	%ymm1, %ymm0, %ymm13
	vblendps	$36, %ymm10, %ymm11, %ymm1      # ymm1 = ymm11[0,1],ymm10[2],ymm11[3,4],ymm10[5],ymm11[6,7]
	vblendps	$146, %ymm12, %ymm1, %ymm1      # ymm1 = ymm1[0],ymm12[1],ymm1[2,3],ymm12[4],ymm1[5,6],ymm12[7]
	vmaxps	%ymm6, %ymm7, %ymm10
	vpermps	%ymm1, %ymm0, %ymm11
	vcmpleps	%ymm10, %ymm11, %ymm0
	vmovups	%ymm0, -96(%rsp)                # 32-byte Spill
	vcmpleps	%ymm4, %ymm13, %ymm0
	vsubps	%ymm13, %ymm4, %ymm4
	vsubps	%ymm11, %ymm10, %ymm10
	vbroadcastss	.LCPI1_3(%rip), %ymm2   # ymm2 = [NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN]
	vandps	%ymm2, %ymm10, %ymm11
	vandps	%ymm2, %ymm4, %ymm12
	vmovups	416(%rsp), %ymm15               # 32-byte Reload
	vorps	%ymm4, %ymm15, %ymm13
	vorps	%ymm15, %ymm10, %ymm4
	vbroadcastss	.LCPI1_5(%rip), %ymm3   # ymm3 = [8.8E+1,8.8E+1,8.8E+1,8.8E+1,8.8E+1,8.8E+1,8.8E+1,8.8E+1]
	vcmpltps	%ymm11, %ymm3, %ymm10
	vbroadcastss	.LCPI1_6(%rip), %ymm11  # ymm11 = [-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1]
	vblendvps	%ymm10, %ymm11, %ymm4, %ymm14
	vcmpltps	%ymm12, %ymm3, %ymm10
	vbroadcastss	.LCPI1_6(%rip), %ymm11  # ymm11 = [-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1]
	vblendvps	%ymm10, %ymm11, %ymm13, %ymm12
	vbroadcastss	.LCPI1_7(%rip), %ymm2   # ymm2 = [1.44269502E+0,1.44269502E+0,1.44269502E+0,1.44269502E+0,1.44269502E+0,1.44269502E+0,1.44269502E+0,1.44269502E+0]
	vmovaps	%ymm2, %ymm10
	vmovaps	%ymm5, %ymm4
	vbroadcastss	.LCPI1_8(%rip), %ymm5   # ymm5 = [-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1]
	vfmadd213ps	%ymm5, %ymm12, %ymm10   # ymm10 = (ymm12 * ymm10) + ymm5
	vcvttps2dq	%ymm10, %ymm10
	vcvtdq2ps	%ymm10, %ymm11
	vbroadcastss	.LCPI1_9(%rip), %ymm1   # ymm1 = [6.93147182E-1,6.93147182E-1,6.93147182E-1,6.93147182E-1,6.93147182E-1,6.93147182E-1,6.93147182E-1,6.93147182E-1]
	vfnmadd213ps	%ymm12, %ymm1, %ymm11   # ymm11 = -(ymm1 * ymm11) + ymm12
	vmovups	%ymm0, 32(%rsp)                 # 32-byte Spill
	vextractf128	$1, %ymm0, %xmm12
	vsubps	%ymm8, %ymm9, %ymm8
	vbroadcastss	.LCPI1_3(%rip), %ymm9   # ymm9 = [NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN]
	vandps	%ymm9, %ymm8, %ymm9
	vorps	%ymm15, %ymm8, %ymm8
	vpackssdw	%xmm12, %xmm0, %xmm12
	vcmpltps	%ymm9, %ymm3, %ymm9
	vbroadcastss	.LCPI1_6(%rip), %ymm13  # ymm13 = [-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1]
	vblendvps	%ymm9, %ymm13, %ymm8, %ymm13
	vbroadcastss	.LCPI1_10(%rip), %ymm8  # ymm8 = [8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3]
	vbroadcastss	.LCPI1_11(%rip), %ymm9  # ymm9 = [4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2]
	vfmadd213ps	%ymm9, %ymm11, %ymm8    # ymm8 = (ymm11 * ymm8) + ymm9
	vbroadcastss	.LCPI1_12(%rip), %ymm0  # ymm0 = [1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1]
	vfmadd213ps	%ymm0, %ymm11, %ymm8    # ymm8 = (ymm11 * ymm8) + ymm0
	vbroadcastss	.LCPI1_13(%rip), %ymm0  # ymm0 = [4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1]
	vfmadd213ps	%ymm0, %ymm11, %ymm8    # ymm8 = (ymm11 * ymm8) + ymm0
	vbroadcastss	.LCPI1_14(%rip), %ymm0  # ymm0 = [9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1]
	vfmadd213ps	%ymm0, %ymm11, %ymm8    # ymm8 = (ymm11 * ymm8) + ymm0
	vbroadcastss	.LCPI1_15(%rip), %ymm0  # ymm0 = [1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0]
	vfmadd213ps	%ymm0, %ymm11, %ymm8    # ymm8 = (ymm11 * ymm8) + ymm0
	vpslld	$23, %ymm10, %ymm10
	vpbroadcastd	.LCPI1_16(%rip), %ymm9  # ymm9 = [1065353216,1065353216,1065353216,1065353216,1065353216,1065353216,1065353216,1065353216]
	vpaddd	%ymm9, %ymm10, %ymm10
	vmulps	%ymm10, %ymm8, %ymm8
	vsubps	%ymm6, %ymm7, %ymm7
	vmovaps	%ymm2, %ymm6
	vfmadd213ps	%ymm5, %ymm13, %ymm6    # ymm6 = (ymm13 * ymm6) + ymm5
	vcvttps2dq	%ymm6, %ymm6
	vcvtdq2ps	%ymm6, %ymm10
	vfnmadd213ps	%ymm13, %ymm1, %ymm10   # ymm10 = -(ymm1 * ymm10) + ymm13
	vbroadcastss	.LCPI1_10(%rip), %ymm11 # ymm11 = [8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3]
	vbroadcastss	.LCPI1_11(%rip), %ymm13 # ymm13 = [4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2]
	vfmadd213ps	%ymm13, %ymm10, %ymm11  # ymm11 = (ymm10 * ymm11) + ymm13
	vbroadcastss	.LCPI1_12(%rip), %ymm13 # ymm13 = [1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1]
	vfmadd213ps	%ymm13, %ymm10, %ymm11  # ymm11 = (ymm10 * ymm11) + ymm13
	vbroadcastss	.LCPI1_13(%rip), %ymm0  # ymm0 = [4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1]
	vfmadd213ps	%ymm0, %ymm10, %ymm11   # ymm11 = (ymm10 * ymm11) + ymm0
	vbroadcastss	.LCPI1_14(%rip), %ymm0  # ymm0 = [9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1]
	vfmadd213ps	%ymm0, %ymm10, %ymm11   # ymm11 = (ymm10 * ymm11) + ymm0
	vbroadcastss	.LCPI1_15(%rip), %ymm0  # ymm0 = [1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0]
	vfmadd213ps	%ymm0, %ymm10, %ymm11   # ymm11 = (ymm10 * ymm11) + ymm0
	vmovaps	%ymm2, %ymm10
	vfmadd213ps	%ymm5, %ymm14, %ymm10   # ymm10 = (ymm14 * ymm10) + ymm5
	vcvttps2dq	%ymm10, %ymm10
	vpmovzxwd	%xmm12, %ymm12          # ymm12 = xmm12[0],zero,xmm12[1],zero,xmm12[2],zero,xmm12[3],zero,xmm12[4],zero,xmm12[5],zero,xmm12[6],zero,xmm12[7],zero
	vpslld	$31, %ymm12, %ymm12
	vblendvps	%ymm12, %ymm4, %ymm8, %ymm12
	vpslld	$23, %ymm6, %ymm6
	vpaddd	%ymm6, %ymm9, %ymm6
	vmulps	%ymm6, %ymm11, %ymm6
	vmulps	%ymm6, %ymm12, %ymm11
	vmovups	-64(%rsp), %ymm0                # 32-byte Reload
	vblendvps	%ymm0, %ymm11, %ymm12, %ymm6
	vblendvps	%ymm0, %ymm12, %ymm11, %ymm3
	vbroadcastss	.LCPI1_3(%rip), %ymm0   # ymm0 = [NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN]
	vandps	%ymm0, %ymm7, %ymm11
	vorps	%ymm7, %ymm15, %ymm7
	vbroadcastss	.LCPI1_5(%rip), %ymm0   # ymm0 = [8.8E+1,8.8E+1,8.8E+1,8.8E+1,8.8E+1,8.8E+1,8.8E+1,8.8E+1]
	vcmpltps	%ymm11, %ymm0, %ymm11
	vcvtdq2ps	%ymm10, %ymm12
	vbroadcastss	.LCPI1_6(%rip), %ymm13  # ymm13 = [-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1]
	vblendvps	%ymm11, %ymm13, %ymm7, %ymm7
	vbroadcastss	.LCPI1_11(%rip), %ymm13 # ymm13 = [4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2]
	vfmadd213ps	%ymm5, %ymm7, %ymm2     # ymm2 = (ymm7 * ymm2) + ymm5
	vmovaps	%ymm4, %ymm5
	vfnmadd213ps	%ymm14, %ymm1, %ymm12   # ymm12 = -(ymm1 * ymm12) + ymm14
	vbroadcastss	.LCPI1_10(%rip), %ymm14 # ymm14 = [8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3]
	vcvttps2dq	%ymm2, %ymm4
	vcvtdq2ps	%ymm4, %ymm11
	vfnmadd213ps	%ymm7, %ymm1, %ymm11    # ymm11 = -(ymm1 * ymm11) + ymm7
	vmovaps	%ymm14, %ymm7
	vfmadd213ps	%ymm13, %ymm12, %ymm7   # ymm7 = (ymm12 * ymm7) + ymm13
	vbroadcastss	.LCPI1_12(%rip), %ymm0  # ymm0 = [1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1]
	vfmadd213ps	%ymm0, %ymm12, %ymm7    # ymm7 = (ymm12 * ymm7) + ymm0
	vbroadcastss	.LCPI1_13(%rip), %ymm0  # ymm0 = [4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1]
	vfmadd213ps	%ymm0, %ymm12, %ymm7    # ymm7 = (ymm12 * ymm7) + ymm0
	vbroadcastss	.LCPI1_14(%rip), %ymm0  # ymm0 = [9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1]
	vfmadd213ps	%ymm0, %ymm12, %ymm7    # ymm7 = (ymm12 * ymm7) + ymm0
	vbroadcastss	.LCPI1_15(%rip), %ymm0  # ymm0 = [1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0]
	vfmadd213ps	%ymm0, %ymm12, %ymm7    # ymm7 = (ymm12 * ymm7) + ymm0
	vmovaps	%ymm14, %ymm12
	vfmadd213ps	%ymm13, %ymm11, %ymm12  # ymm12 = (ymm11 * ymm12) + ymm13
	vmovaps	.LCPI1_0(%rip), %ymm13          # ymm13 = [1,4,7,2,5,0,3,6]
	vbroadcastss	.LCPI1_12(%rip), %ymm0  # ymm0 = [1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1]
	vfmadd213ps	%ymm0, %ymm11, %ymm12   # ymm12 = (ymm11 * ymm12) + ymm0
	vbroadcastss	.LCPI1_13(%rip), %ymm0  # ymm0 = [4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1]
	vfmadd213ps	%ymm0, %ymm11, %ymm12   # ymm12 = (ymm11 * ymm12) + ymm0
	vbroadcastss	.LCPI1_14(%rip), %ymm0  # ymm0 = [9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1]
	vfmadd213ps	%ymm0, %ymm11, %ymm12   # ymm12 = (ymm11 * ymm12) + ymm0
	vbroadcastss	.LCPI1_15(%rip), %ymm0  # ymm0 = [1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0]
	vfmadd213ps	%ymm0, %ymm11, %ymm12   # ymm12 = (ymm11 * ymm12) + ymm0
	vpslld	$23, %ymm10, %ymm10
	vpaddd	%ymm9, %ymm10, %ymm10
	vmulps	%ymm7, %ymm10, %ymm7
	vpslld	$23, %ymm4, %ymm4
	vpaddd	%ymm4, %ymm9, %ymm4
	vmovdqu	-96(%rsp), %ymm0                # 32-byte Reload
	vextracti128	$1, %ymm0, %xmm9
	vpackssdw	%xmm9, %xmm0, %xmm9
	vmovdqa	%ymm0, %ymm1
	vpmovzxwd	%xmm9, %ymm9            # ymm9 = xmm9[0],zero,xmm9[1],zero,xmm9[2],zero,xmm9[3],zero,xmm9[4],zero,xmm9[5],zero,xmm9[6],zero,xmm9[7],zero
	vpslld	$31, %ymm9, %ymm9
	vblendvps	%ymm9, %ymm5, %ymm7, %ymm9
	vmulps	%ymm4, %ymm12, %ymm4
	vmulps	%ymm4, %ymm9, %ymm4
	vmovups	-16(%rsp), %ymm0                # 32-byte Reload
	vblendvps	%ymm0, %ymm4, %ymm9, %ymm10
	vblendvps	%ymm0, %ymm9, %ymm4, %ymm0
	vmovups	32(%rsp), %ymm2                 # 32-byte Reload
	vblendvps	%ymm2, %ymm8, %ymm5, %ymm2
	vblendvps	%ymm1, %ymm7, %ymm5, %ymm1
	vmulps	-32(%rsi,%rcx), %ymm2, %ymm4
	vmulps	(%rsi,%rcx), %ymm1, %ymm7
	vfmadd231ps	(%r10,%rcx), %ymm10, %ymm7 # ymm7 = (ymm10 * mem) + ymm7
	vfmadd231ps	-32(%r10,%rcx), %ymm6, %ymm4 # ymm4 = (ymm6 * mem) + ymm4
	vfmadd231ps	(%r9,%rcx), %ymm0, %ymm7 # ymm7 = (ymm0 * mem) + ymm7
	vaddps	%ymm1, %ymm0, %ymm0
	vfmadd231ps	-32(%r9,%rcx), %ymm3, %ymm4 # ymm4 = (ymm3 * mem) + ymm4
	vaddps	%ymm2, %ymm3, %ymm1
	vaddps	%ymm6, %ymm1, %ymm1
	vdivps	%ymm1, %ymm4, %ymm1
	vaddps	%ymm0, %ymm10, %ymm0
	vdivps	%ymm0, %ymm7, %ymm0
	vmovaps	.LCPI1_1(%rip), %ymm6           # ymm6 = [0,3,6,1,4,7,2,5]
	vmovups	%ymm1, -32(%rdi,%rcx)
	vmovups	%ymm0, (%rdi,%rcx)
	addq	$64, %rcx
	addq	$192, %rax
	cmpq	%rcx, %rdx
	jne	.LBB1_4
