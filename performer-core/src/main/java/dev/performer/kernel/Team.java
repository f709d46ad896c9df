package dev.performer.kernel;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed team for fine-grained parallel loops: the calling thread and {@code size − 1} daemon workers
 * claim the indices of one loop from a shared counter. Workers spin for {@link #SPIN_NANOS} after a loop
 * before they park, and the caller works instead of waiting, so a loop costs a few microseconds of
 * hand-off rather than the tens a fork-join submit and a parked worker's wake-up cost here (measured:
 * one decoding step of 2 sequences took 117 µs on a fork-join pool against 42 µs for one sequence
 * alone). A loop started from inside a loop, or while another thread's loop runs, runs serially on
 * its caller: results never depend on that, as each index writes only its own part.
 */
final class Team implements AutoCloseable {
    /** How long an idle worker spins for the next loop before it parks (a decoding step is ~20-100 µs). */
    static final long SPIN_NANOS = 200_000;

    /** One loop: its body, its index count, the next index to claim and the indices not yet finished. */
    private static final class Loop {
        final IntConsumer body;
        final int n;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger pending;
        final Thread caller;
        volatile Throwable error;

        Loop(IntConsumer body, int n, Thread caller) {
            this.body = body;
            this.n = n;
            this.pending = new AtomicInteger(n);
            this.caller = caller;
        }

        /** Claims and runs indices until none are left; the thread finishing the last one wakes the caller. */
        void work() {
            for (int i; (i = next.getAndIncrement()) < n; ) {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    if (error == null) error = t;
                }
                if (pending.decrementAndGet() == 0 && Thread.currentThread() != caller) LockSupport.unpark(caller);
            }
        }
    }

    private final Thread[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile Loop current;
    private volatile boolean closed;
    private final boolean[] parked;           // written by worker w, read by the publisher (volatile fences below)
    private final AtomicInteger parkedCount = new AtomicInteger();

    /** A team of {@code size} threads: this caller and size − 1 workers (none for size 1). */
    Team(int size, String name) {
        if (size < 1) throw new IllegalArgumentException("a team needs at least 1 thread, got " + size);
        this.workers = new Thread[size - 1];
        this.parked = new boolean[size - 1];
        for (int w = 0; w < workers.length; w++) {
            final int id = w;
            workers[w] = new Thread(() -> idle(id), name + "-" + (w + 1));
            workers[w].setDaemon(true);
            workers[w].start();
        }
    }

    /** Threads that run a loop: the caller and the workers. */
    int size() { return workers.length + 1; }

    /** True when a loop started now from this thread would run in parallel. */
    boolean available() {
        if (workers.length == 0 || closed || busy.get()) return false;
        Thread t = Thread.currentThread();
        for (Thread w : workers) if (w == t) return false;
        return true;
    }

    /** Runs body(0) … body(n − 1), in parallel when {@link #available()}; rethrows the first failure. */
    void run(int n, IntConsumer body) {
        if (n <= 0) return;
        if (n == 1 || !available() || !busy.compareAndSet(false, true)) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        Loop loop = new Loop(body, n, Thread.currentThread());
        try {
            current = loop;
            if (parkedCount.get() > 0)
                for (int w = 0; w < workers.length; w++) if (parked[w]) LockSupport.unpark(workers[w]);
            loop.work();
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (loop.pending.get() > 0) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 1_000_000L);
            }
        } finally {
            busy.set(false);
        }
        Throwable e = loop.error;
        if (e instanceof RuntimeException r) throw r;
        if (e instanceof Error err) throw err;
        if (e != null) throw new IllegalStateException(e);
    }

    /** A worker: waits for each new loop (spinning, then parked), works on it, waits again. */
    private void idle(int id) {
        Loop seen = null;
        while (!closed) {
            Loop loop = current;
            if (loop != seen) {
                seen = loop;
                loop.work();
                continue;
            }
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while ((loop = current) == seen && !closed && System.nanoTime() < spinUntil) Thread.onSpinWait();
            if (loop != seen || closed) continue;
            parked[id] = true;
            parkedCount.incrementAndGet();            // a full fence: the publisher sees parked[id] before we recheck
            if (current == seen && !closed) LockSupport.park(this);
            parked[id] = false;
            parkedCount.decrementAndGet();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
