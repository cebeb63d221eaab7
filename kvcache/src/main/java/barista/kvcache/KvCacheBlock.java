package barista.kvcache;

/** One KV cache block: {@code blockSize} token slots in every layer's K and V cache. Mutated only by {@link BlockPool}. */
final class KvCacheBlock {
  final int id;
  /** Number of requests holding this block; 0 means it sits in the free queue (or is the null block). */
  int refCount;
  /** Identity of the block's tokens while it is in the prefix cache, else null. */
  BlockHash hash;
  /** Free-queue links; both null while the block is not in the queue. */
  KvCacheBlock prev;
  KvCacheBlock next;

  KvCacheBlock(int id) {
    this.id = id;
  }

  @Override
  public String toString() {
    return "block " + id;
  }
}
