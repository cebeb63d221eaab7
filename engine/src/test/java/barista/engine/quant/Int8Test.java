package barista.engine.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.linear.MethodLinear;
import barista.engine.checkpoint.DType;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Int8Test {

  /** Input 4j + k in byte k of word j, stored as q + 128. */
  @Test
  void packQuantizedLayout() {
    byte[] q = {-128, -1, 0, 127, 5, 0, 0, 0};
    int[] packed = PackQuantized.pack(q, 1, 8);
    assertArrayEquals(new int[] {0xff_80_7f_00, 0x80_80_80_85}, packed);
    assertArrayEquals(q, PackQuantized.unpack(packed, 1, 8));
  }

  @Test
  void perChannelQuantizationIsSymmetricAndWithinHalfAStep() {
    int out = 8;
    int in = 32;
    Random random = new Random(3);
    float[] w = new float[out * in];
    for (int i = 0; i < w.length; i++) w[i] = (float) random.nextGaussian() * (1 + i / in);
    Int8Weights q = Int8Weights.quantize(w, out, in, DType.F16);
    for (int o = 0; o < out; o++) {
      int extreme = 0;
      for (int i = 0; i < in; i++) {
        extreme = Math.max(extreme, Math.abs(q.q()[o * in + i]));
        assertEquals(w[o * in + i], q.weight(o, i), q.scales()[o] * 0.5 + 1e-6, "w[" + o + "][" + i + "]");
      }
      assertTrue(extreme >= 126, "row " + o + " uses the int8 range: max |q| " + extreme);
      assertEquals(q.scales()[o], Int8Weights.representable(q.scales()[o], DType.F16), "scale is an fp16 value");
    }
  }

  /** Group scales: two groups per row, against q * s in float64. */
  @Test
  void linearDequantizesWithGroupScales() {
    int out = 3;
    int in = 8;
    byte[] q = new byte[out * in];
    for (int i = 0; i < q.length; i++) q[i] = (byte) (i * 29 - 100);
    float[] scales = {0.5f, 2f, 0.25f, 1f, 3f, 0.125f};
    try (NDManager m = QuantTestModels.cpu();
        MethodLinear<Int8DeviceWeight> layer = new MethodLinear<>(new Int8DeviceWeight(Int8DeviceWeight.Layout.DJL,
            m.create(ByteBuffer.wrap(q), new Shape(out, in), DataType.INT8), m.create(scales, new Shape(out, 2)), null),
            DjlInt8Method.INSTANCE)) {
      float[] y = layer.apply(m.eye(in)).toFloatArray(); // row i: W^T[i], i.e. W[o][i] at (i, o)
      for (int o = 0; o < out; o++) {
        for (int i = 0; i < in; i++) {
          assertEquals(q[o * in + i] * (double) scales[o * 2 + i / 4], y[i * out + o], 1e-6, "W[" + o + "][" + i + "]");
        }
      }
      assertEquals(out * in + out * 2 * 4, layer.deviceBytes());
    }
  }
}
