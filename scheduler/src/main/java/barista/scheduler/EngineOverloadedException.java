package barista.scheduler;

/** The waiting queue is full: the front end answers 503 with Retry-After. */
public final class EngineOverloadedException extends RuntimeException {
  public EngineOverloadedException(String message) {
    super(message);
  }
}
