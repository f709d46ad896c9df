package dev.performer.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The kernels' thread team: every index once, failures rethrown, nesting and concurrent callers serial. */
class TeamTest {

    @Test
    void runsEveryIndexExactlyOnceOverManyLoops() {
        try (Team team = new Team(3, "test-team")) {
            for (int n : new int[]{1, 2, 3, 7, 64, 1000}) {
                for (int rep = 0; rep < 200; rep++) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    team.run(n, hits::incrementAndGet);
                    for (int i = 0; i < n; i++) assertEquals(1, hits.get(i), "n " + n + " index " + i);
                }
            }
        }
    }

    @Test
    void usesMoreThanTheCallerWhenLoopsAreLong() {
        try (Team team = new Team(2, "test-team")) {
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            // 2 indices of ~20 ms each: the worker takes one (it parks after SPIN_NANOS and is woken)
            for (int rep = 0; rep < 5 && seen.size() < 2; rep++)
                team.run(2, i -> {
                    seen.add(Thread.currentThread());
                    long end = System.nanoTime() + 20_000_000L;
                    while (System.nanoTime() < end) Thread.onSpinWait();
                });
            assertEquals(2, seen.size(), "the caller and the worker both ran an index");
        }
    }

    @Test
    void rethrowsTheFirstFailureAfterAllIndicesRan() {
        try (Team team = new Team(2, "test-team")) {
            AtomicIntegerArray hits = new AtomicIntegerArray(50);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> team.run(50, i -> {
                hits.incrementAndGet(i);
                if (i == 17) throw new IllegalStateException("index 17");
            }));
            assertEquals("index 17", e.getMessage());
            for (int i = 0; i < 50; i++) assertEquals(1, hits.get(i));
            // the team still works afterwards
            AtomicIntegerArray again = new AtomicIntegerArray(10);
            team.run(10, again::incrementAndGet);
            for (int i = 0; i < 10; i++) assertEquals(1, again.get(i));
        }
    }

    @Test
    void nestedLoopsRunSeriallyOnTheirCaller() {
        try (Team team = new Team(2, "test-team")) {
            int[][] inner = new int[8][16];
            team.run(8, i -> {
                assertFalse(team.available(), "inside a loop the team is busy");
                Thread t = Thread.currentThread();
                team.run(16, j -> {
                    assertEquals(t, Thread.currentThread(), "a nested loop stays on its caller");
                    inner[i][j]++;
                });
            });
            for (int[] row : inner) assertArrayEquals(new int[]{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, row);
            assertTrue(team.available());
        }
    }

    @Test
    void concurrentCallersEachGetAllTheirIndices() throws InterruptedException {
        try (Team team = new Team(2, "test-team")) {
            int callers = 4, loops = 300, n = 33;
            AtomicIntegerArray hits = new AtomicIntegerArray(callers * n);
            Thread[] ts = new Thread[callers];
            for (int c = 0; c < callers; c++) {
                final int base = c * n;
                ts[c] = new Thread(() -> {
                    for (int rep = 0; rep < loops; rep++) team.run(n, i -> hits.incrementAndGet(base + i));
                });
                ts[c].start();
            }
            for (Thread t : ts) t.join();
            for (int i = 0; i < callers * n; i++) assertEquals(loops, hits.get(i), "index " + i);
        }
    }

    @Test
    void aClosedOrSingleTeamRunsOnTheCaller() {
        Team one = new Team(1, "test-team");
        assertFalse(one.available());
        Thread me = Thread.currentThread();
        one.run(5, i -> assertEquals(me, Thread.currentThread()));
        Team two = new Team(2, "test-team");
        two.close();
        assertFalse(two.available());
        two.run(5, i -> assertEquals(me, Thread.currentThread()));
        assertThrows(IllegalArgumentException.class, () -> new Team(0, "test-team"));
    }

    // ------------------------------------------------------------------ phases

    /**
     * Every (phase, part) once; no part starts phase p before every part has finished phase p − 1, and
     * none runs ahead of the others by a phase; part j runs on one thread in all phases and calls.
     */
    @Test
    void phasesRunInOrderWithEachPartOnItsOwnThread() {
        try (Team team = new Team(2, "test-team")) {
            for (int parts : new int[]{2, 3, 5}) {
                int phases = 9;
                Thread[] owner = new Thread[parts];
                Set<Thread> threads = ConcurrentHashMap.newKeySet();
                AtomicInteger violations = new AtomicInteger();
                for (int rep = 0; rep < 300; rep++) {
                    AtomicIntegerArray done = new AtomicIntegerArray(parts); // phases finished by part j
                    AtomicIntegerArray hits = new AtomicIntegerArray(phases * parts);
                    Thread[] ran = new Thread[parts];
                    team.phases(parts, phases, (ph, j) -> {
                        hits.incrementAndGet(ph * parts + j);
                        for (int o = 0; o < parts; o++)
                            if (done.get(o) < ph || done.get(o) > ph + 1) violations.incrementAndGet();
                        Thread t = Thread.currentThread();
                        if (ran[j] != null && ran[j] != t) violations.incrementAndGet();
                        ran[j] = t;
                        busy(2_000);                             // a few microseconds, as a decoding phase
                        done.incrementAndGet(j);
                    });
                    for (int i = 0; i < phases * parts; i++) assertEquals(1, hits.get(i), "parts " + parts);
                    for (int j = 0; j < parts; j++) {
                        if (owner[j] == null) owner[j] = ran[j];
                        assertEquals(owner[j], ran[j], "part " + j + " moved to another thread");
                        threads.add(ran[j]);
                    }
                }
                assertEquals(0, violations.get(), "parts " + parts + ": phases overlapped or parts moved");
                assertEquals(2, threads.size(), "parts " + parts + ": the caller and the worker both ran parts");
            }
        }
    }

    /** A failing part: the first failure is rethrown, the later phases skipped, nobody left waiting. */
    @Test
    void aFailingPhaseIsRethrownAndTheTeamGoesOn() {
        try (Team team = new Team(2, "test-team")) {
            AtomicIntegerArray hits = new AtomicIntegerArray(6 * 2);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> team.phases(2, 6, (ph, j) -> {
                hits.incrementAndGet(ph * 2 + j);
                if (ph == 2 && j == 1) throw new IllegalStateException("phase 2 part 1");
            }));
            assertEquals("phase 2 part 1", e.getMessage());
            for (int i = 0; i < 2 * 2; i++) assertEquals(1, hits.get(i), "phases 0-1 ran, index " + i);
            assertEquals(1, hits.get(2 * 2 + 1), "the failing part ran once");
            // the other part of the failing phase runs or not: a thread skips what remains once it sees
            // the failure, and the caller may see it before its own part of that phase starts
            assertTrue(hits.get(2 * 2) <= 1, "phase 2 part 0 ran at most once");
            for (int i = 3 * 2; i < 6 * 2; i++) assertEquals(0, hits.get(i), "phases 3-5 skipped, index " + i);
            AtomicIntegerArray again = new AtomicIntegerArray(4);
            team.phases(2, 2, (ph, j) -> again.incrementAndGet(ph * 2 + j));
            for (int i = 0; i < 4; i++) assertEquals(1, again.get(i));
        }
    }

    /** Phases started from inside a loop, on one thread, or on a closed team run serially on the caller. */
    @Test
    void nestedOrSingleThreadPhasesRunSeriallyInOrder() {
        Thread me = Thread.currentThread();
        try (Team one = new Team(1, "test-team")) {
            StringBuilder order = new StringBuilder();
            one.phases(2, 3, (ph, j) -> {
                assertEquals(me, Thread.currentThread());
                order.append(ph).append(j).append(' ');
            });
            assertEquals("00 01 10 11 20 21 ", order.toString());
        }
        try (Team two = new Team(2, "test-team")) {
            AtomicIntegerArray hits = new AtomicIntegerArray(2 * 2 * 3);
            two.run(2, i -> {
                Thread t = Thread.currentThread();
                two.phases(2, 3, (ph, j) -> {
                    assertEquals(t, Thread.currentThread(), "nested phases stay on the loop's thread");
                    hits.incrementAndGet(i * 6 + ph * 2 + j);
                });
            });
            for (int i = 0; i < 12; i++) assertEquals(1, hits.get(i));
        }
    }

    private static void busy(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) Thread.onSpinWait();
    }
}
