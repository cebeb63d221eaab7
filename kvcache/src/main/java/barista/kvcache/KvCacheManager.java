package barista.kvcache;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Paged KV cache bookkeeping per request, after vLLM v1's KVCacheManager. A scheduling step for a waiting request:
 * {@link #getComputedTokens} (prefix-cache lookup), then {@link #allocateSlots}; a running request only calls
 * {@link #allocateSlots}. After the forward pass, {@link #cacheBlocks} publishes newly full blocks, and
 * {@link #free} releases a finished, aborted or preempted request.
 *
 * <p>Engine thread only, except {@link #numFreeBlocks()}, {@link #usage()} and {@link #prefixCacheStats()}, which
 * read volatile snapshots and may be called from a metrics thread.
 */
public final class KvCacheManager {
  /** Never in a block table; the engine points padding slots at it. */
  public static final int NULL_BLOCK_ID = 0;

  private final BlockPool pool;
  private final int blockSize;
  private final boolean enablePrefixCaching;
  private final Map<Long, RequestBlocks> requests = new HashMap<>();
  private volatile PrefixCacheStats prefixCacheStats = new PrefixCacheStats(0, 0);

  /** A request's blocks, the hashes of its full blocks so far, and its prefix hits awaiting allocation. */
  private static final class RequestBlocks {
    final BlockTable table = new BlockTable();
    final List<BlockHash> blockHashes = new ArrayList<>();
    int numCachedBlocks;
    int numPendingHits;
    BlockHash salt; // the first block's parent: null, or the digest of the request's cache_salt
  }

  public KvCacheManager(int numBlocks, int blockSize, boolean enablePrefixCaching) {
    if (blockSize < 1) {
      throw new IllegalArgumentException("blockSize must be positive, got " + blockSize);
    }
    this.pool = new BlockPool(numBlocks, enablePrefixCaching);
    this.blockSize = blockSize;
    this.enablePrefixCaching = enablePrefixCaching;
  }

  /**
   * Looks up the longest run of this prompt's full blocks already in the prefix cache and returns how many tokens
   * it covers (a multiple of blockSize). Never all {@code numTokens}: the last token must be computed to get its
   * logits. The hits are taken by the next {@link #allocateSlots} for this request.
   */
  public int getComputedTokens(long requestId, int[] tokens, int numTokens) {
    return getComputedTokens(requestId, tokens, numTokens, null);
  }

  /**
   * As {@link #getComputedTokens(long, int[], int)}, for a request whose blocks are hashed under a salt (vLLM's
   * cache_salt): its blocks are shared only with requests of the same salt.
   */
  public int getComputedTokens(long requestId, int[] tokens, int numTokens, String salt) {
    if (numTokens < 0 || numTokens > tokens.length) {
      throw new IllegalArgumentException("numTokens " + numTokens + " outside tokens of length " + tokens.length);
    }
    RequestBlocks request = requests.computeIfAbsent(requestId, id -> new RequestBlocks());
    if (request.table.size() > 0) {
      throw new IllegalStateException("request " + requestId + " already holds blocks; look up prefixes before allocating");
    }
    request.salt = salt == null ? null : BlockHash.salt(salt);
    if (!enablePrefixCaching) {
      return 0;
    }
    hashFullBlocks(request, tokens, numTokens / blockSize);
    int maxHitBlocks = (numTokens - 1) / blockSize;
    int hits = 0;
    while (hits < maxHitBlocks && pool.getCachedBlock(request.blockHashes.get(hits)) != null) {
      hits++;
    }
    request.numPendingHits = hits;
    PrefixCacheStats stats = prefixCacheStats;
    prefixCacheStats = new PrefixCacheStats(stats.queries() + numTokens, stats.hits() + (long) hits * blockSize);
    return hits * blockSize;
  }

  /**
   * Grows the request's block table to cover {@code numComputedTokens + numNewTokens} tokens, first taking the
   * prefix hits found by {@link #getComputedTokens} (which {@code numComputedTokens} includes). Returns false and
   * changes nothing if there are not enough free blocks.
   */
  public boolean allocateSlots(long requestId, int numComputedTokens, int numNewTokens) {
    if (numComputedTokens < 0 || numNewTokens < 0) {
      throw new IllegalArgumentException("token counts must be non-negative, got computed "
          + numComputedTokens + " new " + numNewTokens + " for request " + requestId);
    }
    RequestBlocks known = requests.get(requestId); // every running request, every step: nothing made for it
    RequestBlocks request = known != null ? known : new RequestBlocks();
    if (numComputedTokens < request.numPendingHits * blockSize) {
      throw new IllegalArgumentException("request " + requestId + ": numComputedTokens " + numComputedTokens
          + " is less than its " + request.numPendingHits * blockSize + " prefix-cached tokens");
    }
    List<KvCacheBlock> hits = request.numPendingHits == 0 ? List.of() : new ArrayList<>(request.numPendingHits);
    int numFreeHits = 0;
    for (int i = 0; i < request.numPendingHits; i++) {
      KvCacheBlock hit = pool.getCachedBlock(request.blockHashes.get(i));
      if (hit == null) {
        throw new IllegalStateException("request " + requestId
            + ": prefix hit was evicted since getComputedTokens; look it up again in the same step");
      }
      hits.add(hit);
      numFreeHits += hit.refCount == 0 ? 1 : 0;
    }
    int numRequired = (numComputedTokens + numNewTokens + blockSize - 1) / blockSize;
    int numNew = Math.max(0, numRequired - request.table.size() - hits.size());
    // Free hits leave the free queue when touched, so they cannot also serve as new blocks.
    if (numNew > pool.numFreeBlocks() - numFreeHits) {
      return false;
    }
    pool.touch(hits);
    for (KvCacheBlock block : hits) {
      request.table.add(block.id);
    }
    if (numNew > 0) {
      for (KvCacheBlock block : pool.getNewBlocks(numNew)) {
        request.table.add(block.id);
      }
    }
    request.numCachedBlocks = Math.max(request.numCachedBlocks, hits.size());
    request.numPendingHits = 0;
    if (known == null) requests.put(requestId, request);
    return true;
  }

  /** After the engine computed {@code tokens[0, numComputedTokens)}, puts the request's newly full blocks in the prefix cache. */
  public void cacheBlocks(long requestId, int[] tokens, int numComputedTokens) {
    if (!enablePrefixCaching) {
      return;
    }
    RequestBlocks request = request(requestId);
    int numFullBlocks = numComputedTokens / blockSize;
    if (numComputedTokens > tokens.length || numFullBlocks > request.table.size()) {
      throw new IllegalArgumentException("request " + requestId + ": numComputedTokens " + numComputedTokens
          + " exceeds its " + tokens.length + " tokens or " + request.table.size() + " blocks");
    }
    hashFullBlocks(request, tokens, numFullBlocks);
    for (int i = request.numCachedBlocks; i < numFullBlocks; i++) {
      pool.cacheFullBlock(pool.block(request.table.get(i)), request.blockHashes.get(i));
    }
    request.numCachedBlocks = Math.max(request.numCachedBlocks, numFullBlocks);
  }

  /** Releases all of the request's blocks, tail first so its tail is evicted before its head. Unknown ids are ignored. */
  public void free(long requestId) {
    RequestBlocks request = requests.remove(requestId);
    if (request == null) {
      return;
    }
    List<KvCacheBlock> reversed = new ArrayList<>(request.table.size());
    for (int i = request.table.size() - 1; i >= 0; i--) {
      reversed.add(pool.block(request.table.get(i)));
    }
    pool.free(reversed);
  }

  /** The request's live block table (empty before its first allocation). */
  public BlockTable blockTable(long requestId) {
    return request(requestId).table;
  }

  public int numFreeBlocks() {
    return pool.numFreeBlocks();
  }

  /** Fraction of usable blocks (all but the null block) held by requests. */
  public double usage() {
    return pool.usage();
  }

  public PrefixCacheStats prefixCacheStats() {
    return prefixCacheStats;
  }

  public int blockSize() {
    return blockSize;
  }

  /** All blocks, the null block included: the KV cache tensors hold {@code numBlocks() * blockSize()} slots. */
  public int numBlocks() {
    return pool.numBlocks();
  }

  /** Extends the request's hash chain to its first {@code numFullBlocks} blocks; hashes already computed are kept. */
  private void hashFullBlocks(RequestBlocks request, int[] tokens, int numFullBlocks) {
    List<BlockHash> hashes = request.blockHashes;
    for (int i = hashes.size(); i < numFullBlocks; i++) {
      BlockHash parent = i == 0 ? request.salt : hashes.get(i - 1);
      hashes.add(BlockHash.of(parent, tokens, i * blockSize, (i + 1) * blockSize));
    }
  }

  private RequestBlocks request(long requestId) {
    RequestBlocks request = requests.get(requestId);
    if (request == null) {
      throw new IllegalArgumentException("unknown request " + requestId);
    }
    return request;
  }
}
