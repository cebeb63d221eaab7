package barista.kvcache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class BlockTableTest {
  @Test
  void anArrayHandedOutIsNeverWrittenAndIsReusedUntilTheTableGrows() {
    BlockTable table = new BlockTable();
    for (int id = 0; id < 9; id++) table.add(10 + id); // past the first capacity of 8
    int[] first = table.toArray();
    assertArrayEquals(new int[] {10, 11, 12, 13, 14, 15, 16, 17, 18}, first);
    assertSame(first, table.toArray(), "unchanged table, the same array");
    table.add(19);
    int[] second = table.toArray();
    assertNotSame(first, second);
    assertArrayEquals(new int[] {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, second);
    assertArrayEquals(new int[] {10, 11, 12, 13, 14, 15, 16, 17, 18}, first, "a step holding the old one sees it as it was");
  }
}
