package barista.server.ops;

import barista.config.ServeOptions.LogFormat;
import barista.config.ServeOptions.LogLevel;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeAndTimeBasedRollingPolicy;
import ch.qos.logback.core.util.FileSize;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * Applies --log-level, --log-format and --log-file on top of logback.xml: the level goes on the root logger, json
 * swaps the encoder of every stream appender logback.xml attached (the stderr one that journald captures), and a
 * file adds a rolling appender beside them.
 */
public final class Logging {
  /** The same layout as logback.xml's console appender, for the file appender in text mode. */
  static final String TEXT_PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%logger{0}] %msg%n";
  static final String FILE_APPENDER = "FILE";

  private Logging() {}

  public static void configure(LogLevel level, LogFormat format, Path file) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(logback(level));
    if (format == LogFormat.json) {
      for (var it = root.iteratorForAppenders(); it.hasNext(); ) {
        if (it.next() instanceof OutputStreamAppender<ILoggingEvent> stream) {
          stream.stop();
          stream.setEncoder(encoder(context, format));
          stream.start();
        }
      }
    }
    if (file != null) {
      Appender<ILoggingEvent> previous = root.getAppender(FILE_APPENDER);
      if (previous != null) root.detachAppender(previous);
      root.addAppender(rollingFile(context, file, format));
    }
  }

  static Level logback(LogLevel level) {
    return switch (level) {
      case critical, error -> Level.ERROR;
      case warning -> Level.WARN;
      case info -> Level.INFO;
      case debug -> Level.DEBUG;
      case trace -> Level.TRACE;
    };
  }

  /** Rolls daily and at 100 MB into FILE.yyyy-MM-dd.N.gz; keeps 7 days and at most 1 GB. */
  private static Appender<ILoggingEvent> rollingFile(LoggerContext context, Path file, LogFormat format) {
    RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
    appender.setContext(context);
    appender.setName(FILE_APPENDER);
    appender.setFile(file.toString());
    SizeAndTimeBasedRollingPolicy<ILoggingEvent> policy = new SizeAndTimeBasedRollingPolicy<>();
    policy.setContext(context);
    policy.setParent(appender);
    policy.setFileNamePattern(file + ".%d{yyyy-MM-dd}.%i.gz");
    policy.setMaxFileSize(FileSize.valueOf("100MB"));
    policy.setMaxHistory(7);
    policy.setTotalSizeCap(FileSize.valueOf("1GB"));
    policy.start();
    appender.setRollingPolicy(policy);
    appender.setEncoder(encoder(context, format));
    appender.start();
    if (!appender.isStarted()) throw new IllegalArgumentException("--log-file: cannot write " + file);
    return appender;
  }

  private static Encoder<ILoggingEvent> encoder(LoggerContext context, LogFormat format) {
    if (format == LogFormat.json) {
      JsonEncoder json = new JsonEncoder();
      json.setContext(context);
      // The message as read ("disk sda is slow", not "disk {} is slow"), without logback's per-line context blob.
      json.setWithFormattedMessage(true);
      json.setWithMessage(false);
      json.setWithArguments(false);
      json.setWithContext(false);
      json.setWithSequenceNumber(false);
      json.start();
      return json;
    }
    PatternLayoutEncoder text = new PatternLayoutEncoder();
    text.setContext(context);
    text.setPattern(TEXT_PATTERN);
    text.start();
    return text;
  }
}
