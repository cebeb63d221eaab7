package barista.kvcache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class KvCacheManagerTest {
  private static final int BLOCK_SIZE = 4;

  /** Tokens start, start+1, ... (length n). */
  private static int[] tokens(int start, int n) {
    return IntStream.range(start, start + n).toArray();
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** Admits a request the way the scheduler does and computes its whole prompt; returns the prefix-cached tokens. */
  private static int prefill(KvCacheManager kv, long id, int[] prompt) {
    int cached = kv.getComputedTokens(id, prompt, prompt.length);
    assertTrue(kv.allocateSlots(id, cached, prompt.length - cached));
    kv.cacheBlocks(id, prompt, prompt.length);
    return cached;
  }

  @Test
  void allocateFreeAndReuse() {
    KvCacheManager kv = new KvCacheManager(5, BLOCK_SIZE, false);
    assertTrue(kv.allocateSlots(1, 0, 10));
    assertEquals(3, kv.blockTable(1).size());
    assertEquals(1, kv.numFreeBlocks());
    assertEquals(0.75, kv.usage());
    assertTrue(kv.allocateSlots(1, 10, 2));
    assertEquals(3, kv.blockTable(1).size());
    assertTrue(kv.allocateSlots(1, 12, 1));
    assertEquals(4, kv.blockTable(1).size());
    assertEquals(0, kv.numFreeBlocks());
    int[] table = kv.blockTable(1).toArray();
    assertFalse(Arrays.stream(table).anyMatch(id -> id == KvCacheManager.NULL_BLOCK_ID));

    kv.free(1);
    assertEquals(4, kv.numFreeBlocks());
    assertThrows(IllegalArgumentException.class, () -> kv.blockTable(1));
    kv.free(1);
    assertEquals(4, kv.numFreeBlocks());
    assertTrue(kv.allocateSlots(2, 0, 16));
    assertEquals(4, kv.blockTable(2).size());
  }

  @Test
  void exhaustionChangesNothing() {
    KvCacheManager kv = new KvCacheManager(5, BLOCK_SIZE, false);
    assertTrue(kv.allocateSlots(1, 0, 8));
    assertTrue(kv.allocateSlots(2, 0, 4));
    int[] table2 = kv.blockTable(2).toArray();

    assertFalse(kv.allocateSlots(2, 4, 9));
    assertFalse(kv.allocateSlots(3, 0, 5));
    assertEquals(1, kv.numFreeBlocks());
    assertArrayEquals(table2, kv.blockTable(2).toArray());
    assertThrows(IllegalArgumentException.class, () -> kv.blockTable(3));
    assertTrue(kv.allocateSlots(2, 4, 4));
  }

  @Test
  void freeCachedHitsDoNotCountAsFreeBlocksForTheSameRequest() {
    KvCacheManager kv = new KvCacheManager(5, BLOCK_SIZE, true);
    int[] first = tokens(0, 12);
    prefill(kv, 1, first);
    kv.free(1);
    assertEquals(4, kv.numFreeBlocks());

    // 2 cached blocks + 3 new ones: enough free blocks only if the free hits were counted twice.
    int[] second = concat(Arrays.copyOf(first, 8), tokens(100, 9));
    assertEquals(8, kv.getComputedTokens(2, second, second.length));
    assertFalse(kv.allocateSlots(2, 8, 9));
    assertEquals(4, kv.numFreeBlocks());
    assertEquals(0, kv.blockTable(2).size());
    assertEquals(8, kv.getComputedTokens(2, second, second.length));
  }

  @Test
  void aCacheSaltSharesBlocksOnlyWithTheSameSalt() {
    KvCacheManager kv = new KvCacheManager(16, BLOCK_SIZE, true);
    int[] prompt = tokens(0, 9);
    salted(kv, 1, prompt, "alice");
    assertEquals(0, kv.getComputedTokens(2, prompt, prompt.length), "no salt: no hit on alice's blocks");
    assertEquals(0, kv.getComputedTokens(3, prompt, prompt.length, "bob"));
    assertEquals(8, kv.getComputedTokens(4, prompt, prompt.length, "alice"));
    prefill(kv, 5, prompt);
    assertEquals(8, kv.getComputedTokens(6, prompt, prompt.length), "unsalted requests still share");
  }

  private static void salted(KvCacheManager kv, long id, int[] prompt, String salt) {
    int cached = kv.getComputedTokens(id, prompt, prompt.length, salt);
    assertTrue(kv.allocateSlots(id, cached, prompt.length - cached));
    kv.cacheBlocks(id, prompt, prompt.length);
  }

  @Test
  void sharedPrefixBlocksAreReferenceCounted() {
    KvCacheManager kv = new KvCacheManager(8, BLOCK_SIZE, true);
    int[] prompt = tokens(0, 9);
    assertEquals(0, prefill(kv, 1, prompt));
    assertEquals(8, prefill(kv, 2, prompt));
    int[] table1 = kv.blockTable(1).toArray();
    int[] table2 = kv.blockTable(2).toArray();
    assertArrayEquals(Arrays.copyOf(table1, 2), Arrays.copyOf(table2, 2));
    assertNotEquals(table1[2], table2[2]);
    assertEquals(3, kv.numFreeBlocks());

    kv.free(1);
    assertEquals(4, kv.numFreeBlocks());
    kv.free(2);
    assertEquals(7, kv.numFreeBlocks());
    assertEquals(new PrefixCacheStats(18, 8), kv.prefixCacheStats());
  }

  @Test
  void sameBlockTokensUnderADifferentPrefixDoNotHit() {
    KvCacheManager kv = new KvCacheManager(16, BLOCK_SIZE, true);
    int[] shared = tokens(50, 4);
    int[] first = concat(concat(tokens(0, 4), shared), tokens(90, 1));
    int[] second = concat(concat(tokens(10, 4), shared), tokens(91, 1));
    prefill(kv, 1, first);
    assertEquals(0, prefill(kv, 2, second));

    int[] third = concat(concat(tokens(10, 4), shared), tokens(92, 3));
    assertEquals(8, prefill(kv, 3, third));
    assertEquals(kv.blockTable(2).get(1), kv.blockTable(3).get(1));
    assertNotEquals(kv.blockTable(1).get(1), kv.blockTable(3).get(1));
  }

  @Test
  void partialLastBlockIsNotCached() {
    KvCacheManager kv = new KvCacheManager(8, BLOCK_SIZE, true);
    int[] prompt = tokens(0, 10);
    prefill(kv, 1, prompt);
    int[] longer = tokens(0, 13);
    assertEquals(8, kv.getComputedTokens(2, longer, longer.length));
  }

  @Test
  void neverReturnsTheWholePrompt() {
    KvCacheManager kv = new KvCacheManager(8, BLOCK_SIZE, true);
    int[] prompt = tokens(0, 8);
    prefill(kv, 1, prompt);
    assertEquals(4, kv.getComputedTokens(2, prompt, 8));
    assertEquals(8, kv.getComputedTokens(3, tokens(0, 9), 9));
    assertEquals(0, kv.getComputedTokens(4, prompt, 4));
  }

  @Test
  void requestTailIsEvictedBeforeItsHead() {
    KvCacheManager kv = new KvCacheManager(4, BLOCK_SIZE, true);
    int[] prompt = tokens(0, 9);
    prefill(kv, 1, prompt);
    kv.free(1);

    assertTrue(kv.allocateSlots(2, 0, 4)); // takes the partial third block
    assertEquals(8, kv.getComputedTokens(3, prompt, prompt.length));
    kv.free(3);
    assertTrue(kv.allocateSlots(4, 0, 4)); // evicts the second block, the first survives
    assertEquals(4, kv.getComputedTokens(3, prompt, prompt.length));
  }

  @Test
  void preemptedRequestGetsItsPrefixBack() {
    KvCacheManager kv = new KvCacheManager(8, BLOCK_SIZE, true);
    int[] sequence = tokens(0, 10);
    int computed = 6;
    prefill(kv, 1, Arrays.copyOf(sequence, computed));
    for (; computed < 9; computed++) { // decode one token per step
      assertTrue(kv.allocateSlots(1, computed, 1));
      kv.cacheBlocks(1, Arrays.copyOf(sequence, computed + 1), computed + 1);
    }
    int[] before = kv.blockTable(1).toArray();
    kv.free(1);
    assertEquals(7, kv.numFreeBlocks());

    int[] resumed = Arrays.copyOf(sequence, 9);
    assertEquals(8, kv.getComputedTokens(1, resumed, 9));
    assertTrue(kv.allocateSlots(1, 8, 1));
    assertArrayEquals(Arrays.copyOf(before, 2), Arrays.copyOf(kv.blockTable(1).toArray(), 2));
  }

  @Test
  void lookupAfterAllocationAndStaleHitsAreRejected() {
    KvCacheManager kv = new KvCacheManager(3, BLOCK_SIZE, true);
    int[] prompt = tokens(0, 5);
    prefill(kv, 1, prompt);
    assertThrows(IllegalStateException.class, () -> kv.getComputedTokens(1, prompt, 5));
    kv.free(1);

    assertEquals(4, kv.getComputedTokens(2, prompt, 5));
    assertTrue(kv.allocateSlots(3, 0, 8)); // evicts the block request 2 was about to reuse
    assertThrows(IllegalStateException.class, () -> kv.allocateSlots(2, 4, 1));
  }
}
