package barista.kvcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class FreeBlockQueueTest {
  @Test
  void popsInAppendOrderAndRemovesFromTheMiddle() {
    FreeBlockQueue queue = new FreeBlockQueue();
    KvCacheBlock a = new KvCacheBlock(1), b = new KvCacheBlock(2), c = new KvCacheBlock(3);
    queue.append(a);
    queue.append(b);
    queue.append(c);
    queue.remove(b);
    assertEquals(2, queue.size());
    assertSame(a, queue.popFirst());
    queue.append(b);
    assertSame(c, queue.popFirst());
    assertSame(b, queue.popFirst());
    assertEquals(0, queue.size());
    assertThrows(IllegalStateException.class, queue::popFirst);
  }

  @Test
  void rejectsBlocksInTheWrongState() {
    FreeBlockQueue queue = new FreeBlockQueue();
    KvCacheBlock block = new KvCacheBlock(1);
    assertThrows(IllegalStateException.class, () -> queue.remove(block));
    queue.append(block);
    assertThrows(IllegalStateException.class, () -> queue.append(block));
  }
}
