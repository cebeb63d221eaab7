// Shared by the JNI files: DJL array handles (a PtNDArray handle is a torch::Tensor*), checks that turn into
// IllegalStateException/IllegalArgumentException messages on the Java side, and the engine's current stream.
#pragma once
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <jni.h>

#include <initializer_list>
#include <stdexcept>
#include <string>

#include "kernels.h"

namespace barista::jni {

inline at::Tensor& tensor(jlong handle) {
  if (handle == 0) throw std::invalid_argument("null tensor handle");
  return *reinterpret_cast<at::Tensor*>(handle);
}

inline jlong wrap(at::Tensor t) { return reinterpret_cast<jlong>(new at::Tensor(std::move(t))); }

inline barista::DType dtype_of(const at::Tensor& t, const char* what) {
  if (!t.is_cuda()) throw std::invalid_argument(std::string(what) + ": tensor is not on CUDA");
  if (!t.is_contiguous()) throw std::invalid_argument(std::string(what) + ": tensor is not contiguous");
  if (t.scalar_type() == at::kHalf) return barista::DType::kHalf;
  if (t.scalar_type() == at::kFloat) return barista::DType::kFloat;
  throw std::invalid_argument(std::string(what) + ": dtype must be float16 or float32");
}

inline void expect(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

inline void expect_index(const at::Tensor& t, at::ScalarType type, const char* what) {
  expect(t.is_cuda() && t.is_contiguous() && t.scalar_type() == type,
         std::string(what) + ": expected a contiguous CUDA " + (type == at::kLong ? "int64" : "int32") + " tensor");
}

inline cudaStream_t stream() { return at::cuda::getCurrentCUDAStream().stream(); }

inline void throw_java(JNIEnv* env, const char* message) {
  jclass c = env->FindClass("java/lang/IllegalStateException");
  if (c != nullptr) env->ThrowNew(c, message);
}

// Runs body, turning any C++ exception into a Java IllegalStateException.
template <typename R, typename F>
inline R guarded(JNIEnv* env, R fallback, F body) {
  try {
    return body();
  } catch (const c10::Error& e) {
    throw_java(env, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw_java(env, e.what());
  }
  return fallback;
}

inline jlongArray longs(JNIEnv* env, std::initializer_list<jlong> values) {
  jlongArray a = env->NewLongArray(static_cast<jsize>(values.size()));
  env->SetLongArrayRegion(a, 0, static_cast<jsize>(values.size()), values.begin());
  return a;
}

}  // namespace barista::jni

#define BARISTA_JNI(ret, name) extern "C" JNIEXPORT ret JNICALL Java_barista_engine_cuda_CudaNative_##name
