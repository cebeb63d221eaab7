package barista.server;

import barista.config.ServeOptions;
import barista.server.ops.Logging;
import java.nio.channels.ServerSocketChannel;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code barista serve}: check the flags, bind the listen address (before the slow part, so a busy port fails at
 * once), load the model, start the server, serve until SIGTERM (exit 0) or until the engine dies (exit 1), then shut
 * down gracefully.
 */
@Command(name = "serve")
public final class ServeCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  @Mixin
  ServeOptions options;

  private final ServedModelLoader loader;

  /** Picocli's constructor: serves the real engine. */
  public ServeCommand() {
    this(new EngineModelLoader());
  }

  public ServeCommand(ServedModelLoader loader) {
    this.loader = loader;
  }

  @Override
  public Integer call() throws Exception {
    options.validate();
    Logging.configure(options.logLevel, options.logFormat, options.logFile);
    if (!options.ignoredFlags().isEmpty()) {
      log.info("Accepted for vLLM compatibility, no effect here: {} (docs/vllm-differences.md)",
          String.join(", ", options.ignoredFlags()));
    }
    ServerSocketChannel listening = ListenAddress.reserve(options.host, options.port);
    ServedModelLoader.Loaded loaded;
    Server server;
    try {
      loaded = loader.load(options);
    } catch (Exception | Error e) {
      listening.close();
      throw e;
    }
    try {
      server = Server.start(options, loaded.engine(), loaded.model(), listening, true);
    } catch (Exception | Error e) {
      listening.close();
      loaded.resources().close();
      throw e;
    }
    Runnable closeEngine = () -> {
      try {
        loaded.resources().close();
      } catch (Exception e) {
        log.warn("Closing the engine failed: {}", e.toString());
      }
    };
    // The fallback for an exit that is not a signal handled below (System.exit elsewhere, SIGHUP).
    Thread hook = new Thread(() -> {
      log.info("Shutting down");
      server.close();
      closeEngine.run();
    }, "barista-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    StopSignals.onFirst(server::close);
    server.awaitClosed();
    int exitCode = server.engineDeath() == null ? 0 : 1; // a dead engine: let the service manager restart us
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      return exitCode; // the hook closed the server and closes the engine
    }
    closeEngine.run();
    return exitCode;
  }
}
