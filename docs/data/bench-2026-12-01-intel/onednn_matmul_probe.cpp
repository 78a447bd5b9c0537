// oneDNN matmul at #9's Linear shapes (R = 32768): fwd, dx, dW (and dW as x^T dy written transposed).
// Build against oneDNN 2.x or 3.x. Args: [v] prints the implementations; [v cold] writes 384 MiB between calls
// (the cold-vs-warm runs of notes.txt used this without the dW' column).
#include <dnnl.hpp>
#include <chrono>
#include <cstdio>
#include <vector>
#include <random>
#include <xmmintrin.h>
using namespace dnnl;
using dt = memory::data_type;
static double now(){return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();}
static memory::desc mk(memory::dims d, memory::dims st){return memory::desc(d, dt::f32, st);}
static matmul::primitive_desc pd(engine &eng, memory::desc a, memory::desc b, memory::desc c){
#if DNNL_VERSION_MAJOR >= 3
  return matmul::primitive_desc(eng, a, b, c);
#else
  return matmul::primitive_desc(matmul::desc(a, b, c), eng);
#endif
}
int main(int argc, char**argv){
  _mm_setcsr(_mm_getcsr()|0x8040);
  engine eng(engine::kind::cpu,0); stream s(eng);
  const long R=32768; const int reps=7;
  int shapes[][2]={{128,256},{128,768},{256,128},{128,704},{352,128},{128,16}};
  std::mt19937 rng(1); bool cold = argc>2; std::vector<float> junk(cold? (size_t)96<<20 : 0); std::normal_distribution<float> nd;
  printf("oneDNN %d.%d  %5s %5s | fwd | dx | dW | dW' (GFLOP/s)\n", DNNL_VERSION_MAJOR, DNNL_VERSION_MINOR, "I","O");
  double tot[4]={0,0,0,0};
  for(auto &sh: shapes){
    long I=sh[0], O=sh[1];
    std::vector<float> x(R*I), W(O*I), y(R*O), dy(R*O), dx(R*I), dW(O*I);
    for(auto &v:x) v=nd(rng); for(auto &v:W) v=nd(rng); for(auto &v:dy) v=nd(rng);
    matmul::primitive_desc p[4] = {
      pd(eng, mk({R,I},{I,1}), mk({I,O},{1,I}), mk({R,O},{O,1})),
      pd(eng, mk({R,O},{O,1}), mk({O,I},{I,1}), mk({R,I},{I,1})),
      pd(eng, mk({O,R},{1,O}), mk({R,I},{I,1}), mk({O,I},{I,1})),
      pd(eng, mk({I,R},{1,I}), mk({R,O},{O,1}), mk({I,O},{1,I}))};
    float *args[4][3] = {{x.data(),W.data(),y.data()},{dy.data(),W.data(),dx.data()},{dy.data(),x.data(),dW.data()},{x.data(),dy.data(),dW.data()}};
    double flop=2.0*R*I*O; double best[4]={1e9,1e9,1e9,1e9};
    matmul prim[4]={matmul(p[0]),matmul(p[1]),matmul(p[2]),matmul(p[3])};
    if(argc>1 && I==128 && O==768) for(int w=0;w<4;w++) printf("impl %d: %s\n", w, p[w].impl_info_str());
    for(int r=0;r<reps+1;r++) for(int w=0;w<4;w++){
      memory a(p[w].src_desc(),eng,args[w][0]), b(p[w].weights_desc(),eng,args[w][1]), c(p[w].dst_desc(),eng,args[w][2]);
      if(cold){ for(size_t i=0;i<junk.size();i+=16) junk[i]+=1.0f; } double t=now(); prim[w].execute(s,{{DNNL_ARG_SRC,a},{DNNL_ARG_WEIGHTS,b},{DNNL_ARG_DST,c}}); s.wait(); t=now()-t;
      if(r>0) best[w]=std::min(best[w],t);
    }
    for(int w=0;w<4;w++) tot[w]+=best[w];
    printf("             %5ld %5ld | %6.1f | %6.1f | %6.1f | %6.1f\n",I,O,flop/best[0]*1e-9,flop/best[1]*1e-9,flop/best[2]*1e-9,flop/best[3]*1e-9);
  }
  printf("sum of best ms: fwd %.1f dx %.1f dW %.1f dW' %.1f\n", tot[0]*1e3, tot[1]*1e3, tot[2]*1e3, tot[3]*1e3);
}
