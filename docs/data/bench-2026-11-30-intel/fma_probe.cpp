#include <immintrin.h>
#include <omp.h>
#include <chrono>
#include <cstdio>
int main(){
  const long iters=200000000/8;
  for(int rep=0;rep<3;rep++){
  double best=0;
  auto t0=std::chrono::steady_clock::now();
  float sink=0;
#pragma omp parallel reduction(+:sink)
  {
    __m512 a[12]; for(int i=0;i<12;i++) a[i]=_mm512_set1_ps(1.0f+i*1e-3f);
    const __m512 b=_mm512_set1_ps(0.999999f), c=_mm512_set1_ps(1e-6f);
    for(long k=0;k<iters;k++){
      #pragma GCC unroll 12
      for(int i=0;i<12;i++) a[i]=_mm512_fmadd_ps(a[i],b,c);
    }
    __m512 s=a[0]; for(int i=1;i<12;i++) s=_mm512_add_ps(s,a[i]);
    sink+=_mm512_reduce_add_ps(s);
  }
  double dt=std::chrono::duration<double>(std::chrono::steady_clock::now()-t0).count();
  double flops=2.0*16*12*iters*omp_get_max_threads();
  printf("threads %d: %.1f GFLOP/s (%g)\n", omp_get_max_threads(), flops/dt/1e9, sink);
  }
}
