package barista.server;

import barista.config.ServeOptions;
import barista.server.model.ServedModel;

/** Loads what {@code barista serve} serves: the one place the real engine and model are wired in. */
@FunctionalInterface
public interface ServedModelLoader {

  /**
   * @param engine the engine to submit to
   * @param model the tokenizer, chat template and limits of the served model
   * @param resources closed after the server stops (the engine thread, native memory)
   */
  record Loaded(barista.scheduler.EngineClient engine, ServedModel model, AutoCloseable resources) {}

  /** Throws IllegalArgumentException with a one-line reason for a bad model or flag combination. */
  Loaded load(ServeOptions options) throws Exception;
}
