package barista.scheduler;

/**
 * Receives a request's outputs in order, one at a time; called on the engine thread, or with async scheduling on
 * the request's output thread, so it must not block.
 */
@FunctionalInterface
public interface OutputListener {
  void onOutput(RequestOutput output);
}
