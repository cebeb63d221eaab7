package barista.scheduler;

import barista.engine.sampling.TokenMask;
import java.nio.LongBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The mask of a constrained row scheduled before its previous token was known (asynchronous scheduling): the
 * forward pass does not need it, only the sampler, which waits here until the engine thread has applied the step
 * before, advanced the constraint and {@link #complete completed} it. A step abandoned by the engine's stop (its
 * thread interrupted) gets every token allowed: its sample is never applied.
 */
final class DeferredMask implements TokenMask {
  private final CompletableFuture<TokenMask> mask = new CompletableFuture<>();

  void complete(TokenMask m) {
    mask.complete(m);
  }

  /** For a row whose request ended at the token before: what it samples is discarded. */
  void completeDiscarded() {
    mask.complete(DeferredMask::allowAll);
  }

  @Override
  public void writeWords(LongBuffer dst, int words) {
    TokenMask m;
    try {
      m = mask.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      m = DeferredMask::allowAll;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
    m.writeWords(dst, words);
  }

  private static void allowAll(LongBuffer dst, int words) {
    for (int w = 0; w < words; w++) dst.put(-1L);
  }
}
