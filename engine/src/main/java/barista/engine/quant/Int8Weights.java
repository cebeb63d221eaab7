package barista.engine.quant;

import barista.engine.checkpoint.DType;
import barista.engine.checkpoint.DTypes;
import java.util.stream.IntStream;

/**
 * One linear layer as symmetric int8: values {@code q [out, in]} and scales {@code [out, groups]} (one group per
 * output channel, or {@code in / groups} inputs each); {@code W[o][i] = q[o][i] * s[o][i / (in / groups)]}.
 */
public record Int8Weights(int out, int in, int groups, byte[] q, float[] scales) {

  /**
   * Per output channel, scale = max|w| / 127 rounded to {@code scaleType} (the values are rounded against the
   * stored scale). {@code weight} is Hugging Face's {@code [out, in]}, row-major.
   */
  public static Int8Weights quantize(float[] weight, int out, int in, DType scaleType) {
    byte[] q = new byte[out * in];
    float[] scales = new float[out];
    IntStream.range(0, out).parallel().forEach(o -> {
      float maxAbs = 0;
      for (int i = 0; i < in; i++) maxAbs = Math.max(maxAbs, Math.abs(weight[o * in + i]));
      float scale = representable(maxAbs > 0 ? maxAbs / 127 : 1, scaleType);
      scales[o] = scale;
      for (int i = 0; i < in; i++) {
        q[o * in + i] = (byte) Math.max(-128, Math.min(127, (int) Math.rint(weight[o * in + i] / scale)));
      }
    });
    return new Int8Weights(out, in, 1, q, scales);
  }

  /** The dequantized weight at output {@code o}, input {@code i}, in float32 as the forward pass computes it. */
  public float weight(int o, int i) {
    return q[o * in + i] * scales[o * groups + i / (in / groups)];
  }

  /** The nearest value the dtype can store. */
  static float representable(float v, DType dtype) {
    return switch (dtype) {
      case F16 -> DTypes.f16ToF32(DTypes.f32ToF16(v));
      case BF16 -> DTypes.bf16ToF32(DTypes.f32ToBf16(v));
      case F32 -> v;
      default -> throw new IllegalArgumentException("scales need a float dtype, not " + dtype);
    };
  }
}
