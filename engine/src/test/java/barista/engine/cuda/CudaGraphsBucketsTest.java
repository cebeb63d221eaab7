package barista.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The capture sizes follow vLLM's --cuda-graph-sizes rules (no GPU needed). */
class CudaGraphsBucketsTest {

  @Test
  void defaultPatternUpToMaxNumSeqs() {
    assertArrayEquals(new int[] {1, 2, 4, 8, 16, 24, 32}, CudaGraphs.bucketSizes(List.of(), 32));
    assertArrayEquals(new int[] {1, 2, 4, 8, 10}, CudaGraphs.bucketSizes(List.of(), 10));
    assertArrayEquals(new int[] {1, 2, 3}, CudaGraphs.bucketSizes(List.of(), 3));
  }

  @Test
  void oneValueIsTheLargestOfThePattern() {
    assertArrayEquals(new int[] {1, 2, 4, 8, 16}, CudaGraphs.bucketSizes(List.of(16), 256));
    assertArrayEquals(new int[] {1, 2, 4, 8}, CudaGraphs.bucketSizes(List.of(512), 8));
  }

  @Test
  void severalValuesAreTheSizesCappedByMaxNumSeqs() {
    assertArrayEquals(new int[] {1, 3, 64}, CudaGraphs.bucketSizes(List.of(64, 3, 1, 300), 256));
  }
}
