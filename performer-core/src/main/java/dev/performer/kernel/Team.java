package dev.performer.kernel;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A fixed team for fine-grained parallel loops: the calling thread and {@code size − 1} daemon
 * workers claim the indices of one loop from a shared counter; or they run the parts of a sequence
 * of phases, each part on a fixed thread, with a spinning barrier between phases ({@link #phases}).
 * Workers spin for {@link #SPIN_NANOS} after a job before they park, and the caller works instead of
 * waiting, so a loop costs a few microseconds of hand-off rather than the tens a fork-join submit and
 * a parked worker's wake-up cost here (measured: one decoding step of 2 sequences took 117 µs on a
 * fork-join pool against 42 µs for one sequence alone). A job started from inside a job, or while
 * another thread's job runs, runs serially on its caller: results never depend on that, as each
 * index or part writes only its own data.
 */
final class Team implements AutoCloseable {
    /** How long an idle worker spins for the next loop before it parks (a decoding step is ~20-100 µs). */
    static final long SPIN_NANOS = 200_000;

    /** What the team works on: a loop, or phases; thread 0 is the caller, thread w + 1 worker w. */
    private abstract static class Job {
        abstract void work(int thread);
    }

    /** One loop: its body, its index count, the next index to claim and the indices not yet finished. */
    private static final class Loop extends Job {
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
        @Override
        void work(int thread) {
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

    /**
     * Phases run by a fixed set of threads: thread t runs parts t, t + threads, … of every phase, then
     * arrives at the barrier (one counter over all phases: phase p is done when it reaches
     * (p + 1)·threads). After a failure the remaining bodies are skipped but every thread still
     * arrives, so no thread waits forever.
     */
    private static final class Region extends Job {
        final Kernels.PhaseBody body;
        final int parts, phases, threads;
        final AtomicInteger arrived = new AtomicInteger();
        volatile Throwable error;

        Region(Kernels.PhaseBody body, int parts, int phases, int threads) {
            this.body = body;
            this.parts = parts;
            this.phases = phases;
            this.threads = threads;
        }

        @Override
        void work(int thread) {
            if (thread >= threads) return;
            for (int p = 0; p < phases; p++) {
                for (int j = thread; j < parts && error == null; j += threads) {
                    try {
                        body.run(p, j);
                    } catch (Throwable t) {
                        if (error == null) error = t;
                    }
                }
                arrived.incrementAndGet();
                awaitArrivals((p + 1) * threads);
            }
        }

        /**
         * Spins until the counter reaches target (a phase takes microseconds), pausing in the loop,
         * and yields once a wait runs to seconds. Spinning without PAUSE for the first 16K turns was
         * tried: interleaved over three JVMs, one sequence split by heads took 43.6-49.6 ms per 2,000
         * tokens against 47.3-51.8 with PAUSE, and 8 sequences 275-278 against 258-269: noise or
         * worse, not kept.
         */
        void awaitArrivals(int target) {
            for (long spins = 0; arrived.get() < target; spins++) {
                Thread.onSpinWait();
                if (spins > YIELD_SPINS) Thread.yield();
            }
        }
    }

    /** Barrier spins (with PAUSE, tens of nanoseconds each) before a waiting thread also yields. */
    private static final long YIELD_SPINS = 1 << 24;

    private final Thread[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile Job current;
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
            publish(loop);
            loop.work(0);
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (loop.pending.get() > 0) {
                if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 1_000_000L);
            }
        } finally {
            busy.set(false);
        }
        rethrow(loop.error);
    }

    /** Makes job the current one and wakes the parked workers. */
    private void publish(Job job) {
        current = job;
        if (parkedCount.get() > 0)
            for (int w = 0; w < workers.length; w++) if (parked[w]) LockSupport.unpark(workers[w]);
    }

    private static void rethrow(Throwable e) {
        if (e instanceof RuntimeException r) throw r;
        if (e instanceof Error err) throw err;
        if (e != null) throw new IllegalStateException(e);
    }

    /**
     * Runs body(phase, part) for all phases and parts (see {@link Kernels#phases}): in parallel when
     * {@link #available()}, thread t (0 the caller, w + 1 worker w) taking parts t, t + T, …; serially
     * otherwise. Rethrows the first failure.
     */
    void phases(int parts, int phases, Kernels.PhaseBody body) {
        if (parts <= 0 || phases <= 0) return;
        if (parts == 1 || !available() || !busy.compareAndSet(false, true)) {
            for (int p = 0; p < phases; p++)
                for (int j = 0; j < parts; j++) body.run(p, j);
            return;
        }
        Region region = new Region(body, parts, phases, Math.min(parts, size()));
        try {
            publish(region);
            region.work(0);                            // returns when every thread has passed the last phase
        } finally {
            busy.set(false);
        }
        rethrow(region.error);
    }

    /** A worker: waits for each new job (spinning, then parked), works on it, waits again. */
    private void idle(int id) {
        Job seen = null;
        while (!closed) {
            Job loop = current;
            if (loop != seen) {
                seen = loop;
                loop.work(id + 1);
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
