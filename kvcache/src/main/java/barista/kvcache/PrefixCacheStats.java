package barista.kvcache;

/** Cumulative prefix-cache lookups: tokens of the prompts looked up, and how many of them were found cached. */
public record PrefixCacheStats(long queries, long hits) {
  public double hitRate() {
    return queries == 0 ? 0.0 : (double) hits / queries;
  }
}
