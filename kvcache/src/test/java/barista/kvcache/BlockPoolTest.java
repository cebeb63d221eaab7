package barista.kvcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class BlockPoolTest {
  private static BlockHash hash(int token) {
    return BlockHash.of(null, new int[] {token, token}, 0, 2);
  }

  private static List<Integer> ids(List<KvCacheBlock> blocks) {
    return blocks.stream().map(b -> b.id).toList();
  }

  @Test
  void nullBlockIsNeverHandedOut() {
    BlockPool pool = new BlockPool(4, true);
    assertEquals(3, pool.numFreeBlocks());
    assertEquals(List.of(1, 2, 3), ids(pool.getNewBlocks(3)));
    assertEquals(0, pool.numFreeBlocks());
    assertEquals(1.0, pool.usage());
    assertThrows(IllegalStateException.class, () -> pool.getNewBlocks(1));
    assertThrows(IllegalStateException.class, () -> pool.free(List.of(pool.block(0))));
  }

  @Test
  void freedBlocksAreReusedInFreeOrder() {
    BlockPool pool = new BlockPool(5, false);
    List<KvCacheBlock> blocks = pool.getNewBlocks(4);
    assertEquals(0, pool.numFreeBlocks());
    pool.free(List.of(blocks.get(2), blocks.get(0)));
    assertEquals(2, pool.numFreeBlocks());
    assertEquals(0.5, pool.usage());
    assertEquals(List.of(3, 1), ids(pool.getNewBlocks(2)));
  }

  @Test
  void doubleFreeThrows() {
    BlockPool pool = new BlockPool(3, true);
    List<KvCacheBlock> blocks = pool.getNewBlocks(1);
    pool.free(blocks);
    assertThrows(IllegalStateException.class, () -> pool.free(blocks));
    assertEquals(2, pool.numFreeBlocks());
  }

  @Test
  void sharedBlockIsFreeOnlyAfterLastReference() {
    BlockPool pool = new BlockPool(3, true);
    KvCacheBlock block = pool.getNewBlocks(1).get(0);
    pool.touch(List.of(block));
    assertEquals(2, block.refCount);
    pool.free(List.of(block));
    assertEquals(1, pool.numFreeBlocks());
    pool.free(List.of(block));
    assertEquals(2, pool.numFreeBlocks());
  }

  @Test
  void leastRecentlyFreedCachedBlockIsEvictedFirst() {
    BlockPool pool = new BlockPool(4, true);
    List<KvCacheBlock> blocks = pool.getNewBlocks(3);
    for (int i = 0; i < 3; i++) {
      pool.cacheFullBlock(blocks.get(i), hash(i));
    }
    pool.free(List.of(blocks.get(1), blocks.get(0), blocks.get(2)));
    assertSame(blocks.get(0), pool.getCachedBlock(hash(0)));

    assertEquals(List.of(2), ids(pool.getNewBlocks(1)));
    assertNull(pool.getCachedBlock(hash(1)));
    assertSame(blocks.get(0), pool.getCachedBlock(hash(0)));

    // A hit on a free cached block takes it out of the free queue: block 3 is evicted before it.
    pool.touch(List.of(blocks.get(0)));
    assertEquals(1, pool.numFreeBlocks());
    assertEquals(List.of(3), ids(pool.getNewBlocks(1)));
    assertSame(blocks.get(0), pool.getCachedBlock(hash(0)));
    assertNull(pool.getCachedBlock(hash(2)));
  }

  @Test
  void duplicateContentKeepsTheFirstCachedBlock() {
    BlockPool pool = new BlockPool(3, true);
    List<KvCacheBlock> blocks = pool.getNewBlocks(2);
    pool.cacheFullBlock(blocks.get(0), hash(7));
    pool.cacheFullBlock(blocks.get(1), hash(7));
    assertSame(blocks.get(0), pool.getCachedBlock(hash(7)));
    assertNull(blocks.get(1).hash);
  }

  @Test
  void disabledPrefixCachingCachesNothing() {
    BlockPool pool = new BlockPool(3, false);
    KvCacheBlock block = pool.getNewBlocks(1).get(0);
    pool.cacheFullBlock(block, hash(1));
    assertNull(pool.getCachedBlock(hash(1)));
  }
}
