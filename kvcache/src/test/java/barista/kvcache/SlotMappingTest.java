package barista.kvcache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SlotMappingTest {
  private static BlockTable table(int... ids) {
    BlockTable table = new BlockTable();
    for (int id : ids) {
      table.add(id);
    }
    return table;
  }

  @Test
  void blockSizeOneMapsEachPositionToItsBlock() {
    BlockTable table = table(5, 2, 7);
    long[] slots = new long[3];
    SlotMapping.fill(table, 1, 0, 3, slots, 0);
    assertArrayEquals(new long[] {5, 2, 7}, slots);
  }

  @Test
  void blockSize16CrossesBlockBoundaries() {
    BlockTable table = table(5, 2, 7);
    assertEquals(80, SlotMapping.slot(table, 16, 0));
    assertEquals(95, SlotMapping.slot(table, 16, 15));
    assertEquals(32, SlotMapping.slot(table, 16, 16));
    assertEquals(7 * 16 + 8, SlotMapping.slot(table, 16, 40));
    long[] slots = {-1, -1, -1, -1};
    SlotMapping.fill(table, 16, 14, 17, slots, 1);
    assertArrayEquals(new long[] {-1, 94, 95, 32}, slots);
  }

  @Test
  void blockSize32AndPositionsOutsideTheTable() {
    BlockTable table = table(3, 1);
    assertEquals(96, SlotMapping.slot(table, 32, 0));
    assertEquals(33, SlotMapping.slot(table, 32, 33));
    assertEquals(63, SlotMapping.slot(table, 32, 63));
    assertThrows(IllegalArgumentException.class, () -> SlotMapping.slot(table, 32, 64));
    assertThrows(IllegalArgumentException.class, () -> SlotMapping.slot(table, 32, -1));
  }
}
