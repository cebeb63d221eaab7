package barista.server.generation;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The generation sessions in flight, so a graceful shutdown can wait for them and then abort the rest; once
 * draining, new sessions are refused (requests on keep-alive connections opened before the shutdown).
 */
public final class ActiveSessions {
  private final Set<GenerationSession> sessions = ConcurrentHashMap.newKeySet();
  private volatile boolean draining;

  /** From now on new generation requests get 503: the server is shutting down. */
  public void startDraining() {
    draining = true;
  }

  public boolean draining() {
    return draining;
  }

  void add(GenerationSession session) {
    sessions.add(session);
  }

  void remove(GenerationSession session) {
    synchronized (this) {
      sessions.remove(session);
      notifyAll();
    }
  }

  public int size() {
    return sessions.size();
  }

  /** Waits until no session is left or the deadline passes; returns whether none is left. */
  public synchronized boolean awaitEmpty(long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (!sessions.isEmpty()) {
      long left = deadline - System.currentTimeMillis();
      if (left <= 0) return false;
      wait(left);
    }
    return true;
  }

  /** Ends every session with finish_reason "abort" (each on its own event loop). */
  public void abortAll() {
    for (GenerationSession session : sessions) session.abortSoon();
  }
}
