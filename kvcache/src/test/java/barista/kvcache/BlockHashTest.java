package barista.kvcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

class BlockHashTest {
  private final int[] tokens = {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4};

  @Test
  void sameParentAndTokensAreEqual() {
    BlockHash parent = BlockHash.of(null, tokens, 0, 4);
    BlockHash child = BlockHash.of(parent, tokens, 4, 8);
    BlockHash again = BlockHash.of(BlockHash.of(null, new int[] {1, 2, 3, 4}, 0, 4), new int[] {5, 6, 7, 8}, 0, 4);
    assertEquals(child, again);
    assertEquals(child.hashCode(), again.hashCode());
  }

  @Test
  void sameTokensWithDifferentParentDiffer() {
    BlockHash first = BlockHash.of(null, tokens, 0, 4);
    BlockHash second = BlockHash.of(null, tokens, 4, 8);
    // tokens[8, 12) equal tokens[0, 4), but their parents differ.
    assertEquals(first, BlockHash.of(null, tokens, 8, 12));
    assertNotEquals(BlockHash.of(first, tokens, 8, 12), BlockHash.of(second, tokens, 8, 12));
    assertNotEquals(first, BlockHash.of(first, tokens, 8, 12));
  }

  @Test
  void differentTokensDiffer() {
    assertNotEquals(BlockHash.of(null, tokens, 0, 4), BlockHash.of(null, tokens, 1, 5));
  }
}
