package barista.scheduler;

/**
 * A consistent snapshot of the engine for /health and /metrics.
 *
 * @param alive the engine thread is running and not wedged (it made progress in the last 30 s while work was pending)
 * @param preemptions total since start
 * @param prefixCacheQueries prompt tokens looked up in the prefix cache since start
 * @param prefixCacheHits prompt tokens found there since start
 */
public record EngineStatus(
    boolean ready,
    boolean alive,
    int running,
    int waiting,
    int totalBlocks,
    int freeBlocks,
    double kvCacheUsage,
    long preemptions,
    long prefixCacheQueries,
    long prefixCacheHits) {}
