// Host/device portability macros shared by every emkit kernel header.
#pragma once

#if defined(__CUDACC__)
#define EMKIT_HD __host__ __device__ __forceinline__
#else
#define EMKIT_HD inline
#endif
