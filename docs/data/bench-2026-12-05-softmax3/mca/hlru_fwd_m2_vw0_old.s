	vmovups	-64(%rax), %ymm1
	vmovups	-32(%rax), %ymm2
	vmovups	(%rax), %ymm3
	vblendps	$36, %ymm1, %ymm2, %ymm0        # ymm0 = ymm2[0,1],ymm1[2],ymm2[3,4],ymm1[5],ymm2[6,7]
	vblendps	$146, %ymm3, %ymm0, %ymm0       # ymm0 = ymm0[0],ymm3[1],ymm0[2,3],ymm3[4],ymm0[5,6],ymm3[7]
	vblendps	$146, %ymm2, %ymm1, %ymm4       # ymm4 = ymm1[0],ymm2[1],ymm1[2,3],ymm2[4],ymm1[5,6],ymm2[7]
	vpermps	%ymm0, %ymm5, %ymm0
	vblendps	$36, %ymm3, %ymm4, %ymm4        # ymm4 = ymm4[0,1],ymm3[2],ymm4[3,4],ymm3[5],ymm4[6,7]
	vblendps	$36, %ymm2, %ymm1, %ymm1        # ymm1 = ymm1[0,1],ymm2[2],ymm1[3,4],ymm2[5],ymm1[6,7]
	vblendps	$73, %ymm3, %ymm1, %ymm1        # ymm1 = ymm3[0],ymm1[1,2],ymm3[3],ymm1[4,5],ymm3[6],ymm1[7]
	vpermps	%ymm4, %ymm6, %ymm4
	vpermps	%ymm1, %ymm7, %ymm1
	vmaxps	%ymm1, %ymm4, %ymm2
	vmaxps	%ymm2, %ymm0, %ymm2
	vbroadcastss	.LCPI259_3(%rip), %ymm12 # ymm12 = [-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1,-8.8E+1]
	vaddps	%ymm2, %ymm12, %ymm3
	vcmpltps	%ymm3, %ymm1, %ymm5
	vsubps	%ymm2, %ymm1, %ymm1
	vblendvps	%ymm5, %ymm12, %ymm1, %ymm1
	vmovaps	%ymm9, %ymm5
	vfmadd213ps	%ymm8, %ymm1, %ymm5     # ymm5 = (ymm1 * ymm5) + ymm8
	vcmpltps	%ymm3, %ymm4, %ymm6
	vcvttps2dq	%ymm5, %ymm5
	vsubps	%ymm2, %ymm4, %ymm4
	vblendvps	%ymm6, %ymm12, %ymm4, %ymm4
	vcvtdq2ps	%ymm5, %ymm6
	vfnmadd213ps	%ymm1, %ymm14, %ymm6    # ymm6 = -(ymm14 * ymm6) + ymm1
	vmovaps	%ymm9, %ymm1
	vfmadd213ps	%ymm8, %ymm4, %ymm1     # ymm1 = (ymm4 * ymm1) + ymm8
	vcvttps2dq	%ymm1, %ymm1
	vmovups	%ymm1, (%rsp)                   # 32-byte Spill
	vcvtdq2ps	%ymm1, %ymm7
	vfnmadd213ps	%ymm4, %ymm14, %ymm7    # ymm7 = -(ymm14 * ymm7) + ymm4
	vcmpltps	%ymm3, %ymm0, %ymm3
	vsubps	%ymm2, %ymm0, %ymm0
	vbroadcastss	.LCPI259_7(%rip), %ymm2 # ymm2 = [8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3]
	vbroadcastss	.LCPI259_8(%rip), %ymm4 # ymm4 = [4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2,4.19153832E-2]
	vmovaps	%ymm9, %ymm1
	vmovaps	%ymm4, %ymm9
	vfmadd213ps	%ymm4, %ymm6, %ymm2     # ymm2 = (ymm6 * ymm2) + ymm4
	vfmadd213ps	%ymm10, %ymm6, %ymm2    # ymm2 = (ymm6 * ymm2) + ymm10
	vbroadcastss	.LCPI259_10(%rip), %ymm11 # ymm11 = [4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1,4.99988943E-1]
	vfmadd213ps	%ymm11, %ymm6, %ymm2    # ymm2 = (ymm6 * ymm2) + ymm11
	vfmadd213ps	%ymm13, %ymm6, %ymm2    # ymm2 = (ymm6 * ymm2) + ymm13
	vbroadcastss	.LCPI259_12(%rip), %ymm15 # ymm15 = [1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0,1.00000012E+0]
	vfmadd213ps	%ymm15, %ymm6, %ymm2    # ymm2 = (ymm6 * ymm2) + ymm15
	vmovdqu	128(%rsp), %ymm6                # 32-byte Reload
	vpslld	$23, %ymm5, %ymm4
	vblendvps	%ymm3, %ymm12, %ymm0, %ymm3
	vbroadcastss	.LCPI259_7(%rip), %ymm0 # ymm0 = [8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3]
	vpaddd	%ymm6, %ymm4, %ymm4
	vfmadd213ps	%ymm9, %ymm7, %ymm0     # ymm0 = (ymm7 * ymm0) + ymm9
	vfmadd213ps	%ymm10, %ymm7, %ymm0    # ymm0 = (ymm7 * ymm0) + ymm10
	vfmadd213ps	%ymm11, %ymm7, %ymm0    # ymm0 = (ymm7 * ymm0) + ymm11
	vfmadd213ps	%ymm13, %ymm7, %ymm0    # ymm0 = (ymm7 * ymm0) + ymm13
	vfmadd213ps	%ymm15, %ymm7, %ymm0    # ymm0 = (ymm7 * ymm0) + ymm15
	vbroadcastss	.LCPI259_7(%rip), %ymm12 # ymm12 = [8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3,8.2976548E-3]
	vmovaps	.LCPI259_2(%rip), %ymm7         # ymm7 = [1,4,7,2,5,0,3,6]
	vmovaps	%ymm1, %ymm5
	vfmadd213ps	%ymm8, %ymm3, %ymm5     # ymm5 = (ymm3 * ymm5) + ymm8
	vcvttps2dq	%ymm5, %ymm5
	vmulps	%ymm4, %ymm2, %ymm2
	vcvtdq2ps	%ymm5, %ymm4
	vfnmadd213ps	%ymm3, %ymm14, %ymm4    # ymm4 = -(ymm14 * ymm4) + ymm3
	vmovaps	%ymm12, %ymm3
	vfmadd213ps	%ymm9, %ymm4, %ymm3     # ymm3 = (ymm4 * ymm3) + ymm9
	vmovaps	%ymm1, %ymm9
	vfmadd213ps	%ymm10, %ymm4, %ymm3    # ymm3 = (ymm4 * ymm3) + ymm10
	vfmadd213ps	%ymm11, %ymm4, %ymm3    # ymm3 = (ymm4 * ymm3) + ymm11
	vfmadd213ps	%ymm13, %ymm4, %ymm3    # ymm3 = (ymm4 * ymm3) + ymm13
	vfmadd213ps	%ymm15, %ymm4, %ymm3    # ymm3 = (ymm4 * ymm3) + ymm15
	vpslld	$23, %ymm5, %ymm4
	vmovaps	.LCPI259_0(%rip), %ymm5         # ymm5 = [2,5,0,3,6,1,4,7]
	vpaddd	%ymm6, %ymm4, %ymm4
	vmulps	%ymm4, %ymm3, %ymm3
	vmulps	(%r10,%rcx), %ymm3, %ymm4
	vmovdqu	(%rsp), %ymm1                   # 32-byte Reload
	vpslld	$23, %ymm1, %ymm1
	vfmadd231ps	(%r15,%rcx), %ymm2, %ymm4 # ymm4 = (ymm2 * mem) + ymm4
	vpaddd	%ymm6, %ymm1, %ymm1
	vmovaps	.LCPI259_1(%rip), %ymm6         # ymm6 = [0,3,6,1,4,7,2,5]
	vmulps	%ymm1, %ymm0, %ymm0
	vfmadd231ps	(%r11,%rcx), %ymm0, %ymm4 # ymm4 = (ymm0 * mem) + ymm4
	vaddps	%ymm0, %ymm2, %ymm0
	vaddps	%ymm3, %ymm0, %ymm0
	vdivps	%ymm0, %ymm4, %ymm0
	vmovups	%ymm0, (%r13,%rcx)
	addq	$32, %rcx
	addq	$96, %rax
	cmpq	%rcx, %r8
	jne	.LBB259_4
