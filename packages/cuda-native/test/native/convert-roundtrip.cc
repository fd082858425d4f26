#include "../../native/convert.h"
#include <cstdio>
#include <cstring>
#include <cmath>
using namespace sparse;
int main(){ int bad=0;
 for (uint32_t h=0; h<65536; h++){ float f=halfToFloat(h); uint16_t back=floatToHalf(f);
   bool nan = ((h>>10)&0x1f)==0x1f && (h&0x3ff);
   if (nan) { if(!std::isnan(f)) bad++; continue; }
   if (back!=h) { if(bad<5) printf("h=%04x f=%g back=%04x\n",h,f,back); bad++; } }
 // check a few values
 printf("%g %g %g %g\n", halfToFloat(0x3c00), halfToFloat(0x0001), halfToFloat(0xc000), halfToFloat(0x7bff));
 for (uint32_t b=0;b<65536;b++){ float f=bf16ToFloat(b); bool nan=((b>>7)&0xff)==0xff && (b&0x7f); if(nan) continue; if(floatToBf16(f)!=b){bad++;} }
 printf("bad=%d\n",bad); return bad!=0; }
