package barista.engine.quant;

import barista.engine.checkpoint.Checkpoint;
import barista.engine.reference.ReferenceQwen2;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.function.Function;

/**
 * The weights of an AWQ-GEMM or compressed-tensors checkpoint as float64 {@code [out, in]} matrices, for the
 * reference model. Written from the format descriptions (shared/reference/README.md) with plain loops and shifts,
 * independently of the engine's unpacking code.
 */
final class FormatDequantizer {
  private FormatDequantizer() {}

  static Function<String, double[]> weights(Checkpoint ckpt) {
    Function<String, double[]> plain = ReferenceQwen2.weightsOf(ckpt);
    return name -> {
      String module = name.endsWith(".weight") ? name.substring(0, name.length() - ".weight".length()) : null;
      if (module != null && ckpt.has(module + ".qweight")) return awq(ckpt, module);
      if (module != null && ckpt.has(module + ".weight_packed")) return packQuantized(ckpt, module);
      return plain.apply(name);
    };
  }

  /** W[i][o] = (q[i][o] - z[i/group][o]) * s[i/group][o]; nibble k of word j holds column 8j + [0,2,4,6,1,3,5,7][k]. */
  private static double[] awq(Checkpoint ckpt, String module) {
    int[] order = {0, 2, 4, 6, 1, 3, 5, 7};
    long[] shape = ckpt.info(module + ".qweight").shape();
    int in = (int) shape[0];
    int out = (int) shape[1] * 8;
    int groups = (int) ckpt.info(module + ".scales").shape()[0];
    int[][] q = nibbles(ints(ckpt, module + ".qweight"), in, out, order);
    int[][] z = nibbles(ints(ckpt, module + ".qzeros"), groups, out, order);
    FloatBuffer s = ckpt.f32(module + ".scales").asFloatBuffer();
    double[] w = new double[out * in];
    for (int i = 0; i < in; i++) {
      int g = i / (in / groups);
      for (int o = 0; o < out; o++) w[o * in + i] = (q[i][o] - z[g][o]) * (double) s.get(g * out + o);
    }
    return w;
  }

  private static int[][] nibbles(int[] words, int rows, int cols, int[] order) {
    int[][] v = new int[rows][cols];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < cols / 8; j++) {
        for (int k = 0; k < 8; k++) v[r][8 * j + order[k]] = (words[r * (cols / 8) + j] >> (4 * k)) & 15;
      }
    }
    return v;
  }

  /** Byte k of word j in row o is input 4j + k, stored as q + 128; W[o][i] = q * scale[o][group of i]. */
  private static double[] packQuantized(Checkpoint ckpt, String module) {
    long[] shape = ckpt.info(module + ".weight_packed").shape();
    int out = (int) shape[0];
    int in = (int) shape[1] * 4;
    int[] words = ints(ckpt, module + ".weight_packed");
    int groups = (int) ckpt.info(module + ".weight_scale").shape()[1];
    FloatBuffer s = ckpt.f32(module + ".weight_scale").asFloatBuffer();
    double[] w = new double[out * in];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        int q = ((words[o * (in / 4) + i / 4] >> (8 * (i % 4))) & 255) - 128;
        w[o * in + i] = q * (double) s.get(o * groups + i / (in / groups));
      }
    }
    return w;
  }

  private static int[] ints(Checkpoint ckpt, String name) {
    ByteBuffer raw = ckpt.raw(name).order(ByteOrder.LITTLE_ENDIAN);
    int[] v = new int[raw.remaining() / 4];
    raw.asIntBuffer().get(v);
    return v;
  }
}
