#include <initializer_list>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <immintrin.h>
#ifndef WORK
#define WORK 20
#endif
int B = 16, T = 2048, N = 512;
float *z, *v, *s, *g, *dz, *dv;
// mode 0: asc rows asc n; 1: desc rows asc n; 2: desc rows desc n; 3: desc rows asc n + interleaved prefetch PF rows ahead
template <int MODE, int PF>
void task(int b) {
  for (int r = 0; r < T; r++) {
    int t = MODE == 0 ? r : T - 1 - r;
    size_t o1 = ((size_t)b * T + t) * N, o3 = o1 * 3;
    int tp = t - PF; if (tp < 0) tp = 0;
    size_t p1 = ((size_t)b * T + tp) * N, p3 = p1 * 3;
    for (int nn = 0; nn < N; nn += 8) {
      int n = MODE == 2 ? N - 8 - nn : nn;
      if (MODE == 3 && (n & 15) == 0) {
        _mm_prefetch((char*)(v + p1 + n), _MM_HINT_T0); _mm_prefetch((char*)(s + p1 + n), _MM_HINT_T0);
        _mm_prefetch((char*)(g + p1 + n), _MM_HINT_T0); _mm_prefetch((char*)(dv + p1 + n), _MM_HINT_T0);
        for (int q = 0; q < 48; q += 16) { _mm_prefetch((char*)(z + p3 + 3 * n + q), _MM_HINT_T0); _mm_prefetch((char*)(dz + p3 + 3 * n + q), _MM_HINT_T0); }
      }
      __m256 a = _mm256_loadu_ps(v + o1 + n), c = _mm256_loadu_ps(s + o1 + n), d = _mm256_loadu_ps(g + o1 + n);
      __m256 x = _mm256_add_ps(_mm256_mul_ps(a, c), d);
      __m256 y0 = x, y1 = a, y2 = c, y3 = d;
      for (int q = 0; q < WORK; q++) { y0 = _mm256_fmadd_ps(y0, y0, a); y1 = _mm256_fmadd_ps(y1, y1, c); y2 = _mm256_fmadd_ps(y2, y2, d); y3 = _mm256_fmadd_ps(y3, y3, x);}
      x = _mm256_add_ps(_mm256_add_ps(y0, y1), _mm256_add_ps(y2, y3));
      _mm256_storeu_ps(dv + o1 + n, x);
      for (int k = 0; k < 3; k++) {
        __m256 zz = _mm256_loadu_ps(z + o3 + 3 * n + 8 * k);
        _mm256_storeu_ps(dz + o3 + 3 * n + 8 * k, _mm256_mul_ps(zz, x));
      }
    }
  }
}
template <int MODE, int PF>
double run() {
  auto t0 = std::chrono::steady_clock::now();
  std::thread th([] { for (int b = 0; b < B; b += 2) task<MODE, PF>(b); });
  for (int b = 1; b < B; b += 2) task<MODE, PF>(b);
  th.join();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
int main() {
  size_t n1 = (size_t)B * T * N;
  for (float **p : {&v, &s, &g, &dv}) { *p = (float*)aligned_alloc(64, n1 * 4); memset(*p, 0, n1 * 4); }
  for (float **p : {&z, &dz}) { *p = (float*)aligned_alloc(64, n1 * 12); memset(*p, 0, n1 * 12); }
  for (int rep = 0; rep < 4; rep++) {
    double a = run<0, 0>(), d = run<1, 0>(), dd = run<2, 0>(), p1 = run<3, 1>(), p2 = run<3, 2>(), p4 = run<3, 4>();
    printf("asc %.1f  desc %.1f  desc-desc %.1f  desc+ipf1 %.1f  ipf2 %.1f  ipf4 %.1f ms\n", a, d, dd, p1, p2, p4);
  }
}
