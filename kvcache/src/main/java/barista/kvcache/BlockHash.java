package barista.kvcache;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * Identity of a full block: a 128-bit digest (the first half of SHA-256) of the parent block's digest and this
 * block's token ids, so it names the whole prefix that ends with this block. Equality compares the digest and
 * also the block's own token ids, so a false prefix hit would need a 128-bit collision between two prefixes whose
 * last blocks hold identical tokens.
 */
final class BlockHash {
  private final long high;
  private final long low;
  private final int[] tokenIds;

  private BlockHash(long high, long low, int[] tokenIds) {
    this.high = high;
    this.low = low;
    this.tokenIds = tokenIds;
  }

  /** Hash of the block holding {@code tokens[from, to)}; {@code parent} is null for a request's first block. */
  static BlockHash of(BlockHash parent, int[] tokens, int from, int to) {
    int[] tokenIds = Arrays.copyOfRange(tokens, from, to);
    // A first block chains from an all-zero digest.
    ByteBuffer bytes = ByteBuffer.allocate(16 + 4 * tokenIds.length);
    bytes.putLong(parent == null ? 0 : parent.high).putLong(parent == null ? 0 : parent.low);
    bytes.asIntBuffer().put(tokenIds);
    ByteBuffer digest = ByteBuffer.wrap(sha256().digest(bytes.array()));
    return new BlockHash(digest.getLong(), digest.getLong(), tokenIds);
  }

  /** A digest standing for a salt, chained before a salted request's first block (never itself a block). */
  static BlockHash salt(String salt) {
    byte[] digest = sha256().digest(("cache_salt:" + salt).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    ByteBuffer bytes = ByteBuffer.wrap(digest);
    return new BlockHash(bytes.getLong(), bytes.getLong(), new int[0]);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required on every Java platform", e);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BlockHash other
        && high == other.high && low == other.low && Arrays.equals(tokenIds, other.tokenIds);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(low);
  }
}
