// JNI entry points of libbarista_native's runtime: the library's version, CUDA streams and graphs, memory stats,
// pinned staging memory and views, all working on DJL's own arrays (the kernels' entry points are in *_jni.cpp). A DJL PtNDArray handle is a torch::Tensor* (DJL's JNI returns
// `new torch::Tensor(...)` and deletes it on close), so arrays cross as jlong handles and results go back the same
// way, wrapped by `new PtNDArray(manager, handle)` on the Java side. Java class: barista.engine.cuda.CudaNative.
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <jni.h>
#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif

#include <stdexcept>
#include <string>

#include "jni_util.h"

#ifndef BARISTA_NATIVE_ARCHS
#define BARISTA_NATIVE_ARCHS "unknown"
#endif

namespace {

using PoolId = decltype(at::cuda::graph_pool_handle());

}  // namespace

using namespace barista::jni;

BARISTA_JNI(jstring, version)(JNIEnv* env, jclass) {
#ifdef TORCH_VERSION
  const char* torch_version = TORCH_VERSION;
#else
  const char* torch_version = "unknown";
#endif
  std::string v = std::string("barista-native 3 (archs ") + BARISTA_NATIVE_ARCHS + ", built with torch "
                  + torch_version + ")";
  return env->NewStringUTF(v.c_str());
}

// ---- streams and graphs ----

BARISTA_JNI(jlong, newStream)(JNIEnv* env, jclass, jint device) {
  return guarded<jlong>(env, 0, [&] {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
    return reinterpret_cast<jlong>(new c10::cuda::CUDAStream(c10::cuda::getStreamFromPool(false, device)));
  });
}

// libtorch's current stream is per thread: every later DJL op of the calling thread runs on this stream.
BARISTA_JNI(void, setCurrentStream)(JNIEnv* env, jclass, jlong s) {
  guarded<int>(env, 0, [&] {
    c10::cuda::setCurrentCUDAStream(*reinterpret_cast<c10::cuda::CUDAStream*>(s));
    return 0;
  });
}

BARISTA_JNI(void, synchronize)(JNIEnv* env, jclass, jlong s) {
  guarded<int>(env, 0, [&] {
    reinterpret_cast<c10::cuda::CUDAStream*>(s)->synchronize();
    return 0;
  });
}

BARISTA_JNI(jlong, newGraphPool)(JNIEnv* env, jclass) {
  return guarded<jlong>(env, 0, [&] {
    return reinterpret_cast<jlong>(new PoolId(at::cuda::graph_pool_handle()));
  });
}

BARISTA_JNI(void, freeGraphPool)(JNIEnv* env, jclass, jlong pool) {
  delete reinterpret_cast<PoolId*>(pool);
}

// Thread-local capture: only the calling thread's work is recorded, other threads' CUDA calls are not refused.
BARISTA_JNI(jlong, captureBegin)(JNIEnv* env, jclass, jlong pool) {
  return guarded<jlong>(env, 0, [&] {
    auto* g = new at::cuda::CUDAGraph();
    try {
      g->capture_begin(*reinterpret_cast<PoolId*>(pool), cudaStreamCaptureModeThreadLocal);
    } catch (...) {
      delete g;
      throw;
    }
    return reinterpret_cast<jlong>(g);
  });
}

BARISTA_JNI(void, captureEnd)(JNIEnv* env, jclass, jlong graph) {
  guarded<int>(env, 0, [&] {
    reinterpret_cast<at::cuda::CUDAGraph*>(graph)->capture_end();
    return 0;
  });
}

BARISTA_JNI(void, replay)(JNIEnv* env, jclass, jlong graph) {
  guarded<int>(env, 0, [&] {
    reinterpret_cast<at::cuda::CUDAGraph*>(graph)->replay();
    return 0;
  });
}

BARISTA_JNI(void, freeGraph)(JNIEnv* env, jclass, jlong graph) {
  guarded<int>(env, 0, [&] {
    delete reinterpret_cast<at::cuda::CUDAGraph*>(graph);
    return 0;
  });
}

// {allocated, reserved} bytes of PyTorch's caching allocator on the device (graph pools included).
BARISTA_JNI(jlongArray, memoryStats)(JNIEnv* env, jclass, jint device) {
  return guarded<jlongArray>(env, nullptr, [&] {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    // Index 0 of each StatArray is the aggregate over the small and large pools.
    return longs(env, {stats.allocated_bytes[0].current, stats.reserved_bytes[0].current});
  });
}

// ---- pinned staging memory and uploads ----

BARISTA_JNI(jobject, allocPinned)(JNIEnv* env, jclass, jlong bytes) {
  return guarded<jobject>(env, nullptr, [&] {
    void* p = nullptr;
    C10_CUDA_CHECK(cudaHostAlloc(&p, static_cast<size_t>(bytes), cudaHostAllocDefault));
    return env->NewDirectByteBuffer(p, bytes);
  });
}

BARISTA_JNI(void, freePinned)(JNIEnv* env, jclass, jobject buffer) {
  guarded<int>(env, 0, [&] {
    C10_CUDA_CHECK(cudaFreeHost(env->GetDirectBufferAddress(buffer)));
    return 0;
  });
}

// Asynchronous on the current stream: the caller must not rewrite those bytes until the stream has passed them.
BARISTA_JNI(void, copyFromHost)(JNIEnv* env, jclass, jlong dst, jobject src, jlong srcOffset, jlong bytes) {
  guarded<int>(env, 0, [&] {
    at::Tensor& t = tensor(dst);
    expect(t.is_cuda() && t.is_contiguous(), "copyFromHost: destination must be a contiguous CUDA tensor");
    expect(bytes >= 0 && static_cast<size_t>(bytes) <= t.nbytes(), "copyFromHost: more bytes than the destination");
    const jlong capacity = env->GetDirectBufferCapacity(src);
    expect(srcOffset >= 0 && srcOffset + bytes <= capacity, "copyFromHost: range outside the staging buffer");
    auto* base = static_cast<char*>(env->GetDirectBufferAddress(src));
    C10_CUDA_CHECK(cudaMemcpyAsync(t.data_ptr(), base + srcOffset, bytes, cudaMemcpyHostToDevice, stream()));
    return 0;
  });
}

// A view of rows [start, start + length) along dim 0: shares the storage, so graphs that read it see later uploads.
BARISTA_JNI(jlong, narrow)(JNIEnv* env, jclass, jlong t, jlong start, jlong length) {
  return guarded<jlong>(env, 0, [&] { return wrap(tensor(t).narrow(0, start, length)); });
}
