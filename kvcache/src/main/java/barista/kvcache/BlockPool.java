package barista.kvcache;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Owns every KV cache block: hands out free blocks, takes them back, and keeps the prefix cache (hash of a full
 * block -> the block holding it). A freed cached block keeps its hash and stays findable until it reaches the head
 * of the free queue and is reused, which makes the prefix cache LRU.
 *
 * <p>Block 0 is the null block: never handed out, its slots are a scratch target for padding.
 *
 * <p>Engine thread only, except {@link #numFreeBlocks()} and {@link #usage()}, which read a volatile snapshot and
 * may be called from any thread.
 */
final class BlockPool {
  private final KvCacheBlock[] blocks;
  private final FreeBlockQueue freeQueue = new FreeBlockQueue();
  private final Map<BlockHash, KvCacheBlock> cachedBlocks = new HashMap<>();
  private final boolean enablePrefixCaching;
  private volatile int numFreeBlocks;

  BlockPool(int numBlocks, boolean enablePrefixCaching) {
    if (numBlocks < 2) {
      throw new IllegalArgumentException("numBlocks must be at least 2 (block 0 is the null block), got " + numBlocks);
    }
    this.enablePrefixCaching = enablePrefixCaching;
    blocks = new KvCacheBlock[numBlocks];
    for (int id = 0; id < numBlocks; id++) {
      blocks[id] = new KvCacheBlock(id);
      if (id != KvCacheManager.NULL_BLOCK_ID) {
        freeQueue.append(blocks[id]);
      }
    }
    numFreeBlocks = freeQueue.size();
  }

  KvCacheBlock block(int id) {
    return blocks[id];
  }

  int numBlocks() {
    return blocks.length;
  }

  int numFreeBlocks() {
    return numFreeBlocks;
  }

  /** Fraction of the usable blocks (all but the null block) held by requests. */
  double usage() {
    return 1.0 - (double) numFreeBlocks / (blocks.length - 1);
  }

  /** Takes {@code n} blocks from the head of the free queue, evicting them from the prefix cache; each gets ref count 1. */
  List<KvCacheBlock> getNewBlocks(int n) {
    if (n > freeQueue.size()) {
      throw new IllegalStateException("asked for " + n + " KV cache blocks, only " + freeQueue.size() + " free");
    }
    List<KvCacheBlock> taken = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      KvCacheBlock block = freeQueue.popFirst();
      if (block.hash != null) {
        cachedBlocks.remove(block.hash);
        block.hash = null;
      }
      block.refCount = 1;
      taken.add(block);
    }
    numFreeBlocks = freeQueue.size();
    return taken;
  }

  /** Takes a reference on prefix-cache hits; a hit that was free leaves the free queue so it cannot be evicted. */
  void touch(List<KvCacheBlock> hits) {
    for (KvCacheBlock block : hits) {
      if (block.refCount == 0) {
        freeQueue.remove(block);
      }
      block.refCount++;
    }
    numFreeBlocks = freeQueue.size();
  }

  /** Drops one reference on each block; blocks reaching 0 join the free-queue tail in the given order. */
  void free(List<KvCacheBlock> toFree) {
    for (KvCacheBlock block : toFree) {
      if (block.refCount == 0) {
        throw new IllegalStateException(block + " freed with ref count 0 (double free or null block)");
      }
      if (--block.refCount == 0) {
        freeQueue.append(block);
      }
    }
    numFreeBlocks = freeQueue.size();
  }

  /**
   * Registers a full block under {@code hash}. If another block already holds the same tokens (two requests
   * computed one prefix at once) this one stays uncached: block tables are append-only, so ids are never swapped.
   */
  void cacheFullBlock(KvCacheBlock block, BlockHash hash) {
    if (!enablePrefixCaching) {
      return;
    }
    if (block.hash != null) {
      throw new IllegalStateException(block + " is already in the prefix cache");
    }
    if (cachedBlocks.putIfAbsent(hash, block) == null) {
      block.hash = hash;
    }
  }

  /** The block holding these tokens, whether in use or free, or null. */
  KvCacheBlock getCachedBlock(BlockHash hash) {
    return cachedBlocks.get(hash);
  }
}
