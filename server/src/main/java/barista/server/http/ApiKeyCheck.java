package barista.server.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Checks "Authorization: Bearer KEY" in constant time: both sides are hashed first, so neither the key's content
 * nor its length shows in the timing.
 */
public final class ApiKeyCheck {
  private final byte[] expectedDigest;

  public ApiKeyCheck(String apiKey) {
    this.expectedDigest = sha256(apiKey);
  }

  public boolean accepts(String authorizationHeader) {
    if (authorizationHeader == null) return false;
    String prefix = "bearer ";
    if (authorizationHeader.length() < prefix.length()
        || !authorizationHeader.regionMatches(true, 0, prefix, 0, prefix.length())) return false;
    String key = authorizationHeader.substring(prefix.length()).strip();
    return MessageDigest.isEqual(expectedDigest, sha256(key));
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  }
}
