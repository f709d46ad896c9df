package dev.performer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingLogTest {

    static TrainingLog.Row row(int step, String split, double elapsed) {
        return new TrainingLog.Row(step, split, 1, 0, 1, 0, 0, 0, elapsed);
    }

    @Test
    void trainingSecondsLeaveOutEvaluationsAndCarryOverAResume() {
        // an evaluation before step 1 (2 s), steps of 1 s, an evaluation of 3 s after step 2, a resume after step 3
        // whose clock restarts at 0 (step 4 written at 1.5 s of the new clock)
        List<TrainingLog.Row> rows = List.of(row(0, "valid", 2), row(1, "train", 3), row(2, "train", 4),
                row(2, "valid", 7), row(3, "train", 8), row(4, "train", 1.5), row(4, "valid", 2.5));
        // hand-computed: 0 | 1 | 2 | 2 (eval) | 3 | 3 + 1.5 | 4.5 (eval)
        assertArrayEquals(new double[]{0, 1, 2, 2, 3, 4.5, 4.5}, TrainingLog.trainingSeconds(rows), 1e-12);
    }
}
