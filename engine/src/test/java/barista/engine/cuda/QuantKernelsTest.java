package barista.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.linear.LinearLayer;
import barista.engine.linear.MethodLinear;
import barista.engine.quant.AwqDeviceWeight;
import barista.engine.quant.AwqPacking;
import barista.engine.tools.AwqWeights;
import barista.engine.quant.DjlAwqMethod;
import barista.engine.quant.DjlInt8Method;
import barista.engine.quant.Int8DeviceWeight;
import barista.engine.quant.Int8Weights;
import barista.engine.checkpoint.DType;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * libbarista_native's quantized linear kernels ({@link QuantKernels}) against the DJL reference (dequantize with
 * stock ops, then matmul) on the same weights, in fp16 on a CUDA device: rows on both sides of the GEMV/GEMM switch,
 * q/k/v-like shapes with bias, and a CUDA-graph replay equal to the eager call. Skipped without a GPU or without the
 * library (scripts/gpu-check.sh runs them on a GPU box).
 */
class QuantKernelsTest {
  private static final int[] ROWS = {1, 2, 7, 8, 9, 33, 64, 200};

  @BeforeAll
  static void needsGpuAndLibrary() {
    assumeTrue(Engine.getEngine("PyTorch").getGpuCount() > 0, "no CUDA device");
    var why = CudaNative.load(null);
    assumeTrue(why.isEmpty(), () -> "no native library: " + why.orElse(""));
  }

  private static float[] gaussian(Random r, int n, float scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian() * scale;
    return v;
  }

  private static NDArray half(NDManager m, float[] v, long... shape) {
    return m.create(v, new Shape(shape)).toType(DataType.FLOAT16, false);
  }

  /** Relative Frobenius error of a against b, both finite. */
  private static double relError(NDArray a, NDArray b) {
    float[] x = a.toType(DataType.FLOAT32, false).toFloatArray();
    float[] y = b.toType(DataType.FLOAT32, false).toFloatArray();
    assertEquals(y.length, x.length);
    double num = 0, den = 0;
    for (int i = 0; i < x.length; i++) {
      assertTrue(Float.isFinite(x[i]), "non-finite output at " + i);
      num += (x[i] - y[i]) * (double) (x[i] - y[i]);
      den += y[i] * (double) y[i];
    }
    return Math.sqrt(num / Math.max(den, 1e-30));
  }

  private static LinearLayer[] awqPair(NDManager m, Random r, int in, int out, int group, boolean bias) {
    AwqWeights a = AwqWeights.quantize(gaussian(r, out * in, 0.05f), out, in, group);
    int groups = in / group;
    int[] qweight = AwqPacking.pack(a.q(), in, out);
    float[] zeros = new float[groups * out];
    for (int i = 0; i < zeros.length; i++) zeros[i] = a.zeros()[i];
    float[] b = bias ? gaussian(r, out, 1f) : null;
    LinearLayer reference = new MethodLinear<>(AwqDeviceWeight.nibblePairs(
        m.create(ByteBuffer.wrap(AwqPacking.toNibblePairs(qweight, in, out)), new Shape(in / 2, out), DataType.UINT8),
        half(m, zeros, groups, out), half(m, a.scales(), groups, out), b == null ? null : half(m, b, out), group),
        DjlAwqMethod.INSTANCE);
    LinearLayer kernel = new MethodLinear<>(new AwqDeviceWeight(AwqDeviceWeight.Layout.KERNEL,
        m.create(AwqPacking.toKernelLayout(qweight, in, out), new Shape(out, in / 8)),
        half(m, transpose(zeros, groups, out), out, groups), half(m, transpose(a.scales(), groups, out), out, groups),
        b == null ? null : half(m, b, out), in, out, group), NativeQuantMethods.INSTANCE.awq());
    return new LinearLayer[] {reference, kernel};
  }

