// Memory: fill and cast (CUDABackend+Memory.swift). Conventions in common.cuh.

#include "common.cuh"

// out[i] = value for a f64 tensor (f32 and 16-bit fills use cuMemsetD32/D16).
extern "C" __global__ void fill_f64(double* out, double value, long long count) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x)
        out[i] = value;
}

// Storage type codes shared with the Swift side (CUDABackend.castCode).
#define TYPE_F32 0
#define TYPE_F64 1
#define TYPE_BF16 2
#define TYPE_F16 3

// out = in converted between float storage types (codes above); like the CPU, everything goes through f32
// except f32 -> f64, which widens exactly. Same-type casts never get here (they are copies).
extern "C" __global__ void cast_float(const void* in, int inType, void* out, int outType, long long count) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
        float value;
        switch (inType) {
            case TYPE_F32: value = ((const float*)in)[i]; break;
            case TYPE_F64: value = (float)((const double*)in)[i]; break;  // round to nearest even
            case TYPE_BF16: value = bf16_to_float(((const unsigned short*)in)[i]); break;
            default: value = f16_to_float(((const unsigned short*)in)[i]); break;
        }
        switch (outType) {
            case TYPE_F32: ((float*)out)[i] = value; break;
            case TYPE_F64: ((double*)out)[i] = (double)value; break;
            case TYPE_BF16: ((unsigned short*)out)[i] = float_to_bf16(value); break;
            default: ((unsigned short*)out)[i] = float_to_f16(value); break;
        }
    }
}
