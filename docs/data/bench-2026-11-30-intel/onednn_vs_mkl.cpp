// oneDNN 2.6 matmul vs MKL cblas_sgemm at #9's Linear shapes (R = 32768), interleaved, best of N.
#include <dnnl.hpp>
#include <mkl.h>
#include <chrono>
#include <cstdio>
#include <vector>
#include <random>
#include <xmmintrin.h>
using namespace dnnl;
using tag = memory::format_tag; using dt = memory::data_type;
static double now(){return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();}
int main(){
  _mm_setcsr(_mm_getcsr()|0x8040);
  engine eng(engine::kind::cpu,0); stream s(eng);
  const long R=32768; const int reps=7;
  int shapes[][2]={{128,256},{128,768},{256,128},{128,704},{352,128},{128,16}};
  std::mt19937 rng(1); std::normal_distribution<float> nd;
  printf("%5s %5s | %-22s | %-22s | %-22s\n","I","O","fwd dnnl/mkl GFLOP/s","dx dnnl/mkl","dW dnnl/mkl");
  double tot_d=0, tot_m=0;
  for(auto &sh: shapes){
    long I=sh[0], O=sh[1];
    std::vector<float> x(R*I), W(O*I), y(R*O), dy(R*O), dx(R*I), dW(O*I);
    for(auto &v:x) v=nd(rng); for(auto &v:W) v=nd(rng); for(auto &v:dy) v=nd(rng);
    // oneDNN: fwd y[R,O] = x[R,I] * W^T ; W^T as [I,O] with strides {1,I}
    auto mk=[&](memory::dims d, memory::dims st){return memory::desc(d, dt::f32, st);};
    matmul::primitive_desc pf(matmul::desc(mk({R,I},{I,1}), mk({I,O},{1,I}), mk({R,O},{O,1})), eng);
    matmul::primitive_desc pdx(matmul::desc(mk({R,O},{O,1}), mk({O,I},{I,1}), mk({R,I},{I,1})), eng);
    matmul::primitive_desc pdw(matmul::desc(mk({O,R},{1,O}), mk({R,I},{I,1}), mk({O,I},{I,1})), eng);
    matmul mf(pf), mdx(pdx), mdw(pdw);
    auto run_d=[&](int which){
      if(which==0){ memory a(pf.src_desc(),eng,x.data()), b(pf.weights_desc(),eng,W.data()), c(pf.dst_desc(),eng,y.data()); mf.execute(s,{{DNNL_ARG_SRC,a},{DNNL_ARG_WEIGHTS,b},{DNNL_ARG_DST,c}}); }
      if(which==1){ memory a(pdx.src_desc(),eng,dy.data()), b(pdx.weights_desc(),eng,W.data()), c(pdx.dst_desc(),eng,dx.data()); mdx.execute(s,{{DNNL_ARG_SRC,a},{DNNL_ARG_WEIGHTS,b},{DNNL_ARG_DST,c}}); }
      if(which==2){ memory a(pdw.src_desc(),eng,dy.data()), b(pdw.weights_desc(),eng,x.data()), c(pdw.dst_desc(),eng,dW.data()); mdw.execute(s,{{DNNL_ARG_SRC,a},{DNNL_ARG_WEIGHTS,b},{DNNL_ARG_DST,c}}); }
      s.wait();
    };
    auto run_m=[&](int which){
      if(which==0) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasTrans,R,O,I,1.f,x.data(),I,W.data(),I,0.f,y.data(),O);
      if(which==1) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,R,I,O,1.f,dy.data(),O,W.data(),I,0.f,dx.data(),I);
      if(which==2) cblas_sgemm(CblasRowMajor,CblasTrans,CblasNoTrans,O,I,R,1.f,dy.data(),O,x.data(),I,0.f,dW.data(),I);
    };
    double flop=2.0*R*I*O; char buf[3][64];
    for(int w=0;w<3;w++){
      double bd=1e9,bm=1e9; run_d(w); run_m(w);
      for(int r=0;r<reps;r++){ double t=now(); run_d(w); bd=std::min(bd,now()-t); t=now(); run_m(w); bm=std::min(bm,now()-t);}
      tot_d+=bd; tot_m+=bm;
      snprintf(buf[w],64,"%7.1f / %7.1f",flop/bd*1e-9,flop/bm*1e-9);
    }
    printf("%5ld %5ld | %-22s | %-22s | %-22s\n",I,O,buf[0],buf[1],buf[2]);
  }
  printf("sum of best times: oneDNN %.1f ms, MKL %.1f ms (one Linear each: fwd+dx+dW)\n", tot_d*1e3, tot_m*1e3);
}
