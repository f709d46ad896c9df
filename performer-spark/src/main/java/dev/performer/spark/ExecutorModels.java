package dev.performer.spark;

import dev.performer.kernel.Backend;
import dev.performer.kernel.Kernels;
import dev.performer.model.PerformerModel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.TaskContext;

/**
 * The models of one executor JVM, kept between tasks: a task borrows a model of the architecture
 * it needs (built at most once per concurrent task slot, never per task or per row), gives it the
 * state of its broadcast when the model holds another one, and returns it when the task ends.
 * Each model computes with its own kernels, as many threads as the task's CPUs
 * ({@code spark.task.cpus}).
 */
final class ExecutorModels {

    private ExecutorModels() {}

    /** A pooled model, its kernels and the version of the state it holds. */
    private static final class Slot {
        final PerformerModel model;
        final Kernels kernels;
        final String key;
        long version;

        Slot(PerformerModel model, Kernels kernels, String key, long version) {
            this.model = model;
            this.kernels = kernels;
            this.key = key;
            this.version = version;
        }
    }

    /** One borrowing of a pooled model; closing it (once, or again: a no-op) returns the model. */
    static final class Lease implements AutoCloseable {
        final PerformerModel model;
        private final Slot slot;
        private boolean closed;

        private Lease(Slot slot) {
            this.slot = slot;
            this.model = slot.model;
        }

        /** The parameters were changed in the task (local SGD): the next borrower reloads them. */
        void dirty() { slot.version = -1; }

        @Override public synchronized void close() {
            if (closed) return;
            closed = true;
            FREE.computeIfAbsent(slot.key, k -> new ConcurrentLinkedDeque<>()).push(slot);
        }
    }

    private static final Map<String, ConcurrentLinkedDeque<Slot>> FREE = new ConcurrentHashMap<>();
    private static final AtomicLong BUILT = new AtomicLong(), LOADED = new AtomicLong();

    /**
     * A model holding state (version: the broadcast's id; equal versions hold equal states), for
     * the current task; returned to the pool by close(), and at the latest when the task ends.
     */
    static Lease borrow(ModelState state, long version) {
        TaskContext tc = TaskContext.get();
        int threads = tc == null ? 1 : Math.max(1, tc.cpus());
        String key = threads + "|" + state.key();
        Slot s = FREE.computeIfAbsent(key, k -> new ConcurrentLinkedDeque<>()).poll();
        if (s == null) {
            Kernels k = Kernels.create(Backend.VECTOR, threads);
            s = new Slot(state.build(k), k, key, version);
            BUILT.incrementAndGet();
            LOADED.incrementAndGet();
        } else if (s.version != version) {
            state.loadInto(s.model);
            s.version = version;
            LOADED.incrementAndGet();
        }
        Lease lease = new Lease(s);
        if (tc != null) tc.addTaskCompletionListener((TaskContext c) -> lease.close());
        return lease;
    }

    /** Models built in this JVM so far (for tests: at most one per concurrent task slot and architecture). */
    static long built() { return BUILT.get(); }

    /** States copied into a model in this JVM so far. */
    static long loaded() { return LOADED.get(); }
}
