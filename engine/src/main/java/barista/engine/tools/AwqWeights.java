package barista.engine.tools;

import barista.engine.checkpoint.DTypes;
import java.util.stream.IntStream;

/**
 * One linear layer in AWQ's terms, unpacked: 4-bit values {@code q [in, out]}, zero points and fp16-representable
 * scales {@code [in / group, out]}; the weight is {@code W[i][o] = (q[i][o] - z[i/group][o]) * s[i/group][o]}
 * ({@code [in, out]}, {@code y = x W}).
 */
public record AwqWeights(int in, int out, int group, int[] q, int[] zeros, float[] scales) {

  private static final int MAX_Q = 15;

  /**
   * Round-to-nearest with a per-group scale and zero point (AutoAWQ's {@code pseudo_quantize_tensor} without the
   * activation-aware search). {@code weight} is Hugging Face's {@code [out, in]}, row-major.
   */
  public static AwqWeights quantize(float[] weight, int out, int in, int group) {
    int groups = in / group;
    int[] q = new int[in * out];
    int[] zeros = new int[groups * out];
    float[] scales = new float[groups * out];
    IntStream.range(0, out).parallel().forEach(o -> {
      for (int g = 0; g < groups; g++) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = g * group; i < (g + 1) * group; i++) {
          min = Math.min(min, weight[o * in + i]);
          max = Math.max(max, weight[o * in + i]);
        }
        // The scale is stored as fp16, so the values are rounded against the stored scale.
        float scale = DTypes.f16ToF32(DTypes.f32ToF16(Math.max(max - min, 1e-5f) / MAX_Q));
        int zero = clamp((int) Math.rint(-min / scale));
        zeros[g * out + o] = zero;
        scales[g * out + o] = scale;
        for (int i = g * group; i < (g + 1) * group; i++) {
          q[i * out + o] = clamp((int) Math.rint(weight[o * in + i] / scale) + zero);
        }
      }
    });
    return new AwqWeights(in, out, group, q, zeros, scales);
  }

  /** The dequantized weight at input {@code i}, output {@code o}, in float32 as the forward pass computes it. */
  public float weight(int i, int o) {
    int g = (i / group) * out + o;
    return (q[i * out + o] - zeros[g]) * scales[g];
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(MAX_Q, v));
  }
}
