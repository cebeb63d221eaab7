package barista.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The capture sizes follow vLLM V1's --cuda-graph-sizes rules (no GPU needed). */
class CudaGraphsBucketsTest {

  @Test
  void defaultPatternUpToMaxNumSeqs() {
    assertArrayEquals(new int[] {1, 2, 4, 8, 16, 24, 32}, CudaGraphs.bucketSizes(List.of(), 32));
    assertArrayEquals(new int[] {1, 2, 4, 8, 10}, CudaGraphs.bucketSizes(List.of(), 10));
    assertArrayEquals(new int[] {1, 2, 3}, CudaGraphs.bucketSizes(List.of(), 3));
    int[] large = CudaGraphs.bucketSizes(List.of(), 512); // vLLM: steps of 8 below 256, then of 16
    assertArrayEquals(new int[] {240, 248, 256, 272, 288}, java.util.Arrays.copyOfRange(large, 32, 37));
    assertArrayEquals(new int[] {496, 512}, java.util.Arrays.copyOfRange(large, large.length - 2, large.length));
    assertArrayEquals(new int[] {1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96, 100},
        CudaGraphs.bucketSizes(List.of(), 100));
  }

  /** Graphs hold token counts: twice the batch size by default, at most 512, at most a step's token budget. */
  @Test
  void defaultLargestStepFollowsVllm() {
    org.junit.jupiter.api.Assertions.assertEquals(512, CudaGraphs.defaultMaxTokens(256, 8192));
    org.junit.jupiter.api.Assertions.assertEquals(64, CudaGraphs.defaultMaxTokens(32, 8192));
    org.junit.jupiter.api.Assertions.assertEquals(512, CudaGraphs.defaultMaxTokens(1024, 8192));
    org.junit.jupiter.api.Assertions.assertEquals(48, CudaGraphs.defaultMaxTokens(256, 48));
    org.junit.jupiter.api.Assertions.assertEquals(2, CudaGraphs.defaultMaxTokens(1, 8192));
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
