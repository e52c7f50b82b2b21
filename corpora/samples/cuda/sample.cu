// Vector and matrix kernels with a small host driver.
#include <cstdio>
#include <cstdlib>
#include <vector>
#include <cuda_runtime.h>

#define CUDA_CHECK(call)                                                   \
    do {                                                                   \
        cudaError_t err__ = (call);                                        \
        if (err__ != cudaSuccess) {                                        \
            fprintf(stderr, "CUDA error %s at %s:%d\n",                    \
                    cudaGetErrorString(err__), __FILE__, __LINE__);        \
            std::exit(EXIT_FAILURE);                                       \
        }                                                                  \
    } while (0)

constexpr int TILE = 16;

struct Dims {
    int rows;
    int cols;
};

__constant__ float d_scale;

__device__ inline float clampf(float x, float lo, float hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

__global__ void saxpy(int n, float a, const float* __restrict__ x, float* y) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] = clampf(a * x[i] + y[i], -1.0e6f, 1.0e6f);
    }
}

__global__ void matmul(const float* A, const float* B, float* C, Dims d) {
    __shared__ float tileA[TILE][TILE];
    __shared__ float tileB[TILE][TILE];
    int row = blockIdx.y * TILE + threadIdx.y;
    int col = blockIdx.x * TILE + threadIdx.x;
    float acc = 0.0f;
    for (int t = 0; t < (d.cols + TILE - 1) / TILE; ++t) {
        int ac = t * TILE + threadIdx.x;
        int br = t * TILE + threadIdx.y;
        tileA[threadIdx.y][threadIdx.x] = (row < d.rows && ac < d.cols) ? A[row * d.cols + ac] : 0.0f;
        tileB[threadIdx.y][threadIdx.x] = (br < d.cols && col < d.rows) ? B[br * d.rows + col] : 0.0f;
        __syncthreads();
        for (int k = 0; k < TILE; ++k) {
            acc += tileA[threadIdx.y][k] * tileB[k][threadIdx.x];
        }
        __syncthreads();
    }
    if (row < d.rows && col < d.rows) {
        C[row * d.rows + col] = acc * d_scale;
    }
}

int main(int argc, char** argv) {
    const int n = argc > 1 ? std::atoi(argv[1]) : 1 << 20;
    std::vector<float> hx(n, 1.0f), hy(n, 2.0f);
    float *dx = nullptr, *dy = nullptr;
    CUDA_CHECK(cudaMalloc(&dx, n * sizeof(float)));
    CUDA_CHECK(cudaMalloc(&dy, n * sizeof(float)));
    CUDA_CHECK(cudaMemcpy(dx, hx.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_CHECK(cudaMemcpy(dy, hy.data(), n * sizeof(float), cudaMemcpyHostToDevice));

    const float scale = 0.5f;
    CUDA_CHECK(cudaMemcpyToSymbol(d_scale, &scale, sizeof(float)));

    int threads = 256;
    int blocks = (n + threads - 1) / threads;
    saxpy<<<blocks, threads>>>(n, 3.0f, dx, dy);
    CUDA_CHECK(cudaGetLastError());

    dim3 block(TILE, TILE);
    dim3 grid(4, 4);
    Dims dims{64, 64};
    matmul<<<grid, block, 0>>>(dx, dx, dy, dims);
    CUDA_CHECK(cudaDeviceSynchronize());

    CUDA_CHECK(cudaMemcpy(hy.data(), dy, n * sizeof(float), cudaMemcpyDeviceToHost));
    printf("y[0] = %f\n", hy[0]);
    cudaFree(dx);
    cudaFree(dy);
    return 0;
}
