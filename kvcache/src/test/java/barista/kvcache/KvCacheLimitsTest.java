package barista.kvcache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The edges of the KV cache's public surface: the smallest legal sizes, argument checks, long tables, stats. */
class KvCacheLimitsTest {

  @Test
  void theSmallestCacheIsOneBlockOfOneTokenBesidesTheNullBlock() {
    KvCacheManager kv = new KvCacheManager(2, 1, true);
    assertEquals(2, kv.numBlocks());
    assertEquals(1, kv.blockSize());
    assertEquals(1, kv.numFreeBlocks());
    assertTrue(kv.allocateSlots(1, 0, 1));
    assertArrayEquals(new int[] {1}, kv.blockTable(1).toArray());
    IllegalArgumentException noBlocks = assertThrows(IllegalArgumentException.class,
        () -> new KvCacheManager(1, 4, true));
    assertEquals("numBlocks must be at least 2 (block 0 is the null block), got 1", noBlocks.getMessage());
    IllegalArgumentException noTokens = assertThrows(IllegalArgumentException.class,
        () -> new KvCacheManager(4, 0, true));
    assertEquals("blockSize must be positive, got 0", noTokens.getMessage());
  }

  @Test
  void tokenCountsMayBeZeroButNotNegative() {
    KvCacheManager kv = new KvCacheManager(8, 4, false);
    assertTrue(kv.allocateSlots(1, 0, 0));
    assertEquals(0, kv.blockTable(1).size());
    assertThrows(IllegalArgumentException.class, () -> kv.allocateSlots(2, -1, 4));
    assertThrows(IllegalArgumentException.class, () -> kv.allocateSlots(2, 0, -1));
    int[] tokens = {1, 2, 3, 4};
    assertEquals(0, kv.getComputedTokens(3, tokens, 4), "all tokens may be looked up");
    assertEquals(0, kv.getComputedTokens(4, tokens, 0));
    assertThrows(IllegalArgumentException.class, () -> kv.getComputedTokens(5, tokens, 5));
    assertThrows(IllegalArgumentException.class, () -> kv.getComputedTokens(6, tokens, -1));
  }

  @Test
  void allocatingFewerTokensThanThePrefixHitsIsRefused() {
    KvCacheManager kv = new KvCacheManager(16, 4, true);
    int[] prompt = IntStream.range(0, 13).toArray();
    assertTrue(kv.allocateSlots(1, 0, 13));
    kv.cacheBlocks(1, prompt, 13);
    assertEquals(12, kv.getComputedTokens(2, prompt, 13), "three full blocks hit");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> kv.allocateSlots(2, 8, 5));
    assertEquals("request 2: numComputedTokens 8 is less than its 12 prefix-cached tokens", e.getMessage());
    assertTrue(kv.allocateSlots(2, 12, 1));
    assertArrayEquals(Arrays.copyOf(kv.blockTable(1).toArray(), 3), Arrays.copyOf(kv.blockTable(2).toArray(), 3));
  }

  @Test
  void aLongRequestHoldsManyDistinctBlocks() {
    KvCacheManager kv = new KvCacheManager(64, 2, false);
    assertTrue(kv.allocateSlots(1, 0, 41)); // 21 blocks: the table grows past its first capacity twice
    int[] table = kv.blockTable(1).toArray();
    assertEquals(21, table.length);
    assertEquals(21, Arrays.stream(table).distinct().count());
    assertTrue(Arrays.stream(table).allMatch(b -> b != KvCacheManager.NULL_BLOCK_ID && b < 64));
    assertEquals(64 - 1 - 21, kv.numFreeBlocks());
  }

  @Test
  void hitRateIsHitsOverQueries() {
    assertEquals(0.0, new PrefixCacheStats(0, 0).hitRate());
    assertEquals(0.75, new PrefixCacheStats(8, 6).hitRate());
    KvCacheManager kv = new KvCacheManager(16, 4, true);
    int[] prompt = IntStream.range(0, 9).toArray();
    assertTrue(kv.allocateSlots(1, 0, 9));
    kv.cacheBlocks(1, prompt, 9);
    kv.getComputedTokens(2, prompt, 9);
    assertEquals(new PrefixCacheStats(9, 8), kv.prefixCacheStats());
    assertEquals(8.0 / 9, kv.prefixCacheStats().hitRate(), 1e-12);
  }

  @Test
  void differentBlocksHashDifferently() {
    int[] tokens = IntStream.range(0, 8).toArray();
    BlockHash first = BlockHash.of(null, tokens, 0, 4);
    BlockHash second = BlockHash.of(first, tokens, 4, 8);
    assertEquals(first, BlockHash.of(null, tokens, 0, 4));
    assertEquals(first.hashCode(), BlockHash.of(null, tokens, 0, 4).hashCode());
    assertNotEquals(first.hashCode(), second.hashCode(), "a constant hashCode would make every lookup linear");
  }
}
