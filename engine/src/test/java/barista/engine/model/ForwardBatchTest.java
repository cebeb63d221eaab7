package barista.engine.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The slot formula: a position's block from the table, its offset within the block. */
class ForwardBatchTest {
  @Test
  void blockSizeOneMapsEachPositionToItsBlock() {
    int[] table = {5, 2, 7};
    for (int p = 0; p < 3; p++) assertEquals(table[p], ForwardBatch.slot(table, 1, p));
  }

  @Test
  void blockSize16CrossesBlockBoundaries() {
    int[] table = {5, 2, 7};
    assertEquals(80, ForwardBatch.slot(table, 16, 0));
    assertEquals(95, ForwardBatch.slot(table, 16, 15));
    assertEquals(32, ForwardBatch.slot(table, 16, 16));
    assertEquals(7 * 16 + 8, ForwardBatch.slot(table, 16, 40));
  }

  @Test
  void blockSize32AndPositionsOutsideTheTable() {
    int[] table = {3, 1};
    assertEquals(96, ForwardBatch.slot(table, 32, 0));
    assertEquals(33, ForwardBatch.slot(table, 32, 33));
    assertEquals(63, ForwardBatch.slot(table, 32, 63));
    assertThrows(IllegalArgumentException.class, () -> ForwardBatch.slot(table, 32, 64));
    assertThrows(IllegalArgumentException.class, () -> ForwardBatch.slot(table, 32, -1));
  }

  @Test
  void slotsAreLongsPastTwoToTheThirtyOne() {
    assertEquals(3L << 30, ForwardBatch.slot(new int[] {3 << 14}, 1 << 16, 0));
  }
}