  private static LinearLayer[] int8Pair(NDManager m, Random r, int in, int out, boolean bias) {
    Int8Weights w = Int8Weights.quantize(gaussian(r, out * in, 0.05f), out, in, DType.F16);
    float[] b = bias ? gaussian(r, out, 1f) : null;
    LinearLayer reference = new MethodLinear<>(new Int8DeviceWeight(Int8DeviceWeight.Layout.DJL,
        m.create(ByteBuffer.wrap(w.q()), new Shape(out, in), DataType.INT8), half(m, w.scales(), out, 1),
        b == null ? null : half(m, b, out)), DjlInt8Method.INSTANCE);
    LinearLayer kernel = new MethodLinear<>(new Int8DeviceWeight(Int8DeviceWeight.Layout.KERNEL,
        m.create(ByteBuffer.wrap(w.q()), new Shape(out, in), DataType.INT8), half(m, w.scales(), out, 1),
        b == null ? null : half(m, b, out)), NativeQuantMethods.INSTANCE.int8());
    return new LinearLayer[] {reference, kernel};
  }

  private static float[] transpose(float[] a, int rows, int cols) {
    float[] t = new float[a.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
    }
    return t;
  }

  private static void compare(String what, LinearLayer[] pair, int in, Random r, NDManager m) {
    assertTrue(pair[1].captureSafe(), what + ": the native method is capturable");
    for (int rows : ROWS) {
      try (NDManager step = m.newSubManager()) {
        NDArray x = half(step, gaussian(r, rows * in, 1f), rows, in);
        NDArray ref = pair[0].apply(x);
        NDArray got = pair[1].apply(x);
        assertEquals(ref.getShape(), got.getShape(), what + " rows " + rows);
        double err = relError(got, ref);
        assertTrue(err <= 1e-2, what + " rows " + rows + " (" + QuantKernels.kernelFor(rows) + "): relative error "
            + err + " against the DJL reference");
      }
    }
  }

  @Test
  void awqKernelsMatchDjlReference() {
    Random r = new Random(11);
    try (NDManager m = NDManager.newBaseManager(Device.gpu(), "PyTorch")) {
      compare("awq qkv-like 1536 -> 2048 with bias", awqPair(m, r, 1536, 2048, 128, true), 1536, r, m);
      compare("awq 256 -> 64", awqPair(m, r, 256, 64, 128, false), 256, r, m);
      compare("awq down-like 8960 -> 1536", awqPair(m, r, 8960, 1536, 128, false), 8960, r, m);
    }
  }

  @Test
  void int8KernelsMatchDjlReference() {
    Random r = new Random(12);
    try (NDManager m = NDManager.newBaseManager(Device.gpu(), "PyTorch")) {
      compare("int8 qkv-like 1536 -> 2048 with bias", int8Pair(m, r, 1536, 2048, true), 1536, r, m);
      compare("int8 256 -> 64", int8Pair(m, r, 256, 64, false), 256, r, m);
      compare("int8 down-like 8960 -> 1536", int8Pair(m, r, 8960, 1536, false), 8960, r, m);
    }
  }

  /** Recorded in a CUDA graph (split-K scratch from the graph's pool included), a replay equals the eager call. */
  @Test
  void graphReplayEqualsEager() {
    Random r = new Random(13);
    long stream = CudaForwardPath.startStream(0);
    try (NDManager m = NDManager.newBaseManager(Device.gpu(), "PyTorch")) {
      LinearLayer[] awq = awqPair(m, r, 8960, 1536, 128, false);
      LinearLayer[] int8 = int8Pair(m, r, 1536, 2048, true);
      for (int rows : new int[] {1, 8, 32}) {
        for (LinearLayer layer : new LinearLayer[] {awq[1], int8[1]}) {
          long in = layer == awq[1] ? 8960 : 1536;
          NDArray x = half(m, gaussian(r, (int) (rows * in), 1f), rows, in);
          float[] eager = layer.apply(x).toType(DataType.FLOAT32, false).toFloatArray();
          long pool = CudaNative.newGraphPool();
          CudaNative.synchronize(stream);
          long g = CudaNative.captureBegin(pool);
          NDArray out = layer.apply(x);
          CudaNative.captureEnd(g);
          CudaNative.replay(g);
          CudaNative.synchronize(stream);
          assertArrayEquals(eager, out.toType(DataType.FLOAT32, false).toFloatArray(), "rows " + rows);
          CudaNative.freeGraph(g);
          CudaNative.freeGraphPool(pool);
        }
      }
    }
  }
}
