package barista.server;

import barista.config.ServeOptions;
import barista.server.ops.Logging;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code barista serve}: load the model, start the server, serve until SIGTERM, then shut down gracefully. */
@Command(name = "serve")
public final class ServeCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  @Mixin
  ServeOptions options;

  private final ModelLoader loader;

  /** Picocli's constructor: serves the real engine. */
  public ServeCommand() {
    this(new EngineModelLoader());
  }

  public ServeCommand(ModelLoader loader) {
    this.loader = loader;
  }

  @Override
  public Integer call() throws Exception {
    options.validate();
    Logging.configure(options.logLevel, options.logFormat, options.logFile);
    if (!options.ignoredFlags().isEmpty()) {
      log.info("Accepted for vLLM compatibility, no effect here: {}", String.join(" ", options.ignoredFlags()));
    }
    ModelLoader.Loaded loaded = loader.load(options);
    Server server = Server.start(options, loaded.engine(), loaded.model());
    Thread shutdown = new Thread(() -> {
      log.info("Shutting down");
      server.close();
      try {
        loaded.resources().close();
      } catch (Exception e) {
        log.warn("Closing the engine failed: {}", e.toString());
      }
    }, "barista-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdown);
    server.awaitClosed();
    return 0;
  }
}
