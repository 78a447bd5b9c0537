#include <cmath>
#include <cstdio>
#include <vector>
#include <chrono>
#include <omp.h>
#include <cstring>
#include <cstdlib>
#include <algorithm>
// m=1 BD-LRU backward (softmax), plain C++. layout 0: [B][T][N], 1: [T][B][N]
static const int B=128,T=256,N=256;
float *z,*v,*h,*g,*dz,*dv, *src,*dst;
inline size_t idx(int L,int b,int t,int n){ return L==0 ? ((size_t)b*T+t)*N+n : ((size_t)t*B+b)*N+n; }
// One step t of sequence b in layout LL: the m = 1 softmax backward over its N channels.
inline void step(int LL, int b, int t, float* la, float* an){
  const float* zz=z+2*idx(LL,b,t,0); const float* vv=v+idx(LL,b,t,0); const float* gg=g+idx(LL,b,t,0);
  const float* hp= t>0? h+idx(LL,b,t-1,0):nullptr; float* dzz=dz+2*idx(LL,b,t,0); float* dvv=dv+idx(LL,b,t,0);
  #pragma omp simd
  for(int n=0;n<N;n++){
    float a=1.f/(1.f+std::exp(zz[2*n+1]-zz[2*n]));
    float l=gg[n]+an[n]*la[n];
    float hprev= hp? hp[n]:0.f;
    float da=l*(hprev-vv[n]);
    float d0=da*a*(1.f-a);
    dzz[2*n]=d0; dzz[2*n+1]=-d0; dvv[n]=l*(1.f-a);
    la[n]=l; an[n]=a;
  }
}
// L = 0: [B][T][N], a sequence at a time; 1: [T][B][N], time outer; 2: [B][T][N], time outer.
void bwd(int L){
  #pragma omp parallel
  {
    int nt=omp_get_num_threads(), id=omp_get_thread_num();
    int b0=B*id/nt, b1=B*(id+1)/nt;
    std::vector<float> LAM((size_t)(b1-b0)*N,0.f), AN((size_t)(b1-b0)*N,0.f);
    auto state=[&](int b){ return std::make_pair(&LAM[(size_t)(b-b0)*N], &AN[(size_t)(b-b0)*N]); };
    if (L==0) {
      for(int b=b0;b<b1;b++) for(int t=T-1;t>=0;t--){ auto s=state(b); step(0,b,t,s.first,s.second); }
    } else {
      const int LL = L==2 ? 0 : 1;
      for(int t=T-1;t>=0;t--) for(int b=b0;b<b1;b++){ auto s=state(b); step(LL,b,t,s.first,s.second); }
    }
  }
}
void copy(size_t n){
  #pragma omp parallel for schedule(static)
  for(size_t i=0;i<n;i++) dst[i]=1.0001f*src[i];
}
double now(){return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();}
int main(){
  size_t E=(size_t)B*T*N;
  auto al=[](size_t n){float* p=(float*)aligned_alloc(64,n*4); for(size_t i=0;i<n;i++) p[i]=(i%97)*0.01f-0.3f; return p;};
  z=al(2*E);v=al(E);h=al(E);g=al(E);dz=al(2*E);dv=al(E);
  size_t C=(size_t)256<<20; src=al(C);dst=al(C);
  double best[4]={1e9,1e9,1e9,1e9};
  for(int r=0;r<8;r++){
    for(int L=0;L<3;L++){double t0=now();bwd(L);double t1=now();best[L==2?3:L]=std::min(best[L],t1-t0);}
    double t0=now();copy(C);double t1=now();best[2]=std::min(best[2],t1-t0);
  }
  double bytes=E*32.0;
  printf("bm-t-outer %.2f ms\n",best[3]*1e3);printf("batch-major %.2f ms %.1f GB/s; time-major %.2f ms %.1f GB/s; copy %.1f GB/s\n",best[0]*1e3,bytes/best[0]/1e9,best[1]*1e3,bytes/best[1]/1e9, 2.0*C*4/best[2]/1e9);
}
