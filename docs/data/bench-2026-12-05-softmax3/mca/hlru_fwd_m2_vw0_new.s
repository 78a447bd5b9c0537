	vmovups	-64(%rax), %ymm0
	vmovups	-32(%rax), %ymm1
	vmovups	(%rax), %ymm2
	vblendps	$36, %ymm1, %ymm0, %ymm3        # ymm3 = ymm0[0,1],ymm1[2],ymm0[3,4],ymm1[5],ymm0[6,7]
	vblendps	$73, %ymm2, %ymm3, %ymm3        # ymm3 = ymm2[0],ymm3[1,2],ymm2[3],ymm3[4,5],ymm2[6],ymm3[7]
	vmovaps	.LCPI1_0(%rip), %ymm4           # ymm4 = [1,4,7,2,5,0,3,6]
	vpermps	%ymm3, %ymm4, %ymm3
	vblendps	$146, %ymm1, %ymm0, %ymm4       # ymm4 = ymm0[0],ymm1[1],ymm0[2,3],ymm1[4],ymm0[5,6],ymm1[7]
	vblendps	$36, %ymm2, %ymm4, %ymm4        # ymm4 = ymm4[0,1],ymm2[2],ymm4[3,4],ymm2[5],ymm4[6,7]
	vpermps	%ymm4, %ymm6, %ymm4
	vblendps	$36, %ymm0, %ymm1, %ymm0        # ymm0 = ymm1[0,1],ymm0[2],ymm1[3,4],ymm0[5],ymm1[6,7]
	vblendps	$146, %ymm2, %ymm0, %ymm0       # ymm0 = ymm0[0],ymm2[1],ymm0[2,3],ymm2[4],ymm0[5,6],ymm2[7]
	vpermps	%ymm0, %ymm8, %ymm1
	vmaxps	%ymm3, %ymm4, %ymm2
	vcmpleps	%ymm2, %ymm1, %ymm0
	vmovups	%ymm0, -80(%rsp)                # 32-byte Spill
	vsubps	%ymm1, %ymm2, %ymm1
	vandps	%ymm1, %ymm10, %ymm2
	vcmpltps	%ymm2, %ymm7, %ymm2
	vorps	%ymm5, %ymm1, %ymm1
	vblendvps	%ymm2, %ymm9, %ymm1, %ymm1
	vbroadcastss	.LCPI1_7(%rip), %ymm5   # ymm5 = [1.44269502E+0,1.44269502E+0,1.44269502E+0,1.44269502E+0,1.44269502E+0,1.44269502E+0,1.44269502E+0,1.44269502E+0]
	vmovaps	%ymm5, %ymm2
	vfmadd213ps	%ymm15, %ymm1, %ymm2    # ymm2 = (ymm1 * ymm2) + ymm15
	vmovaps	%ymm7, %ymm10
	vcvttps2dq	%ymm2, %ymm8
	vcvtdq2ps	%ymm8, %ymm6
	vbroadcastss	.LCPI1_9(%rip), %ymm2   # ymm2 = [6.93147182E-1,6.93147182E-1,6.93147182E-1,6.93147182E-1,6.93147182E-1,6.93147182E-1,6.93147182E-1,6.93147182E-1]
	vmovaps	%ymm11, %ymm7
	vmovaps	%ymm2, %ymm11
	vfnmadd213ps	%ymm1, %ymm2, %ymm6     # ymm6 = -(ymm2 * ymm6) + ymm1
	vmovaps	%ymm14, %ymm2
	vcmpleps	%ymm4, %ymm3, %ymm15
	vbroadcastss	.LCPI1_11(%rip), %ymm0  # ymm0 = [4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2]
	vfmadd213ps	%ymm0, %ymm6, %ymm2     # ymm2 = (ymm6 * ymm2) + ymm0
	vbroadcastss	.LCPI1_12(%rip), %ymm13 # ymm13 = [1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1,1.66675746E-1]
	vmovaps	%ymm14, %ymm1
	vmovaps	%ymm13, %ymm14
	vfmadd213ps	%ymm13, %ymm6, %ymm2    # ymm2 = (ymm6 * ymm2) + ymm13
	vsubps	%ymm3, %ymm4, %ymm3
	vfmadd213ps	%ymm12, %ymm6, %ymm2    # ymm2 = (ymm6 * ymm2) + ymm12
	vbroadcastss	.LCPI1_3(%rip), %ymm4   # ymm4 = [NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN]
	vandps	%ymm4, %ymm3, %ymm4
	vcmpltps	%ymm4, %ymm10, %ymm4
	vorps	-48(%rsp), %ymm3, %ymm3         # 32-byte Folded Reload
	vmovaps	%ymm12, %ymm13
	vbroadcastss	.LCPI1_14(%rip), %ymm12 # ymm12 = [9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1,9.99999701E-1]
	vfmadd213ps	%ymm12, %ymm6, %ymm2    # ymm2 = (ymm6 * ymm2) + ymm12
	vblendvps	%ymm4, %ymm9, %ymm3, %ymm3
	vmovaps	%ymm5, %ymm4
	vbroadcastss	.LCPI1_8(%rip), %ymm5   # ymm5 = [-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1]
	vfmadd213ps	%ymm5, %ymm3, %ymm4     # ymm4 = (ymm3 * ymm4) + ymm5
	vfmadd213ps	%ymm7, %ymm6, %ymm2     # ymm2 = (ymm6 * ymm2) + ymm7
	vcvttps2dq	%ymm4, %ymm4
	vcvtdq2ps	%ymm4, %ymm6
	vfnmadd213ps	%ymm3, %ymm11, %ymm6    # ymm6 = -(ymm11 * ymm6) + ymm3
	vmovaps	%ymm7, %ymm11
	vmovaps	%ymm1, %ymm3
	vpslld	$23, %ymm8, %ymm5
	vmovaps	%ymm10, %ymm7
	vfmadd213ps	%ymm0, %ymm6, %ymm3     # ymm3 = (ymm6 * ymm3) + ymm0
	vfmadd213ps	%ymm14, %ymm6, %ymm3    # ymm3 = (ymm6 * ymm3) + ymm14
	vmovaps	%ymm1, %ymm14
	vfmadd213ps	%ymm13, %ymm6, %ymm3    # ymm3 = (ymm6 * ymm3) + ymm13
	vfmadd213ps	%ymm12, %ymm6, %ymm3    # ymm3 = (ymm6 * ymm3) + ymm12
	vmovaps	%ymm13, %ymm12
	vfmadd213ps	%ymm11, %ymm6, %ymm3    # ymm3 = (ymm6 * ymm3) + ymm11
	vpbroadcastd	.LCPI1_16(%rip), %ymm6  # ymm6 = [1065353216,1065353216,1065353216,1065353216,1065353216,1065353216,1065353216,1065353216]
	vpaddd	%ymm6, %ymm5, %ymm5
	vmulps	%ymm5, %ymm2, %ymm2
	vpslld	$23, %ymm4, %ymm4
	vpaddd	%ymm6, %ymm4, %ymm4
	vbroadcastss	.LCPI1_16(%rip), %ymm6  # ymm6 = [1065353216,1065353216,1065353216,1065353216,1065353216,1065353216,1065353216,1065353216]
	vmovups	-80(%rsp), %ymm0                # 32-byte Reload
	vblendvps	%ymm0, %ymm6, %ymm2, %ymm5
	vmulps	%ymm4, %ymm3, %ymm3
	vblendvps	%ymm0, %ymm2, %ymm6, %ymm0
	vmulps	%ymm5, %ymm3, %ymm3
	vmulps	(%rdx,%rcx), %ymm0, %ymm0
	vblendvps	%ymm15, %ymm3, %ymm5, %ymm4
	vfmadd231ps	(%r9,%rcx), %ymm4, %ymm0 # ymm0 = (ymm4 * mem) + ymm0
	vblendvps	%ymm15, %ymm5, %ymm3, %ymm1
	vmovups	-48(%rsp), %ymm5                # 32-byte Reload
	vfmadd231ps	(%r13,%rcx), %ymm1, %ymm0 # ymm0 = (ymm1 * mem) + ymm0
	vaddps	%ymm6, %ymm2, %ymm1
	vmovaps	.LCPI1_1(%rip), %ymm6           # ymm6 = [0,3,6,1,4,7,2,5]
	vmovaps	.LCPI1_2(%rip), %ymm8           # ymm8 = [2,5,0,3,6,1,4,7]
	vbroadcastss	.LCPI1_3(%rip), %ymm10  # ymm10 = [NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN]
	vbroadcastss	.LCPI1_8(%rip), %ymm15  # ymm15 = [-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1,-5.0E-1]
	vaddps	%ymm3, %ymm1, %ymm1
	vdivps	%ymm1, %ymm0, %ymm0
	vmovups	%ymm0, (%r10,%rcx)
	addq	$32, %rcx
	addq	$96, %rax
	cmpq	%rcx, %rbp
	jne	.LBB1_4
