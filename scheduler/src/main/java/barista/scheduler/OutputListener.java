package barista.scheduler;

/** Receives a request's outputs in order; called on the engine thread, so it must not block. */
@FunctionalInterface
public interface OutputListener {
  void onOutput(RequestOutput output);
}
