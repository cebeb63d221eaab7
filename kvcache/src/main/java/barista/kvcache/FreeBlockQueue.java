package barista.kvcache;

/**
 * Free blocks in eviction order: the head is reused first and freed blocks join the tail, so cached free blocks
 * are evicted least-recently-freed first. The links live in the blocks themselves, which makes taking a free
 * block out of the middle (a prefix-cache hit) O(1).
 */
final class FreeBlockQueue {
  private final KvCacheBlock head = new KvCacheBlock(-1);
  private final KvCacheBlock tail = new KvCacheBlock(-1);
  private int size;

  FreeBlockQueue() {
    head.next = tail;
    tail.prev = head;
  }

  int size() {
    return size;
  }

  KvCacheBlock popFirst() {
    if (size == 0) {
      throw new IllegalStateException("no free KV cache blocks");
    }
    KvCacheBlock first = head.next;
    remove(first);
    return first;
  }

  void append(KvCacheBlock block) {
    if (block.next != null) {
      throw new IllegalStateException(block + " is already in the free queue");
    }
    block.prev = tail.prev;
    block.next = tail;
    tail.prev.next = block;
    tail.prev = block;
    size++;
  }

  void remove(KvCacheBlock block) {
    if (block.next == null) {
      throw new IllegalStateException(block + " is not in the free queue");
    }
    block.prev.next = block.next;
    block.next.prev = block.prev;
    block.prev = null;
    block.next = null;
    size--;
  }
}
