package barista.server.endpoints;

import barista.engine.constraint.Grammar;
import barista.engine.sampling.InvalidSamplingParamException;
import barista.engine.sampling.SamplingParams;
import barista.server.ServerContext;
import barista.server.http.ApiException;
import barista.server.http.Exchange;
import barista.server.openai.StructuredOutput;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Steps every model endpoint takes: log the body if allowed, resolve the model name, check token ids and params. */
final class Requests {
  private static final Logger log = LoggerFactory.getLogger(Requests.class);

  private Requests() {}

  static ObjectNode body(Exchange exchange, ServerContext server) {
    ObjectNode body = exchange.jsonBody();
    if (server.options().logRequestBodies) log.info("Request {} {}: {}", exchange.request().method(), exchange.path(), body);
    return body;
  }

  static void logUnknown(Exchange exchange, List<String> unknownFields) {
    if (!unknownFields.isEmpty()) log.debug("{} ignores unknown fields {}", exchange.path(), unknownFields);
  }

  /** The served name a request asked for (the first one when it named none); 404 for any other. */
  static String modelName(ServerContext server, String requested) {
    if (requested == null) return server.defaultModelName();
    if (server.model().servedNames().contains(requested)) return requested;
    throw ApiException.notFound("The model `" + requested + "` does not exist.");
  }

  static int[] checkTokenIds(int[] ids, ServerContext server, String field) {
    int vocab = server.model().vocabSize();
    for (int id : ids) {
      if (id < 0 || id >= vocab) {
        throw ApiException.badRequest(field + " has token id " + id + " outside the vocabulary [0, " + vocab + ")",
            field);
      }
    }
    return ids;
  }

  /**
   * Runs {@code then} with the request's grammar (null when it has no constraint): at once when the grammar is
   * cached, else on the event loop once the compiler threads have made it. Errors after this returns are sent
   * as the response.
   */
  static void withGrammar(Exchange exchange, ServerContext server, StructuredOutput constraint,
      java.util.function.Consumer<Grammar> then) {
    if (constraint == null) {
      then.accept(null);
      return;
    }
    java.util.concurrent.CompletableFuture<Grammar> grammar = server.constraints().grammar(constraint, server.model());
    if (grammar.isDone()) {
      then.accept(join(grammar));
      return;
    }
    io.netty.channel.EventLoop loop = exchange.context().channel().eventLoop();
    grammar.whenComplete((g, e) -> loop.execute(() -> {
      try {
        then.accept(join(grammar));
      } catch (ApiException error) {
        if (!exchange.isDone() && !exchange.isStreaming()) exchange.sendError(error);
      } catch (RuntimeException bug) {
        log.error("Bug while serving {}", exchange.path(), bug);
        if (!exchange.isDone() && !exchange.isStreaming()) {
          exchange.sendError(ApiException.internal("Internal error: " + bug));
        }
      }
    }));
  }

  private static Grammar join(java.util.concurrent.CompletableFuture<Grammar> grammar) {
    try {
      return grammar.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException r) throw r;
      throw e;
    }
  }

  static SamplingParams validated(SamplingParams.Builder params) {
    try {
      return params.build().validate();
    } catch (InvalidSamplingParamException e) {
      throw ApiException.badRequest(e.getMessage(), e.field());
    }
  }
}
