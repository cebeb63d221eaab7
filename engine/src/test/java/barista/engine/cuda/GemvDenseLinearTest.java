package barista.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.linear.DenseLinear;
import barista.engine.linear.LinearLayer;
import org.junit.jupiter.api.Test;

/** Which linears the CUDA path hands to the GEMV (the kernel itself: CudaKernelsTest, on a GPU). */
class GemvDenseLinearTest {

  /** Unset: single-row steps take the GEMV; 0 turns it off; a setting outside 0-8 or not a number is off too. */
  @Test
  void theGemvRowsSettingDefaultsToSingleRowSteps() {
    assertEquals(1, GemvDenseLinear.rows(null));
    assertEquals(0, GemvDenseLinear.rows("0"));
    assertEquals(8, GemvDenseLinear.rows(" 8 "));
    assertEquals(0, GemvDenseLinear.rows("9"));
    assertEquals(0, GemvDenseLinear.rows("all"));
  }

  @Test
  void onlyFp16DenseWeightsOfAWidthTheKernelTakesAreWrapped() {
    try (NDManager m = NDManager.newBaseManager()) {
      DenseLinear half = new DenseLinear(m.zeros(new Shape(16, 64), DataType.FLOAT16), null);
      DenseLinear single = new DenseLinear(m.zeros(new Shape(16, 64), DataType.FLOAT32), null);
      DenseLinear odd = new DenseLinear(m.zeros(new Shape(16, 60), DataType.FLOAT16), null);
      LinearLayer wrapped = GemvDenseLinear.wrapIfUseful(half, 4);
      assertInstanceOf(GemvDenseLinear.class, wrapped);
      assertTrue(wrapped.describe().contains("GEMV up to 4 rows"), wrapped.describe());
      assertTrue(GemvDenseLinear.wrapIfUseful(half, 99).describe().contains("up to 8 rows"));
      assertSame(half, GemvDenseLinear.wrapIfUseful(half, 0), "0 rows: off");
      assertSame(single, GemvDenseLinear.wrapIfUseful(single, 4), "fp32 stays with DJL");
      assertSame(odd, GemvDenseLinear.wrapIfUseful(odd, 4), "K not a multiple of 8");
      assertEquals(half.deviceBytes(), wrapped.deviceBytes());
    }
  }
}
